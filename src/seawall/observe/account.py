"""account: metrics and one log line per request, for every outcome including failures.

The access-log line says who (the key's hint, never the key; team, department), what (alias,
deployment, tokens, cost) and what the features decided (cache result, guard decision), all
read from the typed Meta fields and the principal. `refused` is the same line for a request the
HTTP edge turned away before the pipeline (an unknown key, a bad body)."""
from __future__ import annotations

import logging
import time

from ..core.credentials import key_hint, presented_key
from ..core.errors import outcome_of
from ..core.streams import tap
from ..core.types import Request, Result, Stream

log = logging.getLogger("seawall.request")


class Account:
    def __init__(self, metrics, log_requests: bool) -> None:
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, req: Request, call_next) -> Result:
        self.metrics.enter()
        try:
            result = await call_next(req)
        except BaseException as e:
            outcome = outcome_of(e)
            self._done(req, outcome.code, outcome.status)
            raise
        req.meta.latency_ms = (time.perf_counter() - req.started) * 1000.0
        if isinstance(result, Stream):
            tap(result, on_end=lambda outcome: self._done(req, outcome.code, outcome.status))
        else:
            self._done(req, "ok", 200)
        return result

    def _done(self, req: Request, outcome: str, status: int) -> None:
        self.metrics.leave()
        seconds = time.perf_counter() - req.started
        meta = req.meta
        p = req.principal
        team = p.team_id if p is not None else None
        dept = p.department_id if p is not None else None
        ttft = meta.ttft_ms / 1000.0 if meta.ttft_ms is not None else None
        self.metrics.record(req.alias, meta.deployment, outcome, seconds, ttft, meta.usage, meta.cost_usd,
                            team, dept)
        if self.log_requests:
            usage = meta.usage or {}
            hint = p.hint if p is not None else None
            if hint is None and req.headers is not None:
                hint = key_hint(presented_key(req.headers))
            log.info("request", extra={
                "alias": req.alias, "kind": req.kind, "stream": req.stream, "outcome": outcome,
                "status": status, "deployment": meta.deployment, "attempts": meta.attempts,
                "latency_ms": round(seconds * 1000.0, 2), "ttft_ms": meta.ttft_ms and round(meta.ttft_ms, 2),
                "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
                "cost_usd": meta.cost_usd, "key": hint, "team": team, "department": dept,
                "cache": meta.cache, "guard": meta.guard_outcome, "client_request_id": meta.client_request_id,
            })


def refused(metrics, log_requests: bool, method: str, path: str, code: str, status: int, hint: str | None,
            seconds: float) -> None:
    """A request refused before it reached the pipeline (never identified, or its body was
    refused): the metrics count it and the access log says so, with the key's hint."""
    metrics.record(None, None, code, seconds, None, None)
    if log_requests:
        log.info("request", extra={"method": method, "path": path, "outcome": code, "status": status,
                                   "latency_ms": round(seconds * 1000.0, 2), "key": hint})
