"""Resilience events: every breaker transition (and other notable decision) becomes a
metric, a log line and an entry in the admin API's recent-events list."""
from __future__ import annotations

import logging
import time
from collections import deque

from prometheus_client import Counter, Gauge

log = logging.getLogger("seawall.resilience")

_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class ResilienceMetrics:
    """Metric objects of the resilience stages, registered on the gateway's registry."""

    def __init__(self, registry) -> None:
        reg = {"registry": registry} if registry is not None else {}
        self.transitions = Counter("seawall_breaker_transitions_total", "Circuit breaker state changes",
                                   ["deployment", "from_state", "to_state"], **reg)
        self.state = Gauge("seawall_breaker_state", "Breaker state (0 closed, 1 half_open, 2 open)",
                           ["deployment"], **reg, **({"multiprocess_mode": "max"} if registry is None else {}))
        self.retries = Counter("seawall_retries_total", "Extra upstream attempts after a failure",
                               ["alias", "kind"], **reg)
        self.budget_denied = Counter("seawall_retry_budget_exhausted_total",
                                     "Retries not made because the fleet-wide retry budget was spent", ["alias"], **reg)
        self.hedges = Counter("seawall_hedges_total", "Hedged (backup) attempts by outcome", ["alias", "outcome"], **reg)
        self.fallbacks = Counter("seawall_fallbacks_total", "Answers from a fallback level", ["alias", "level"], **reg)
        self.coalesced = Counter("seawall_coalesced_total", "Requests that shared another's upstream call",
                                 ["alias"], **reg)
        self.rejected = Counter("seawall_bulkhead_rejected_total", "Requests refused by a full bulkhead",
                                ["deployment"], **reg)
        self.batched = Counter("seawall_embedding_batches_total", "Micro-batched embedding upstream calls",
                               ["deployment"], **reg)
        self._children: dict[tuple, object] = {}

    def child(self, metric, *labels):
        key = (id(metric), labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        return c

    def inc(self, metric, *labels) -> None:
        self.child(metric, *labels).inc()


class Events:
    """A bounded list of recent events, plus the log line and metrics for each."""

    def __init__(self, metrics: ResilienceMetrics | None, kept: int = 200) -> None:
        self.metrics = metrics
        self.recent: deque[dict] = deque(maxlen=kept)

    def emit(self, kind: str, deployment: str | None = None, level: int = logging.INFO, **fields) -> None:
        event = {"ts": round(time.time(), 3), "event": kind, "deployment": deployment, **fields}
        self.recent.append(event)
        log.log(level, kind, extra={"deployment": deployment, **fields})

    def breaker(self, deployment: str, old: str, new: str, reason: str, **fields) -> None:
        if self.metrics is not None:
            self.metrics.inc(self.metrics.transitions, deployment, old, new)
            self.metrics.child(self.metrics.state, deployment).set(_STATE_VALUE[new])
        level = logging.WARNING if new == "open" else logging.INFO
        self.emit("breaker_" + new, deployment, level, from_state=old, reason=reason, **fields)
