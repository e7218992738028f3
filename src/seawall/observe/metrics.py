"""Prometheus metrics. Label children are cached so the hot path pays a dict lookup.

With several workers, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, made
by `seawall serve --workers N` before it forks and removed when it stops) aggregates every
worker's values.

Every label takes values from a bounded set: an alias label only the configured alias names
(a client's unknown model name counts as "other": a client must not be able to grow /metrics
without bound), a deployment label only configured deployments, team and department labels
only the ids the operator created.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST, multiprocess

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def _use_multiprocess_values() -> None:
    """prometheus_client picks how values are stored when it is first imported; the CLI
    imports it (through the configuration) before `serve --workers N` sets the directory, so
    every worker kept its values in its own memory and /metrics merged nothing. Switch to
    the file-backed values here, once, before the first metric is made."""
    from prometheus_client import values

    if values.ValueClass.__name__ != "MmapedValue":
        values.ValueClass = values.get_value_class()


OTHER = "other"  # the alias label of a request naming no configured alias


class Metrics:
    def __init__(self, aliases=()) -> None:
        self.aliases = frozenset(aliases)
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        if self.multiprocess:
            _use_multiprocess_values()
        self.registry = None if self.multiprocess else CollectorRegistry()
        reg = {"registry": self.registry} if self.registry else {}
        self.requests = Counter("seawall_requests_total", "Client requests by alias, deployment and outcome",
                                ["alias", "deployment", "outcome"], **reg)
        self.duration = Histogram("seawall_request_duration_seconds", "Total request latency",
                                  ["alias"], buckets=_BUCKETS, **reg)
        self.ttft = Histogram("seawall_time_to_first_token_seconds", "Time to the first streamed chunk",
                              ["alias"], buckets=_BUCKETS, **reg)
        self.upstream_errors = Counter("seawall_upstream_errors_total", "Failed upstream attempts by class",
                                       ["deployment", "error_class"], **reg)
        self.tokens = Counter("seawall_tokens_total", "Tokens by alias, deployment and direction",
                              ["alias", "deployment", "direction"], **reg)
        self.spend = Counter("seawall_spend_usd_total", "Spend in US dollars by team and department "
                             "(\"none\": keys without one)", ["team", "department"], **reg)
        gauge_mode = {"multiprocess_mode": "livesum"} if self.multiprocess else {}
        self.in_flight = Gauge("seawall_in_flight_requests", "Requests being answered now", **reg, **gauge_mode)
        self.active = 0  # requests in flight in this process (the gauge may sum every worker's)
        self._children: dict[tuple, object] = {}

    def enter(self) -> None:
        self.active += 1
        self.in_flight.inc()

    def leave(self) -> None:
        self.active -= 1
        self.in_flight.dec()

    def _child(self, metric, *labels):
        key = (id(metric), labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        return c

    def record(self, alias: str, deployment: str | None, outcome: str, seconds: float,
               ttft_s: float | None, usage: dict | None, cost_usd: float | None = None,
               team: str | None = None, department: str | None = None) -> None:
        if alias not in self.aliases:
            alias = OTHER
        dep = deployment or "none"
        if cost_usd:
            self._child(self.spend, team or "none", department or "none").inc(cost_usd)
        self._child(self.requests, alias, dep, outcome).inc()
        self._child(self.duration, alias).observe(seconds)
        if ttft_s is not None:
            self._child(self.ttft, alias).observe(ttft_s)
        if usage:
            p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if p:
                self._child(self.tokens, alias, dep, "prompt").inc(p)
            if c:
                self._child(self.tokens, alias, dep, "completion").inc(c)

    def upstream_error(self, deployment: str, error_class: str) -> None:
        self._child(self.upstream_errors, deployment, error_class).inc()

    def exposition(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
