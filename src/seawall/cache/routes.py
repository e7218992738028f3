"""The cache's admin routes, under the admin key.

    GET  /admin/cache/stats        hit rate, hits/misses/stale by alias, tokens and USD saved,
                                   local/shared/semantic sizes (this process's view)
    POST /admin/cache/invalidate   {"alias", "tenant": "key:<id>|team:<id>|dept:<id>|global",
                                    "prefix": "<raw key prefix>", "all": true}: at least one;
                                   alias and tenant combine. Deletes from this process's levels
                                   and the shared store (Redis: SCAN MATCH, never KEYS), and
                                   tells the other instances to drop their local copies.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ..web.router import Call, FieldProblem, Route
from ..web.schema import Body, Out
from ..core.errors import GatewayError

_Text = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]*$")]


class InvalidateIn(Body):
    alias: _Text | None = None
    tenant: _Text | None = None
    prefix: _Text | None = None
    all: bool | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.alias is None and self.tenant is None and self.prefix is None and self.all is not True:
            raise FieldProblem("give alias, tenant or prefix (or all: true)", "alias")
        return self


class CacheDeleted(Out):
    local: int
    shared: int
    semantic: int
    broadcast: int | None = None


class Invalidated(Out):
    deleted: CacheDeleted


class CacheStats(Out):
    enabled: bool
    hit_rate: float
    totals: dict
    by_alias: dict
    aliases: dict
    local: dict
    shared: dict
    semantic: dict | None
    invalidation_broadcast: dict


def routes(cache) -> list[Route]:
    async def stats(call: Call):
        return call.json(cache.snapshot())

    async def invalidate(call: Call):
        b: InvalidateIn = call.body
        args = {"alias": b.alias, "tenant": b.tenant, "prefix": b.prefix}
        if all(v is None for v in args.values()):
            args["prefix"] = ""  # all: true
        try:
            out = await cache.invalidate(**args)
        except Exception as e:  # noqa: BLE001 - the shared store is down
            raise GatewayError("upstream_unavailable", f"the shared cache store failed: {type(e).__name__}") from None
        return call.json({"deleted": out})

    return [
        Route("GET", "/admin/cache/stats", stats, auth="admin", response=CacheStats, tag="cache",
              summary="Cache hit rate, savings and sizes (this process)"),
        Route("POST", "/admin/cache/invalidate", invalidate, auth="admin", body=InvalidateIn, response=Invalidated,
              tag="cache", summary="Drop cached answers by alias, tenant or key prefix, everywhere"),
    ]
