"""From a public model name (alias) to the deployments that may serve it."""
from __future__ import annotations

from ..config import Config, ProviderConfig, Timeouts
from ..core.errors import GatewayError
from . import make_provider
from .base import Deployment, Provider


def merge_timeouts(*layers: Timeouts | None) -> Timeouts:
    """Later layers override only the fields they set."""
    values: dict = {}
    for layer in layers:
        if layer is not None:
            values.update({k: getattr(layer, k) for k in layer.model_fields_set})
    return Timeouts(**values)


class Route:
    """An alias's deployments and timeouts. Which deployment answers is the balancer's choice
    (resilience/balance.py)."""

    __slots__ = ("alias", "kind", "deployments", "timeouts")

    def __init__(self, alias: str, kind: str, deployments: list[Deployment], timeouts: Timeouts) -> None:
        self.alias, self.kind, self.deployments, self.timeouts = alias, kind, deployments, timeouts


def same_provider(a: ProviderConfig, b: ProviderConfig) -> bool:
    """The same upstream with the same settings (secrets compared by value: two loads of one
    file make two `Secret` objects)."""
    key = (lambda s: s.get() if s else None)
    return a.model_dump(exclude={"api_key"}) == b.model_dump(exclude={"api_key"}) and key(a.api_key) == key(b.api_key)


class Router:
    """The alias table of one configuration. Built again on a reload with `previous`: a provider
    whose settings did not change is kept (with its pooled connections); the ones not kept are
    in `retired`, for the caller to close once the requests still using them are done."""

    def __init__(self, cfg: Config, previous: "Router | None" = None) -> None:
        self.profiles = cfg.profiles
        old = previous.providers if previous is not None else {}
        self.providers: dict[str, Provider] = {}
        for p in cfg.providers:
            kept = old.get(p.name)
            if kept is None or kept.heartbeat_s != cfg.server.heartbeat_s or not same_provider(kept.cfg, p):
                kept = make_provider(p, cfg.server.heartbeat_s)
            self.providers[p.name] = kept
        self.retired: list[Provider] = [p for n, p in old.items() if self.providers.get(n) is not p]
        self.deployments: dict[str, Deployment] = {}
        self.routes: dict[str, Route] = {}
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
        for p in self.providers.values():
            await p.close()


class RouteStage:
    """route: resolve the alias, attach its compiled profile, and set the request's deadline from
    the alias's total timeout."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, req, call_next):
        route = self.router.resolve(req.alias, req.kind)
        req.route = route
        req.profile = self.router.profiles[route.alias]
        deadline = req.started + route.timeouts.total
        req.deadline = deadline if req.deadline is None else min(req.deadline, deadline)
        return await call_next(req)
