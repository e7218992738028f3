"""The resilience section of the configuration: the gateway-wide budgets (`resilience:`) and the
per-alias failure policies (retry, breaker, balance, hedge, fallbacks, degraded answer,
escalation, coalescing, bulkhead, embedding batches), which sit directly on each `models[]`
entry. See docs/resilience.md."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import PathError, Section, register


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")




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


# What one alias does about failures, compiled once per alias into its profile (`profile.resilience`).
_ALIAS_FIELDS = {
    "retry": (RetryPolicy, Field(default_factory=RetryPolicy)),
    "breaker": (BreakerPolicy, Field(default_factory=BreakerPolicy)),
    "balance": (BalancePolicy, Field(default_factory=BalancePolicy)),
    "hedge": (HedgePolicy, Field(default_factory=HedgePolicy)),
    "fallbacks": (list[str], Field(default_factory=list)),  # other aliases, tried in order
    "context_fallbacks": (list[str], Field(default_factory=list)),  # larger-context aliases
    "degraded": (DegradedAnswer, Field(default_factory=DegradedAnswer)),
    "escalate": (bool, False),  # last resort: a 503 with a ticket id recorded for human review
    "coalesce": (CoalescePolicy, Field(default_factory=CoalescePolicy)),
    "bulkhead": (BulkheadPolicy, Field(default_factory=BulkheadPolicy)),
    "batch": (BatchPolicy, Field(default_factory=BatchPolicy)),
}


class AliasResilience(_Model):
    retry: RetryPolicy
    breaker: BreakerPolicy
    balance: BalancePolicy
    hedge: HedgePolicy
    fallbacks: list[str]
    context_fallbacks: list[str]
    degraded: DegradedAnswer
    escalate: bool
    coalesce: CoalescePolicy
    bulkhead: BulkheadPolicy
    batch: BatchPolicy


def _compile(config, alias) -> AliasResilience:
    return AliasResilience(**{name: getattr(alias, name) for name in _ALIAS_FIELDS})


def _check(config) -> None:
    """Fallbacks name other aliases of the same kind."""
    kinds = {m.name: m.kind for m in config.models}
    for i, alias in enumerate(config.models):
        for key in ("fallbacks", "context_fallbacks"):
            for j, name in enumerate(getattr(alias, key)):
                if kinds.get(name) != alias.kind or name == alias.name:
                    raise PathError(f"models[{i}].{key}[{j}]", f"{name!r} is not another {alias.kind} model alias")


register(Section("resilience", ResilienceConfig, alias_fields=_ALIAS_FIELDS, compile=_compile, check=_check))
