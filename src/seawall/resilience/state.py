"""Per-deployment runtime state the resilience stages share: breaker, load, latency, health.

One `DepState` per deployment, kept by the engine (`Resilience.states`). The success path touches
a few numbers here; lists and counters of errors are only written when something fails.
"""
from __future__ import annotations

import time
from collections import Counter, deque

from .breaker import Breaker
from .bulkhead import Bulkhead

_ALPHA = 0.2  # EWMA weight of the newest sample


class DepState:
    __slots__ = ("dep", "breaker", "bulkhead", "ewma_s", "ewma_ttft_s", "cooldown_until",
                 "healthy", "health_failures", "errors", "calls", "failures")

    def __init__(self, dep, breaker: Breaker, bulkhead: Bulkhead) -> None:
        self.dep = dep
        self.breaker = breaker
        self.bulkhead = bulkhead
        self.ewma_s = 0.0  # 0 = no sample yet (the latency balancer tries it)
        self.ewma_ttft_s = 0.0
        self.cooldown_until = 0.0  # honoured Retry-After: no call before this (monotonic)
        self.healthy = True  # active health checks (when configured)
        self.health_failures = 0
        self.errors: deque[tuple[float, str]] = deque(maxlen=200)
        self.calls = 0
        self.failures = 0

    def carry(self, was: "DepState") -> None:
        """What a reload keeps of the same upstream's state (docs/configuration.md, Reloading)."""
        self.ewma_s, self.ewma_ttft_s, self.cooldown_until = was.ewma_s, was.ewma_ttft_s, was.cooldown_until
        self.healthy, self.health_failures, self.errors = was.healthy, was.health_failures, was.errors
        self.calls, self.failures = was.calls, was.failures

    @property
    def in_flight(self) -> int:
        return self.bulkhead.active  # every call enters the bulkhead, limited or not

    def usable(self, now: float) -> bool:
        return self.healthy and now >= self.cooldown_until and self.breaker.available(now)

    def observe(self, latency_s: float, ttft_s: float | None) -> None:
        self.calls += 1
        e = self.ewma_s
        self.ewma_s = latency_s if e == 0.0 else e + _ALPHA * (latency_s - e)
        if ttft_s is not None:
            e = self.ewma_ttft_s
            self.ewma_ttft_s = ttft_s if e == 0.0 else e + _ALPHA * (ttft_s - e)

    def failed(self, label: str) -> None:
        self.calls += 1
        self.failures += 1
        self.errors.append((time.monotonic(), label))

    def snapshot(self, now: float, window_s: float = 300.0) -> dict:
        recent = Counter(label for t, label in self.errors if now - t <= window_s)
        b = self.breaker.snapshot(now)
        health = "healthy"
        if not self.healthy:
            health = "unhealthy"
        elif b["state"] != "closed" or now < self.cooldown_until:
            health = "degraded"
        return {
            "id": self.dep.id, "model": self.dep.model, "provider": self.dep.provider.name,
            "region": self.dep.region, "priority": self.dep.priority, "weight": self.dep.weight,
            "health": health, "breaker": b["state"], "breaker_detail": b,
            "ewma_latency_ms": round(self.ewma_s * 1000.0, 2), "ewma_ttft_ms": round(self.ewma_ttft_s * 1000.0, 2),
            "in_flight": self.in_flight, "calls": self.calls, "failures": self.failures,
            "cooldown_s": round(max(0.0, self.cooldown_until - now), 3),
            "recent_errors": dict(recent), "bulkhead": {"limit": self.bulkhead.limit, "active": self.bulkhead.active},
        }
