"""The resilience service: per-deployment state and per-alias runtime policies, built once from
the config (each alias's compiled `profile.resilience`) and shared by the execute stage, the
coalescer, health checks and the admin API."""
from __future__ import annotations

import time

from ..config import Config
from .config import AliasResilience
from .balance import Balancer
from .batch import EmbedBatcher
from .breaker import Breaker, BreakerStore, MemoryBreakerStore
from .bulkhead import Bulkhead
from .events import Events, ResilienceMetrics
from .fallback import Cascade, StaleSource
from .health import HealthChecker
from .hedge import Quantiles
from .retry import HedgeBudget, RetryBudget
from .state import DepState


class AliasPolicy:
    """What one alias does about failures, compiled from its config."""

    __slots__ = ("alias", "kind", "route", "balancer", "retry", "hedge", "fallbacks", "context_fallbacks",
                 "degraded", "escalate", "coalesce", "batcher", "latency", "ttft")

    def __init__(self, alias: str, kind: str, cfg: AliasResilience, route, balancer: Balancer,
                 batcher: EmbedBatcher | None) -> None:
        self.alias, self.kind, self.route, self.balancer = alias, kind, route, balancer
        self.retry = cfg.retry
        self.hedge = cfg.hedge if cfg.hedge.enabled and len(balancer.all) > 1 else None
        self.fallbacks = tuple(cfg.fallbacks)
        self.context_fallbacks = tuple(cfg.context_fallbacks)
        self.degraded = cfg.degraded
        self.escalate = cfg.escalate
        self.coalesce = cfg.coalesce.enabled
        self.batcher = batcher
        self.latency = Quantiles()  # of first attempts: total latency (complete answers)
        self.ttft = Quantiles()  # and time to first chunk (streams)

    def hedge_delay(self, stream: bool) -> float | None:
        h = self.hedge
        if h.delay_s is not None:
            return h.delay_s
        q = (self.ttft if stream else self.latency).quantile(h.quantile)
        return None if q is None else max(h.min_delay_s, q)


class Resilience:
    """One configuration's policies over the gateway's long-lived resilience state. A reload
    builds a new one with `previous`: the metrics, events, breaker store, budgets and tickets are
    the previous one's, and a deployment that is still there (same provider, model and base URL)
    keeps its breaker, bulkhead, latency and health (`DepState.carry`), so a reload neither
    closes an open breaker nor forgets a slow upstream."""

    def __init__(self, config: Config, router, registry, store: BreakerStore | None = None,
                 stale: StaleSource | None = None, previous: "Resilience | None" = None) -> None:
        self.config = config
        self.router = router
        rc = config.resilience
        if previous is None:
            self.metrics = ResilienceMetrics(registry)
            self.events = Events(self.metrics, rc.events_kept)
            self.store = store or MemoryBreakerStore()
            self.cascade = Cascade(self.events, self.metrics, stale)
        else:
            self.metrics, self.events, self.store, self.cascade = (previous.metrics, previous.events, previous.store,
                                                                   previous.cascade)
        prc = previous.config.resilience if previous is not None else None
        rb = rc.retry_budget
        self.retry_budget = previous.retry_budget if prc is not None and prc.retry_budget == rb else \
            RetryBudget(rb.ratio, rb.min_per_s, rb.window_s)
        self.hedge_budget = previous.hedge_budget if prc is not None and prc.hedge_budget == rc.hedge_budget else \
            HedgeBudget(rc.hedge_budget)
        before = {_key(st.dep): st for st in previous.states.values()} if previous is not None else {}
        self.states: dict[str, DepState] = {}
        self.policies: dict[str, AliasPolicy] = {}
        checks: dict[str, object] = {}
        for alias in config.models:
            route = router.routes[alias.name]
            res = config.profile(alias.name).resilience
            states = []
            for dep in route.deployments:
                st = self.states.get(dep.id)
                if st is None:  # a deployment shared by aliases takes the first alias's policies
                    st = self._state(dep, res, before.get(_key(dep)), previous)
                    self.states[dep.id] = st
                    if res.balance.health_check.interval_s > 0:
                        checks[dep.id] = res.balance.health_check
                states.append(st)
            balancer = Balancer(states, res.balance.strategy, res.balance.home_region)
            batcher = EmbedBatcher(res.batch, self.metrics) if alias.kind == "embeddings" and res.batch.enabled else None
            pol = AliasPolicy(alias.name, alias.kind, res, route, balancer, batcher)
            if previous is not None and (was := previous.policies.get(alias.name)) is not None:
                pol.latency, pol.ttft = was.latency, was.ttft  # the hedge delay keeps what it learnt
            self.policies[alias.name] = pol
        self.health = HealthChecker([(self.states[d], c) for d, c in checks.items()], self.events) if checks else None

    def _state(self, dep, res, was: DepState | None, previous: "Resilience | None") -> DepState:
        policy, b = _breaker_policy(res.breaker), res.bulkhead
        if was is None and previous is not None and dep.id in previous.states:
            self.store.forget(dep.id)  # same name, another upstream (base URL): its breaker starts closed
        if was is not None and was.breaker.p == policy:
            breaker = was.breaker
        else:  # a new policy; the shared record (state, open until, trips) stays in the store
            breaker = Breaker(dep.id, policy, self.events, self.store)
        bh = was.bulkhead if was is not None else None
        if bh is None or (bh.limit, bh.max_queue, bh.timeout) != (b.max_concurrency, b.max_queue, b.queue_timeout_s):
            bh = Bulkhead(b.max_concurrency, b.max_queue, b.queue_timeout_s)
        st = DepState(dep, breaker, bh)
        if was is not None:
            st.carry(was)
        return st

    async def start(self) -> None:
        if self.health is not None:
            self.health.start()

    async def aclose(self) -> None:
        """Stop active health checks before the upstream connections close."""
        if self.health is not None:
            await self.health.stop()

    def snapshot(self) -> dict:
        now = time.monotonic()
        return {
            "deployments": [st.snapshot(now) for st in self.states.values()],
            "aliases": {name: {"deployments": [s.dep.id for s in p.balancer.all], "strategy": p.balancer.strategy,
                               "fallbacks": list(p.fallbacks), "hedge": p.hedge is not None,
                               "degraded": p.degraded.mode, "escalate": p.escalate}
                        for name, p in self.policies.items()},
            "retry_budget": self.retry_budget.snapshot(now),
            "hedge_budget_tokens": round(self.hedge_budget.tokens, 3),
            "events": list(self.events.recent)[::-1],
            "tickets": list(self.cascade.tickets)[-50:][::-1],
        }


def _key(dep) -> tuple:
    """What makes two deployments of two configurations the same upstream."""
    return dep.provider.name, dep.model, dep.provider.cfg.base_url


def _breaker_policy(p):
    if p.enabled:
        return p
    # A disabled breaker never trips: thresholds out of reach.
    return p.model_copy(update={"min_calls": 1 << 30, "consecutive_failures": 1 << 30, "slow_call_s": None,
                                "slow_ttft_s": None})
