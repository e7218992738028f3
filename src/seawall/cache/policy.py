"""Cache policy: categories, TTLs, per-request overrides, admission.

A category says how long an answer stays good:

- ``long``: stable knowledge lookups (definitions, conversions): TTL in days.
- ``short``: answers that age (prices, news, status): TTL in minutes or hours.
- ``none``: creative or per-user output: never cached.

Config sets a category per alias; a request may override it with the ``x-seawall-cache``
header (``long``, ``short``, ``none``, ``refresh``) within what its key allows: making
caching *less* aggressive (``none``, or ``short`` on a ``long`` alias) is always allowed;
anything else (``long`` on a ``short`` alias, caching a ``none`` alias, ``refresh``) must be
in the alias's ``allow_overrides`` list. ``refresh`` skips the read and rewrites the entry.

After its TTL an entry is kept ``stale_for_s`` more seconds; only the fallback cascade's
stale level reads it then, with its age reported.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field


Scope = Literal["key", "team", "department", "global"]


class Category(str, Enum):
    LONG = "long"
    SHORT = "short"
    NONE = "none"


class Override(str, Enum):
    LONG = "long"
    SHORT = "short"
    NONE = "none"
    REFRESH = "refresh"


_RANK = {Category.NONE: 0, Category.SHORT: 1, Category.LONG: 2}


class SemanticSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Cosine threshold on the conversation embedding; None: the one calibrated for the configured
    # embedder (embedder.ALIGNED with the alignment gate, else embedder.THRESHOLDS; docs/caching.md).
    # The verifier then checks every candidate above it.
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    verify: bool = True
    # The token-alignment gate (vector/align.py): a candidate is served only if every content word
    # of either prompt has a close token on the other side, on average (the weaker direction at or
    # above `align_threshold`; None: the floor calibrated for the embedder). On where one is
    # calibrated (the default student), with the rules deciding; off: the cosine alone decides
    # with the stricter embedder.THRESHOLDS.
    align: bool = True
    align_threshold: float | None = Field(None, ge=0.0, le=1.0)
    # The learned pair judge (vector/judge.py) decides in place of the rules: opt-in, because
    # on a kind of look-alike it was not trained on it served far more than 1 % (docs/caching.md).
    # With it, `threshold` None means the judge's cosine floor, and `judge_threshold` is its
    # probability to serve (None: the calibrated one shipped with its weights; higher is stricter).
    judge: bool = False
    judge_threshold: float | None = Field(None, ge=0.0, le=1.0)
    candidates: int = Field(4, ge=1, le=64)


class RefreshAhead(BaseModel):
    """Refresh a hot entry in the background before it expires, so its readers never see
    the expiry miss. The refresh is a full request through the pipeline on behalf of the
    caller whose hit triggered it: identified, rate-limited, billed and audited like any other."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    window: float = Field(0.1, gt=0.0, lt=1.0)  # when less than this share of the TTL is left...
    min_hits: int = Field(3, ge=1)  # ...and the entry has served at least this many hits here


class AliasCachePolicy(BaseModel):
    """Cache behaviour for one model alias."""

    model_config = ConfigDict(extra="forbid")

    category: Category = Category.SHORT
    # Requests above this temperature are not cached (unless opt_in_any_temperature).
    max_temperature: float = Field(0.3, ge=0.0, le=2.0)
    # A request that sends no temperature (the OpenAI SDK's and LangChain's default): "cache" takes
    # the operator's category as the statement that this alias's answers are reusable; "skip"
    # treats it as the provider default 1.0 (above max_temperature: not cached).
    no_temperature: Literal["cache", "skip"] = "cache"
    opt_in_any_temperature: bool = False
    allow_n_gt_1: bool = False
    admit_on_second_sighting: bool = False
    allow_overrides: list[Override] = Field(default_factory=lambda: [Override.NONE])
    # Whose entries a request may see: the calling key's own (default), its team's, its
    # department's, or everyone's ("global": only for aliases answering shared knowledge).
    scope: Scope = "key"
    semantic: SemanticSettings = Field(default_factory=SemanticSettings)
    refresh_ahead: RefreshAhead = Field(default_factory=RefreshAhead)


