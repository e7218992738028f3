"""The request and result types every stage sees.

The internal lingua franca is the OpenAI wire format: a chat or embeddings body as a dict.
The Anthropic face translates into it at the edge. A result is either a complete
`Completion` or a `Stream` of chat.completion.chunk dicts; both carry `Meta`, the record
of what happened (and the source of the x-seawall-* headers).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Protocol

import orjson


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling, as the identify stage found it. `key_id` None means a static key, the
    library, or an open gateway."""

    key_id: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    department_id: str | None = None
    allowed_models: frozenset[str] | None = None  # None: any
    allow_department_header: bool = False
    kind: str = "virtual"  # virtual | static | library | anonymous
    key_hash: str | None = None  # static keys: a short hash that tells them apart
    # what x-seawall-department may name (with allow_department_header): the key's list, else its team's
    allowed_departments: frozenset[str] = frozenset()
    hint: str | None = None  # the key's first characters ("sw-ab…"), for logs: never enough to use
    webhook_url: str | None = None  # the key's default webhook for its async jobs (jobs/service.py)

    @property
    def tenant(self) -> str:
        """The one definition of whose data is whose: the key-level tenant scope used by the
        cache, coalescing, limits and jobs. Each virtual and each static key is its own tenant;
        the library and an open gateway are one tenant each."""
        if self.key_id:
            return "key:" + self.key_id
        if self.key_hash:
            return "static:" + self.key_hash
        return self.kind


class AuditLog(Protocol):
    """Where a feature writes audit records: governance's tamper-evident log, handed over by
    the assembly (so no feature imports govern/). `fields` are the record's columns
    (request_id, key_id, user_id, team_id, department_id, detail, ...)."""

    def record(self, kind: str, outcome: str, status: int, **fields: Any) -> None: ...

    def draft(self, kind: str, **fields: Any) -> Callable[[str, int], None]:
        """The record made now but for its outcome, status and time, given when the returned
        function is called (an MCP call's record is drafted while its upstream works)."""
        ...


@dataclass(slots=True, frozen=True)
class UpstreamLimits:
    """A provider's request rate limit as its answer reported it (OpenAI's x-ratelimit-*-requests
    headers), parsed once by the provider layer: the jobs pacer reads this, never the headers."""

    limit: int | None = None  # requests per minute
    remaining: int | None = None  # requests left before the provider refuses
    reset_s: float | None = None  # seconds until the limit is whole again
    at: float = 0.0  # time.monotonic() when the answer arrived


@dataclass(slots=True)
class Meta:
    """What happened to a request. Features write their typed fields; the header renderer
    (`headers`) and the audit read them, so no feature reads another's header strings."""

    request_id: str
    deployment: str | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    usage: dict | None = None
    cost_usd: float | None = None  # from the deployment's price table, set by the admit stage
    cache: str | None = None  # miss | hit-exact | hit-semantic;score=.. | stale;age=.. | refresh | skip;reason=..
    fallback_level: str | None = None  # retry | deployment | alias | stale | degraded | escalated
    guard_outcome: str | None = None  # pass | masked | flagged | masked,flagged | fail_open | blocked | error
    guard: dict | None = None  # the guard's decisions (kinds, actions, scores; never values), for audit
    extra: dict[str, str] = field(default_factory=dict)  # other headers (rate limits, hedged, ...)
    # the client's own x-request-id: kept beside the gateway's id (audit detail), never used as it,
    # since a client could forge or reuse it
    client_request_id: str | None = None
    upstream_limits: UpstreamLimits | None = None  # the provider's request limit, when it reports one

    def headers(self) -> dict[str, str]:
        h = {
            "x-seawall-request-id": self.request_id,
            "x-seawall-attempts": str(self.attempts),
            "x-seawall-latency-ms": f"{self.latency_ms:.2f}",
        }
        if self.deployment:
            h["x-seawall-deployment"] = self.deployment
        if self.cache is not None:
            h["x-seawall-cache"] = self.cache
        if self.fallback_level is not None:
            h["x-seawall-fallback-level"] = self.fallback_level
        if self.guard_outcome is not None:
            h["x-seawall-guard"] = self.guard_outcome
        if self.cost_usd is not None:
            h["x-seawall-cost-usd"] = f"{self.cost_usd:.6f}"
        if self.extra:
            h.update(self.extra)
        return h


@dataclass(slots=True)
class Request:
    kind: str  # "chat" | "embeddings"
    alias: str
    body: dict
    stream: bool
    meta: Meta
    started: float = field(default_factory=time.perf_counter)
    deadline: float | None = None  # perf_counter time by which the answer must be complete
    route: Any = None  # the alias's Route, set by the route stage
    profile: Any = None  # the alias's compiled AliasProfile (config.py), set by the route stage
    raw: bytes | None = None  # the client's body bytes, forwarded untouched when nothing changes
    principal: Principal | None = None  # set at the edge (HTTP) or by the identify stage
    headers: Any = None  # the client's headers (read-only mapping), for stages that need them
    required_tags: frozenset[str] | None = None  # only deployments carrying all of these may serve (guard)
    cache: str | None = None  # the caller's cache override: the x-seawall-cache header or the library's cache=
    background: bool = False  # the gateway's own request (a cache refresh), not a client's
    # A digest of the client's original content when a stage rewrote the body (the guard's
    # masks and tokens): two requests that differ only in the values behind "<PERSON_1>" look
    # the same afterwards, and must not share stored answers.
    original_digest: str | None = None
    # A job's finishing write: `await commit(result, charge) -> bool` stores the answer, its cost
    # and `charge` (the audit record that charges it) in one statement, True while the job's
    # lease is still held. The audit stage builds its record first and submits it only after a
    # stored commit; an attempt whose answer was not stored is recorded at no cost (its re-run
    # is charged instead). A process killed between the two leaves the charge in the job row,
    # from which the jobs housekeeping writes it (jobs/service.py settle_charges): each stored
    # answer is charged exactly once.
    commit: Callable[["Completion", dict | None], Awaitable[bool]] | None = None

    @property
    def request_id(self) -> str:
        return self.meta.request_id

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()


class Completion:
    """A complete answer. Keeps the upstream bytes so an untouched answer is relayed as is."""

    __slots__ = ("_body", "_raw", "meta")

    def __init__(self, meta: Meta, body: dict | None = None, raw: bytes | None = None) -> None:
        self._body, self._raw, self.meta = body, raw, meta

    @property
    def body(self) -> dict:
        if self._body is None:
            self._body = orjson.loads(self._raw)
        return self._body

    @body.setter
    def body(self, value: dict) -> None:
        self._body, self._raw = value, None  # a stage changed it: re-serialize on the way out

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = orjson.dumps(self._body)
        return self._raw


HEARTBEAT: dict = {}  # sentinel chunk: the upstream is alive but silent; the SSE writer sends a comment


class Stream:
    """An answer arriving in chunks. The first chunk is already in hand when a Stream is
    returned, so everything before it (retries, fallbacks, hedges) stays possible."""

    __slots__ = ("chunks", "meta")

    def __init__(self, chunks: AsyncIterator[dict], meta: Meta) -> None:
        self.chunks, self.meta = chunks, meta

    def __aiter__(self) -> AsyncIterator[dict]:
        return self.chunks

    async def aclose(self) -> None:
        close = getattr(self.chunks, "aclose", None)
        if close is not None:
            await close()


Result = Completion | Stream
