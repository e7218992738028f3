"""Admin routes for the caches (under the admin key).

    GET  /admin/cache/stats        hit rate, hits/misses/stale by alias, tokens and USD saved,
                                   local/shared/semantic sizes (this process's view)
    POST /admin/cache/invalidate   {"alias": "...", "tenant": "key:<id>|team:<id>|dept:<id>|global",
                                    "prefix": "<raw key prefix>", "all": true}: at least one;
                                   alias and tenant combine. Deletes from this process's levels
                                   and the shared store (Redis: SCAN MATCH, never KEYS), and
                                   tells the other instances (Redis pub/sub) to drop their
                                   local copies.
"""
from __future__ import annotations

import orjson

from ..core.errors import GatewayError
from ..net.server import Request, Response
from .admin import require_admin
from .http import JSON, read_json


def routes(app) -> dict:
    gw = app.gw

    async def stats(request: Request, rid, headers):
        require_admin(gw, request)
        return Response(body=orjson.dumps(gw.cache.snapshot()), headers=headers, content_type=JSON)

    async def invalidate(request: Request, rid, headers):
        require_admin(gw, request)
        body, _ = await read_json(request, 1 << 16)
        unknown = set(body) - {"alias", "tenant", "prefix", "all"}
        if unknown:
            raise GatewayError("invalid_request", f"unknown field {sorted(unknown)[0]!r}", param=sorted(unknown)[0])
        args = {k: body.get(k) for k in ("alias", "tenant", "prefix")}
        for k, v in args.items():
            if v is not None and (not isinstance(v, str) or not v):
                raise GatewayError("invalid_request", f"{k} must be a non-empty string", param=k)
        if all(v is None for v in args.values()):
            if body.get("all") is not True:
                raise GatewayError("invalid_request", "give alias, tenant or prefix (or all: true)")
            args["prefix"] = ""
        try:
            out = await gw.cache.invalidate(**args)
        except Exception as e:  # noqa: BLE001 - the shared store is down
            raise GatewayError("upstream_unavailable", f"the shared cache store failed: {type(e).__name__}") from None
        return Response(body=orjson.dumps({"deleted": out}), headers=headers, content_type=JSON)

    return {("GET", "/admin/cache/stats"): stats, ("POST", "/admin/cache/invalidate"): invalidate}
