"""The last levels of the fallback cascade, after every upstream alternative has failed:
stale cached answer (the stale source the assembly wires in: the cache) -> rule-based
degraded answer (per alias) -> human escalation (a 503 with a ticket id, recorded through a
hook for review).

The levels before these (the alias's other deployments, then its fallback aliases) are
upstream calls and live in execute.py.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Awaitable, Callable

from ..core.errors import GatewayError
from ..core.types import Request, Result
from ..providers.degraded import degraded_result

log = logging.getLogger("seawall.resilience")

# `await stale(req)` returns a stored answer for the request past its TTL, or None
StaleSource = Callable[[Request], Awaitable["Result | None"]]
EscalationHook = Callable[[dict], object]


class Cascade:
    def __init__(self, events, metrics, stale: StaleSource | None = None) -> None:
        self.events, self.metrics = events, metrics
        self.stale = stale
        self.escalation_hooks: list[EscalationHook] = []
        self.tickets: deque[dict] = deque(maxlen=500)  # until the review queue (a later issue) takes them

    def add_escalation_hook(self, hook: EscalationHook) -> None:
        """`hook(ticket)` records a ticket dict (id, alias, request id, reason, time) for review."""
        self.escalation_hooks.append(hook)

    async def degrade(self, req: Request, pol, err: GatewayError) -> Result:
        """Answer without an upstream, or raise: stale -> degraded -> escalation -> err."""
        if self.stale is not None:
            try:
                result = await self.stale(req)
            except Exception:
                log.exception("the stale answer source failed")
                result = None
            if result is not None:
                return self.mark(req, pol.alias, result, "stale")
        if pol.degraded.mode != "off":
            return self.mark(req, pol.alias, degraded_result(req, pol.degraded), "degraded")
        if pol.escalate:
            ticket = {"id": "tkt_" + uuid.uuid4().hex[:20], "alias": req.alias, "request_id": req.request_id,
                      "reason": err.code, "detail": err.message, "ts": round(time.time(), 3)}
            self.tickets.append(ticket)
            for hook in self.escalation_hooks:
                try:
                    hook(ticket)
                except Exception:
                    log.exception("escalation hook failed")
            self.metrics.inc(self.metrics.fallbacks, pol.alias, "escalated")
            self.events.emit("escalated", None, logging.WARNING, alias=pol.alias, ticket=ticket["id"], reason=err.code)
            req.meta.fallback_level = "escalated"
            raise GatewayError("upstream_unavailable",
                               f"no model could answer now; the request was escalated for human review as {ticket['id']}",
                               retry_after=err.retry_after or 30.0, headers={"x-seawall-ticket": ticket["id"]})
        raise err

    def mark(self, req: Request, alias: str, result: Result, level: str) -> Result:
        result.meta.fallback_level = level
        self.metrics.inc(self.metrics.fallbacks, alias, level)
        return result
