"""coalesce: identical in-flight deterministic requests share one upstream call.

Deterministic means: an embeddings request, or a chat request with temperature 0, or one
that opts in with the header `x-seawall-coalesce: 1`. Identical means the same tenant
(`Principal.tenant`, the scope the cache uses too), alias and body bytes. The first request leads and calls on; the others wait for its answer
and get their own copy (with their own request id). Streams are not coalesced. If the
leader's client goes away, the waiters make their own calls.
"""
from __future__ import annotations

import asyncio

import orjson

from ..core.errors import GatewayError
from ..core.types import Completion, Meta, Request


class Coalesce:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.inflight: dict[tuple, list[asyncio.Future]] = {}

    async def __call__(self, req: Request, call_next):
        if req.stream:
            return await call_next(req)
        pol = self.engine.policies.get(req.alias)
        if pol is None or not pol.coalesce:
            return await call_next(req)
        if req.kind == "chat" and req.body.get("temperature") != 0 and not (
                req.headers is not None and req.headers.get("x-seawall-coalesce") == "1"):
            return await call_next(req)
        key = (req.principal.tenant if req.principal is not None else "", req.kind, req.alias,
               req.raw if req.raw is not None else orjson.dumps(req.body, option=orjson.OPT_SORT_KEYS))
        waiters = self.inflight.get(key)
        if waiters is not None:
            return await self._follow(req, waiters, call_next)
        waiters = self.inflight[key] = []
        try:
            result = await call_next(req)
        except BaseException as e:
            if self.inflight.get(key) is waiters:
                del self.inflight[key]
            for f in waiters:
                if not f.done():
                    if isinstance(e, GatewayError):
                        f.set_exception(e)
                    else:
                        f.cancel()  # the leader's own trouble: followers call on their own
            raise
        if self.inflight.get(key) is waiters:
            del self.inflight[key]
        if waiters and isinstance(result, Completion):
            for f in waiters:
                if not f.done():
                    f.set_result(result)
        elif waiters:
            for f in waiters:
                f.cancel()
        return result

    async def _follow(self, req: Request, waiters: list, call_next):
        fut = asyncio.get_running_loop().create_future()
        waiters.append(fut)
        try:
            shared: Completion = await fut
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if fut.cancelled() and task is not None and task.cancelling() == 0:
                return await call_next(req)  # the leader went away, not our client
            raise
        m = shared.meta
        meta: Meta = req.meta
        meta.deployment, meta.usage, meta.ttft_ms = m.deployment, m.usage, m.ttft_ms
        meta.fallback_level = m.fallback_level
        meta.extra.update(m.extra)
        meta.extra["x-seawall-coalesced"] = m.request_id
        self.engine.metrics.inc(self.engine.metrics.coalesced, req.alias)
        return Completion(meta, raw=shared.raw)
