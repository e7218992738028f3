"""From a public model name (alias) to the deployments that may serve it."""
from __future__ import annotations

from ..config import Config, Timeouts
from ..providers import make_provider
from ..providers.base import Deployment, Provider
from .errors import GatewayError


def merge_timeouts(*layers: Timeouts | None) -> Timeouts:
    """Later layers override only the fields they set."""
    values: dict = {}
    for layer in layers:
        if layer is not None:
            values.update({k: getattr(layer, k) for k in layer.model_fields_set})
    return Timeouts(**values)


class Route:
    __slots__ = ("alias", "kind", "deployments", "timeouts", "_rr")

    def __init__(self, alias: str, kind: str, deployments: list[Deployment], timeouts: Timeouts) -> None:
        self.alias, self.kind, self.deployments, self.timeouts = alias, kind, deployments, timeouts
        self._rr = {d.id: 0.0 for d in deployments}

    def pick(self, exclude: frozenset[str] | set[str] = frozenset()) -> Deployment | None:
        """Smooth weighted round-robin among the best priority with a candidate left."""
        candidates = [d for d in self.deployments if d.id not in exclude]
        if not candidates:
            return None
        best = min(d.priority for d in candidates)
        candidates = [d for d in candidates if d.priority == best]
        if len(candidates) == 1:
            return candidates[0]
        total = 0.0
        chosen = None
        for d in candidates:
            self._rr[d.id] += d.weight
            total += d.weight
            if chosen is None or self._rr[d.id] > self._rr[chosen.id]:
                chosen = d
        self._rr[chosen.id] -= total
        return chosen


class Router:
    def __init__(self, cfg: Config) -> None:
        self.providers: dict[str, Provider] = {
            p.name: make_provider(p, cfg.server.heartbeat_s) for p in cfg.providers
        }
        self.deployments: dict[str, Deployment] = {}
        self.routes: dict[str, Route] = {}
        self.on_close: list = []
        for alias in cfg.models:
            deps = []
            for t in alias.targets:
                pcfg = cfg.provider(t.provider)
                dep_id = f"{t.provider}/{t.model}"
                dep = self.deployments.get(dep_id)
                if dep is None:
                    dep = Deployment(
                        id=dep_id, provider=self.providers[t.provider], model=t.model, weight=t.weight,
                        priority=t.priority, region=t.region or pcfg.region,
                        tags=frozenset(t.tags) | frozenset(pcfg.tags), price=t.price,
                        timeouts=merge_timeouts(cfg.timeouts, alias.timeouts, pcfg.timeouts, t.timeouts),
                    )
                    self.deployments[dep_id] = dep
                deps.append(dep)
            self.routes[alias.name] = Route(alias.name, alias.kind, deps,
                                            merge_timeouts(cfg.timeouts, alias.timeouts))

    def resolve(self, alias: str, kind: str) -> Route:
        route = self.routes.get(alias)
        if route is None or route.kind != kind:
            what = "an embeddings model" if kind == "embeddings" else "a chat model"
            raise GatewayError("model_not_found", f"the model {alias!r} does not exist or is not {what} here",
                               param="model")
        return route

    async def close(self) -> None:
        for hook in self.on_close:  # e.g. stop active health checks before the sessions close
            await hook()
        for p in self.providers.values():
            await p.close()


class RouteStage:
    """route: resolve the alias and set the request's deadline from the alias's total timeout."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, req, call_next):
        route = self.router.resolve(req.alias, req.kind)
        req.route = route
        deadline = req.started + route.timeouts.total
        req.deadline = deadline if req.deadline is None else min(req.deadline, deadline)
        return await call_next(req)