class CacheConfig(BaseModel):
    """The ``cache:`` block of the gateway config."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    long_ttl_s: float = Field(7 * 86400, gt=0)
    short_ttl_s: float = Field(3600, gt=0)
    stale_for_s: float = Field(86400, ge=0)
    local_max_entries: int = Field(50_000, ge=1)
    embedding_cache_entries: int = Field(20_000, ge=0)
    embedding_cache_ttl_s: float = Field(86400, gt=0)
    embedder: Literal["onnx-int8", "onnx-int8-l3", "onnx-fp32", "torch", "static"] = "onnx-int8-l3"
    semantic_refresh_s: float = Field(1.0, gt=0)  # how often an instance reads others' semantic entries
    # Without Redis, how often an instance reads the invalidations of the others sharing its SQL
    # database (cache/broadcast.py); 0 turns the log off (a single process needs none).
    invalidation_poll_s: float = Field(1.0, ge=0)
    # Where entries are shared between instances and kept across restarts: auto = the state store
    # when it is Redis, else the SQL database (SQLite embedded, PostgreSQL); state | sql | none.
    shared: Literal["auto", "state", "sql", "none"] = "auto"
    default: AliasCachePolicy = Field(default_factory=AliasCachePolicy)
    aliases: dict[str, AliasCachePolicy] = Field(default_factory=dict)

    def for_alias(self, alias: str) -> AliasCachePolicy:
        return self.aliases.get(alias, self.default)

    def ttl_of(self, category: Category) -> float:
        if category is Category.LONG:
            return self.long_ttl_s
        if category is Category.SHORT:
            return self.short_ttl_s
        return 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the cache stage does for one request."""

    category: Category
    read: bool
    write: bool
    ttl_s: float
    stale_for_s: float
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.read or self.write

    @property
    def skipped(self) -> str | None:
        """The x-seawall-cache value of a request the alias would cache but this one is not
        (its temperature, n > 1, the caller's `none`): the client is told why, not left guessing."""
        if self.active or self.reason not in SKIP_REASONS:
            return None
        return "skip;reason=" + self.reason


# why a request on an alias the operator caches was not cached (docs/caching.md)
SKIP_REASONS = frozenset({"temperature", "n", "override"})


def uncacheable_reason(body: Mapping[str, Any], policy: AliasCachePolicy, kind: str = "chat") -> str | None:
    """Why this request must not be cached (None if it may be). An embedding is a function of
    its input: no sampling, so the temperature rule does not apply."""
    if kind == "embeddings":
        return None
    if body.get("n") not in (None, 1) and not policy.allow_n_gt_1:
        return "n"
    if not policy.opt_in_any_temperature:
        from .keys import temperature_of

        if body.get("temperature") is None:
            return "temperature" if policy.no_temperature == "skip" else None
        if temperature_of(body) > policy.max_temperature:
            return "temperature"
    return None


def is_cacheable(body: Mapping[str, Any], policy: AliasCachePolicy) -> bool:
    """True if the request is deterministic enough to cache under this policy."""
    return uncacheable_reason(body, policy) is None


def decide(
    config: CacheConfig,
    alias: str,
    body: Mapping[str, Any],
    override: str | None = None,
    kind: str = "chat",
) -> Decision:
    """Resolve the alias policy, the request and the ``x-seawall-cache`` override."""
    policy = config.for_alias(alias)
    stale = config.stale_for_s
    if not config.enabled:
        return Decision(Category.NONE, False, False, 0.0, 0.0, "disabled")
    category = policy.category
    refresh = False
    if override:
        try:
            ov = Override(override.strip().lower())
        except ValueError:
            ov = None  # unknown values are ignored, not an error
        if ov is Override.REFRESH:
            refresh = ov in policy.allow_overrides
        elif ov is not None:
            wanted = Category(ov.value)
            if _RANK[wanted] <= _RANK[category] or ov in policy.allow_overrides:
                category = wanted
    if category is Category.NONE:  # the alias's category, or the caller asked for none
        return Decision(category, False, False, 0.0, 0.0,
                        "category none" if policy.category is Category.NONE else "override")
    why = uncacheable_reason(body, policy, kind)
    if why is not None:
        return Decision(category, False, False, 0.0, 0.0, why)
    return Decision(category, not refresh, True, config.ttl_of(category), stale, "refresh" if refresh else "")


def response_cacheable(response: Mapping[str, Any]) -> bool:
    """Never cache an error, a truncated answer or one a guard stopped."""
    if not isinstance(response, Mapping) or "error" in response:
        return False
    data = response.get("data")
    if isinstance(data, list) and response.get("object") == "list":  # embeddings: a vector per input
        return bool(data) and all(isinstance(d, Mapping) and d.get("embedding") is not None for d in data)
    choices = response.get("choices")
    if isinstance(choices, list):  # OpenAI shape
        if not choices:
            return False
        return all(
            isinstance(c, Mapping) and c.get("finish_reason") in ("stop", "tool_calls", "function_call")
            for c in choices
        )
    stop = response.get("stop_reason")  # Anthropic shape
    if stop is not None:
        return stop in ("end_turn", "stop_sequence", "tool_use")
    return False


class SecondSighting:
    """Admit an entry only the second time its key is seen (bounded memory, LRU).

    Keeps one-off prompts from evicting useful entries. The first sighting records the key;
    ``admit`` returns True from the second sighting on.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max = max_keys

    def admit(self, key: str) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return False
