"""execute: send the request to a deployment of its route and return what it answers."""
from __future__ import annotations

from ..core.errors import GatewayError
from ..core.types import Request, Result
from ..providers.base import UpstreamError


class Execute:
    def __init__(self, metrics) -> None:
        self.metrics = metrics

    async def __call__(self, req: Request) -> Result:
        dep = req.route.pick()
        if dep is None:
            raise GatewayError("upstream_unavailable", f"no deployment can serve {req.alias!r} now", retry_after=1.0)
        req.meta.attempts += 1
        req.meta.deployment = dep.id
        provider = dep.provider
        try:
            if req.kind == "embeddings":
                return await provider.embed(dep, req)
            if req.stream:
                return await provider.stream(dep, req)
            return await provider.chat(dep, req)
        except UpstreamError as e:
            self.metrics.upstream_error(dep.id, e.error_class.label)
            raise
