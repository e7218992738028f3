"""The request and result types every stage sees.

The internal lingua franca is the OpenAI wire format: a chat or embeddings body as a dict.
The Anthropic face translates into it at the edge. A result is either a complete
`Completion` or a `Stream` of chat.completion.chunk dicts; both carry `Meta`, the record
of what happened (and the source of the x-seawall-* headers).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import orjson


@dataclass(slots=True)
class Meta:
    request_id: str
    deployment: str | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    usage: dict | None = None
    cost_usd: float | None = None  # from the deployment's price table, set by the admit stage
    extra: dict[str, str] = field(default_factory=dict)  # headers later stages add (cache, cost, ...)
    guard: dict | None = None  # the guard's decisions (kinds, actions, scores; never values), for audit

    def headers(self) -> dict[str, str]:
        h = {
            "x-seawall-request-id": self.request_id,
            "x-seawall-attempts": str(self.attempts),
            "x-seawall-latency-ms": f"{self.latency_ms:.2f}",
        }
        if self.deployment:
            h["x-seawall-deployment"] = self.deployment
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
    raw: bytes | None = None  # the client's body bytes, forwarded untouched when nothing changes
    principal: Any = None
    headers: Any = None  # the client's headers (read-only mapping), for stages that need them
    required_tags: frozenset[str] | None = None  # only deployments carrying all of these may serve (guard)
    cache: str | None = None  # the caller's cache override: the x-seawall-cache header or the library's cache=

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
