"""Load balancing across an alias's deployments.

Deployments are grouped in tiers: lower `priority` first, and within a priority the home
region before the others. A request goes to the first tier with a usable deployment
(breaker admits it, no Retry-After pending, healthy, bulkhead not full), so traffic spills
over to the next tier only when the preferred one is unhealthy or saturated. Within a tier
the strategy chooses: smooth weighted round-robin, least in-flight (per unit of weight),
or latency-aware power-of-two-choices on EWMA latency x (in-flight + 1).
"""
from __future__ import annotations

import random

from .state import DepState


class Balancer:
    __slots__ = ("tiers", "all", "strategy", "_rr", "_rand")

    def __init__(self, states: list[DepState], strategy: str = "weighted_round_robin",
                 home_region: str | None = None, rand=random.random) -> None:
        def key(st: DepState) -> tuple:
            away = 0 if home_region is None or st.dep.region == home_region else 1
            return (st.dep.priority, away)

        tiers: dict[tuple, list[DepState]] = {}
        for st in states:
            tiers.setdefault(key(st), []).append(st)
        self.tiers = [tiers[k] for k in sorted(tiers)]
        self.all = states
        self.strategy = strategy
        self._rr = {id(st): 0.0 for st in states}
        self._rand = rand

    def pick(self, now: float, exclude: set[str] | None = None, tags: frozenset[str] | None = None) -> DepState | None:
        """The deployment for the next call, or None when none is usable now. With `tags`,
        only deployments carrying all of them are candidates (sensitivity routing)."""
        full = None
        for tier in self.tiers:
            if len(tier) == 1:
                st = tier[0]
                if (exclude is None or st.dep.id not in exclude) and (tags is None or tags <= st.dep.tags) \
                        and st.usable(now):
                    if not st.bulkhead.full():
                        return st
                    full = full or st
                continue
            cands = []
            for st in tier:
                if (exclude is None or st.dep.id not in exclude) and (tags is None or tags <= st.dep.tags) \
                        and st.usable(now):
                    if not st.bulkhead.full():
                        cands.append(st)
                    elif full is None:
                        full = st
            if cands:
                return cands[0] if len(cands) == 1 else self._choose(cands)
        return full  # every usable deployment is saturated: the caller queues on this one

    def pick_retry(self, now: float, tags: frozenset[str] | None = None) -> tuple[DepState | None, float]:
        """For a retry on an already-tried deployment: the one ready soonest (its Retry-After
        honoured) among those whose breaker admits calls, with the time it is ready."""
        best, ready = None, 0.0
        for tier in self.tiers:
            for st in tier:
                if tags is not None and not tags <= st.dep.tags:
                    continue
                if not st.healthy or not st.breaker.available(max(now, st.cooldown_until)):
                    continue
                if st.breaker.state == "open":
                    continue  # an open breaker is waited out by the fallback, not by a retry
                r = max(now, st.cooldown_until)
                if best is None or r < ready:
                    best, ready = st, r
            if best is not None:
                return best, ready
        return None, 0.0

    def retry_hint(self, now: float) -> float:
        """Seconds until some deployment of this alias should be usable again (for Retry-After)."""
        waits = []
        for st in self.all:
            w = max(st.cooldown_until - now, st.breaker.retry_in(now))
            waits.append(w)
        return max(1.0, min(waits)) if waits else 1.0

    def _choose(self, cands: list[DepState]) -> DepState:
        s = self.strategy
        if s == "least_in_flight":
            best = None
            best_load = 0.0
            start = int(self._rand() * len(cands))  # random tie-break: no herd on the first
            for k in range(len(cands)):
                st = cands[(start + k) % len(cands)]
                load = st.in_flight / st.dep.weight
                if best is None or load < best_load:
                    best, best_load = st, load
            return best
        if s == "latency":
            n = len(cands)
            i = int(self._rand() * n)
            j = int(self._rand() * (n - 1))
            if j >= i:
                j += 1
            a, b = cands[i], cands[j]
            return a if _cost(a) <= _cost(b) else b
        # smooth weighted round-robin (nginx): each pick adds weights, the leader pays the total
        rr = self._rr
        total = 0.0
        chosen = None
        for st in cands:
            k = id(st)
            rr[k] += st.dep.weight
            total += st.dep.weight
            if chosen is None or rr[k] > rr[id(chosen)]:
                chosen = st
        rr[id(chosen)] -= total
        return chosen


def _cost(st: DepState) -> float:
    # An unmeasured deployment costs 0 so it gets tried; afterwards latency x queue depth.
    return st.ewma_s * (st.in_flight + 1) / st.dep.weight
