"""account: metrics and one log line per request, for every outcome including failures."""
from __future__ import annotations

import logging
import time

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
        ttft = meta.ttft_ms / 1000.0 if meta.ttft_ms is not None else None
        self.metrics.record(req.alias, meta.deployment, outcome, seconds, ttft, meta.usage)
        if self.log_requests:
            usage = meta.usage or {}
            log.info("request", extra={
                "alias": req.alias, "kind": req.kind, "stream": req.stream, "outcome": outcome,
                "status": status, "deployment": meta.deployment, "attempts": meta.attempts,
                "latency_ms": round(seconds * 1000.0, 2), "ttft_ms": meta.ttft_ms and round(meta.ttft_ms, 2),
                "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
            })
