"""account: metrics and one log line per request, for every outcome including failures."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator

from ..core.errors import GatewayError
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
        except GatewayError as e:
            self._done(req, e.code, e.status)
            raise
        except asyncio.CancelledError:
            self._done(req, "client_closed", 499)
            raise
        except Exception:
            self._done(req, "internal_error", 500)
            raise
        req.meta.latency_ms = (time.perf_counter() - req.started) * 1000.0
        if isinstance(result, Stream):
            result.chunks = self._watch(req, result.chunks)
        else:
            self._done(req, "ok", 200)
        return result

    async def _watch(self, req: Request, chunks: AsyncIterator[dict]) -> AsyncIterator[dict]:
        outcome, status = "client_closed", 499
        try:
            async for c in chunks:
                yield c
            outcome, status = "ok", 200
        except GatewayError as e:
            outcome, status = e.code, e.status
            raise
        finally:
            self._done(req, outcome, status)

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
