"""Resilience's admin route, under the admin key.

GET /admin/deployments: every deployment's health, breaker state (closed / open / half_open),
EWMA latency, in-flight calls, recent errors by class; the aliases' policies, the retry
budget, recent events (breaker transitions, health changes, escalations) and tickets.
"""
from __future__ import annotations

from ..web.router import Call, Route
from ..web.schema import Out


class DeploymentsView(Out):
    deployments: list[dict]
    aliases: dict


def routes(current) -> list[Route]:
    """`current()` is the running configuration's engine (a reload builds a new one)."""
    async def deployments(call: Call):
        return call.json(current().snapshot())

    return [Route("GET", "/admin/deployments", deployments, auth="admin", response=DeploymentsView,
                  tag="resilience", summary="Deployments' health, breakers, latency; aliases' policies")]
