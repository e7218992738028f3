"""Admin routes for the resilience engine (protected by the admin key).

GET /admin/deployments: every deployment's health, breaker state (closed / open /
half_open), EWMA latency, in-flight calls, recent errors by class; the aliases' policies,
the retry budget, recent events (breaker transitions, health changes, escalations) and
recent escalation tickets.
"""
from __future__ import annotations

import orjson

from ..core.errors import GatewayError
from ..net.server import Request, Response
from .http import JSON, check_key


def require_admin(gw, request: Request) -> None:
    key = gw.config.admin_key.get() if gw.config.admin_key else None
    if not key:
        raise GatewayError("permission_denied", "the admin API is disabled: set admin_key (or SEAWALL_ADMIN_KEY)")
    auth = request.headers.get("authorization") or ""
    presented = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    if not check_key(presented, [key]):
        raise GatewayError("invalid_api_key", "missing or invalid admin key (Authorization: Bearer <admin_key>)")


def routes(app) -> dict:
    gw = app.gw

    async def deployments(request, rid, headers):
        require_admin(gw, request)
        body = orjson.dumps(gw.resilience.snapshot())
        return Response(body=body, headers=headers, content_type=JSON)

    return {("GET", "/admin/deployments"): deployments}
