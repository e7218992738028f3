"""The request's path, composed in one place.

Each stage is a callable `stage(req, call_next) -> Result` with one job; it may act before
the call (reject, rewrite, answer from cache), after it (inspect, account), or around it.
Read `build` top to bottom and you have read the whole flow.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from .types import Request, Result

if TYPE_CHECKING:
    from ..gateway import Gateway

Handler = Callable[[Request], Awaitable[Result]]


class Stage(Protocol):
    async def __call__(self, req: Request, call_next: Handler) -> Result: ...


def compose(stages: list[Stage], terminal: Handler) -> Handler:
    handler = terminal
    for stage in reversed(stages):
        handler = _link(stage, handler)
    return handler


def _link(stage: Stage, call_next: Handler) -> Handler:
    async def handler(req: Request) -> Result:
        return await stage(req, call_next)

    return handler


def build(gw: "Gateway") -> Handler:
    from ..cache.stage import CacheStage
    from ..govern.service import for_gateway
    from ..govern.stages import Admit, AuditStage, Identify
    from ..guard.stage import GuardIn
    from ..observe.account import Account
    from ..resilience.coalesce import Coalesce
    from ..resilience.engine import Resilience
    from ..resilience.execute import Execute
    from .routing import RouteStage

    gov = for_gateway(gw)
    gw.resilience = res = Resilience(gw.config, gw.router, gw.metrics.registry)
    return compose(
        [
            Account(gw.metrics, gw.config.server.access_log),  # account: metrics + log, sees every outcome
            AuditStage(gov),                                   # account: audit record, every outcome
            Identify(gov),                                     # identify: virtual key -> principal
            RouteStage(gw.router),                             # route: alias -> deployments, deadline
            Admit(gov),                                        # admit: rate limits, budget reserve; settle, cost
            GuardIn(gw),                                       # guard: in PII, secrets, injection, tags; out leaks, tokens
            CacheStage(gw),                                    # cache: exact -> semantic (tenant-scoped); store answers
            Coalesce(res),                                     # coalesce: identical in-flight requests share a call
        ],
        terminal=Execute(gw.metrics, res),                     # execute: LB, breaker, retry, hedge, fallback, degrade
    )
