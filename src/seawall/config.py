"""Configuration: one YAML file, validated at start, secrets by ${ENV_VAR} reference.

Errors name the file, the key path and what is wrong, e.g.
    seawall.yaml: models[0].targets[0].provider: unknown provider 'sim-b' (known: sim-a)
Secrets stay references: a `Secret` resolves its variable once, keeps the value private and
shows only `${NAME}` in reprs, dumps and errors.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .cache.policy import AliasCachePolicy, CacheConfig
from .guard.policy import GuardPolicy
from .net.limits import ServerLimits

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """A configuration problem, already phrased for a person: file, key path, what is wrong."""


class Secret:
    """A value that came from the environment (or the file) and must never be shown."""

    __slots__ = ("ref", "_value")

    def __init__(self, ref: str, value: str | None) -> None:
        self.ref = ref
        self._value = value

    @classmethod
    def parse(cls, raw: str) -> "Secret":
        m = _ENV_REF.fullmatch(raw.strip())
        if m:
            name, default = m.group(1), m.group(2)
            return cls("${%s}" % name, os.environ.get(name, default))
        return cls("<inline>", raw)

    def get(self) -> str | None:
        return self._value or None

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.ref})"

    __str__ = __repr__


def _secret(v: Any) -> Secret | None:
    if v is None or isinstance(v, Secret):
        return v
    if not isinstance(v, str):
        raise ValueError("must be a string, e.g. ${MY_API_KEY}")
    return Secret.parse(v)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Price(_Model):
    """USD per one million tokens."""

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cached_input: float | None = Field(None, ge=0)


class Timeouts(_Model):
    """Seconds. `total` is the deadline every retry, hedge and fallback respects."""

    connect: float = Field(5.0, gt=0)
    first_token: float = Field(60.0, gt=0)
    total: float = Field(600.0, gt=0)
    stream_stall: float = Field(60.0, gt=0)


# ---- resilience policies (per alias; see docs/resilience.md) ---------------------------------


class RetryPolicy(_Model):
    max_attempts: int = Field(3, ge=1, le=10)  # upstream attempts per alias, the first included
    backoff_base_s: float = Field(0.1, ge=0)  # full jitter: sleep uniform(0, min(max, base * 2**n))
    backoff_max_s: float = Field(5.0, ge=0)
    max_wait_s: float = Field(30.0, ge=0)  # a longer Retry-After goes to the fallback instead


class BreakerPolicy(_Model):
    enabled: bool = True
    window_s: float = Field(10.0, gt=0)  # sliding window for the failure and slow-call rates
    min_calls: int = Field(10, ge=1)
    failure_rate: float = Field(0.5, gt=0, le=1)
    consecutive_failures: int = Field(5, ge=1)
    slow_call_s: float | None = Field(None, gt=0)  # a call slower than this (total) is slow
    slow_ttft_s: float | None = Field(None, gt=0)  # a stream whose first token took longer is slow
    slow_rate: float = Field(0.8, gt=0, le=1)
    open_s: float = Field(5.0, gt=0)  # first open period; doubles on every re-trip
    open_max_s: float = Field(60.0, gt=0)
    half_open_probes: int = Field(1, ge=1)


class HealthCheckPolicy(_Model):
    interval_s: float = Field(0.0, ge=0)  # 0 = no active checks (the breaker still ejects)
    path: str = "/models"  # GET base_url + path; any 2xx is healthy
    timeout_s: float = Field(2.0, gt=0)
    unhealthy_after: int = Field(2, ge=1)


class BalancePolicy(_Model):
    strategy: Literal["weighted_round_robin", "least_in_flight", "latency"] = "weighted_round_robin"
    home_region: str | None = None  # preferred within a priority; others are spill-over
    health_check: HealthCheckPolicy = Field(default_factory=HealthCheckPolicy)


class HedgePolicy(_Model):
    enabled: bool = False
    delay_s: float | None = Field(None, gt=0)  # fixed delay; None = the alias's observed quantile
    quantile: float = Field(0.95, gt=0, lt=1)  # of latency (or time to first token for streams)
    min_delay_s: float = Field(0.005, ge=0)
    max_extra: int = Field(1, ge=1, le=3)


class DegradedAnswer(_Model):
    mode: Literal["off", "template", "extractive_summary", "keyword_sentiment"] = "off"
    template: str = "The assistant is temporarily unavailable. Your request was received; please try again shortly."
    max_sentences: int = Field(2, ge=1, le=20)


class CoalescePolicy(_Model):
    enabled: bool = True  # identical in-flight requests with temperature 0 (or x-seawall-coalesce: 1)


class BulkheadPolicy(_Model):
    max_concurrency: int | None = Field(None, ge=1)  # per deployment; None = unlimited
    max_queue: int = Field(0, ge=0)
    queue_timeout_s: float = Field(1.0, gt=0)


class BatchPolicy(_Model):
    enabled: bool = False  # embeddings: merge requests to one deployment arriving within max_wait_ms
    max_wait_ms: float = Field(3.0, gt=0, le=100)
    max_inputs: int = Field(256, ge=2)


class RetryBudget(_Model):
    ratio: float = Field(0.2, ge=0, le=10)  # retries at most this share of requests over the window
    min_per_s: float = Field(2.0, ge=0)  # and always this many per second
    window_s: float = Field(10.0, gt=0)


class ResilienceConfig(_Model):
    retry_budget: RetryBudget = Field(default_factory=RetryBudget)
    hedge_budget: float = Field(0.05, ge=0, le=1)  # extra hedged calls at most this share of requests
    events_kept: int = Field(200, ge=10)


ProviderKind = Literal["openai", "azure", "vllm", "tgi", "ollama", "llamacpp", "anthropic"]


class ProviderConfig(_Model):
    name: str = Field(min_length=1)
    kind: ProviderKind = "openai"
    base_url: str
    api_key: Any = None  # Secret after validation
    api_version: str | None = None  # azure
    headers: dict[str, str] = Field(default_factory=dict)
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_connections: int = Field(256, ge=1)
    max_response_bytes: int = Field(64 << 20, ge=1024)  # an upstream body (inflated) or stream, in all
    timeouts: Timeouts | None = None

    _check_key = field_validator("api_key", mode="before")(lambda cls, v: _secret(v))

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _azure(self) -> "ProviderConfig":
        if self.kind == "azure" and not self.api_version:
            raise ValueError("kind azure needs api_version (e.g. 2024-10-21)")
        return self


class Target(_Model):
    """One deployment of an alias: a provider plus the model name at that provider."""

    provider: str
    model: str
    weight: float = Field(1.0, gt=0)
    priority: int = 0  # lower is preferred; higher priorities are spill-over
    region: str | None = None
    tags: list[str] = Field(default_factory=list)
    price: Price = Field(default_factory=Price)
    timeouts: Timeouts | None = None


class ModelAlias(_Model):
    """The public model name clients ask for, and where it may go."""

    name: str = Field(min_length=1)
    kind: Literal["chat", "embeddings"] = "chat"
    targets: list[Target] = Field(min_length=1)
    timeouts: Timeouts | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    balance: BalancePolicy = Field(default_factory=BalancePolicy)
    hedge: HedgePolicy = Field(default_factory=HedgePolicy)
    fallbacks: list[str] = Field(default_factory=list)  # other aliases, tried in order
    context_fallbacks: list[str] = Field(default_factory=list)  # larger-context aliases
    degraded: DegradedAnswer = Field(default_factory=DegradedAnswer)
    escalate: bool = False  # last resort: a 503 with a ticket id recorded for human review
    coalesce: CoalescePolicy = Field(default_factory=CoalescePolicy)
    bulkhead: BulkheadPolicy = Field(default_factory=BulkheadPolicy)
    batch: BatchPolicy = Field(default_factory=BatchPolicy)
    guard: GuardPolicy | None = None  # fields set here override the top-level guard (docs/guardrails.md)
    cache: AliasCachePolicy | None = None  # fields set here override cache.default (docs/caching.md)


class ServerConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    heartbeat_s: float = Field(15.0, gt=0)
    access_log: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    api_keys: list[Any] = Field(default_factory=list)  # static client keys (Secrets); empty = open
    limits: ServerLimits = Field(default_factory=ServerLimits)  # timeouts and connection caps (net.limits)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if not isinstance(v, list):
            raise ValueError("must be a list of key references, e.g. [${APP_KEY}]")
        return [_secret(x) for x in v]


class StoreConfig(_Model):
    state: str = "memory"  # or redis://host:6379/0
    sql: str = "sqlite:///seawall.db"  # or postgresql://user@host/db
    prefix: str = "seawall:"  # state store key prefix (several deployments can share one Redis)
    state_timeout_s: float = Field(0.05, gt=0)  # every state call; a hung Redis never hangs a request
    sql_timeout_s: float = Field(5.0, gt=0)
    breaker_failures: int = Field(3, ge=1)  # consecutive failures that open a store's breaker
    breaker_reset_s: float = Field(1.0, gt=0)
    migrate: bool = True  # run migrations at start (else: seawall db upgrade)


class AuditConfig(_Model):
    enabled: bool = True
    content: Literal["none", "hashed", "redacted", "full"] = "hashed"  # prompt/response storage
    queue_size: int = Field(10000, ge=10)
    batch_size: int = Field(500, ge=1)
    flush_interval_s: float = Field(0.2, gt=0)
    spool_dir: str = ".seawall/spool"  # audit batches wait here while the database is down
    retention_days: float | None = Field(None, gt=0)  # None: keep forever


class GovernanceConfig(_Model):
    enabled: bool = True
    require_key: bool | None = None  # None: required once static or virtual keys exist
    key_pepper: Any = None  # Secret: HMAC key for key hashes (else SHA-256 of the 256-bit key)
    refresh_s: float = Field(5.0, gt=0)  # full reload of keys/limits/budgets (changes also arrive by pub/sub)
    limits_fail: Literal["open", "closed"] = "open"  # state store down: local limits, or 503
    budgets_fail: Literal["open", "closed"] = "closed"
    default_max_tokens: int = Field(1024, ge=1)  # for the budget estimate when a request sets none
    audit: AuditConfig = Field(default_factory=AuditConfig)

    _check_pepper = field_validator("key_pepper", mode="before")(lambda cls, v: _secret(v))


class Config(_Model):
    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    admin_key: Any = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    resilience: ResilienceConfig = Field(default_factory=ResilienceConfig)
    guard: GuardPolicy = Field(default_factory=GuardPolicy)  # input/output guards; per alias: models[].guard
    cache: CacheConfig = Field(default_factory=CacheConfig)  # exact + semantic caches; per alias: models[].cache
    providers: list[ProviderConfig] = Field(min_length=1)
    models: list[ModelAlias] = Field(min_length=1)

    _check_admin = field_validator("admin_key", mode="before")(lambda cls, v: _secret(v))

    @model_validator(mode="after")
    def _references(self) -> "Config":
        _unique([p.name for p in self.providers], "providers", "provider")
        _unique([m.name for m in self.models], "models", "model")
        known = {p.name for p in self.providers}
        for i, alias in enumerate(self.models):
            for j, t in enumerate(alias.targets):
                if t.provider not in known:
                    raise _PathError(
                        f"models[{i}].targets[{j}].provider",
                        f"unknown provider {t.provider!r} (known: {', '.join(sorted(known))})",
                    )
        aliases = {m.name: m.kind for m in self.models}
        for i, alias in enumerate(self.models):
            for key in ("fallbacks", "context_fallbacks"):
                for j, name in enumerate(getattr(alias, key)):
                    if aliases.get(name) != alias.kind or name == alias.name:
                        raise _PathError(f"models[{i}].{key}[{j}]",
                                         f"{name!r} is not another {alias.kind} model alias")
        if not self.admin_key and os.environ.get("SEAWALL_ADMIN_KEY"):
            self.admin_key = Secret("${SEAWALL_ADMIN_KEY}", os.environ["SEAWALL_ADMIN_KEY"])
        return self

    def provider(self, name: str) -> ProviderConfig:
        return next(p for p in self.providers if p.name == name)


class _PathError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _unique(names: list[str], section: str, what: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise _PathError(f"{section}[{i}].name", f"duplicate {what} name {n!r}")
        seen.add(n)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse(data: Any, source: str = "<config>") -> Config:
    """Validate a config mapping; raise ConfigError naming source, key path and problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with providers and models")
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _PathError):
                lines.append(f"{source}: {ctx_err.path}: {ctx_err.message}")
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/configuration.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{source}: {_path(err['loc'])}: {msg}")
        raise ConfigError("\n".join(lines)) from None


def load(path: str | os.PathLike) -> Config:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(f"{p}: not valid YAML{at}: {getattr(e, 'problem', e)}") from None
    return parse(data, str(p))
