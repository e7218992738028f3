"""The house: the one place that builds the gateway's parts and says in what order they run.

    stores   -> the state store and the SQL engine, opened once and shared by every feature
    services -> one per feature (governance, guard, cache, resilience), started in this order
                and closed in the reverse order
    stages   -> the request's path, read top to bottom below

A new capability is one package (its config section, service, stage and routes): one line in
the stage list below, its service in `services`, its routes in `routes`. No other module wires features together:
where one feature needs another (the cache asks the guard's verdict; the fallback cascade asks
the cache for a stale answer), the dependency is handed over here.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

# Every feature's config section is registered (seawall/sections.py) before any parse.
from . import sections as _sections  # noqa: F401
from .actions.routes import routes as actions_routes
from .actions.service import ActionsService
from .actions.stage import ActionsStage
from .cache.routes import routes as cache_routes
from .cache.stage import CacheService, CacheStage
from .config import Config
from .core.stage import Handler, compose
from .govern.audit import append as audit_append
from .govern.audit import make_record
from .govern.routes import routes as govern_routes
from .govern.service import Governance
from .govern.stages import Admit, AuditStage, Identify
from .guard.stage import GuardIn, GuardService
from .jobs.kinds import JobKind
from .jobs.routes import routes as jobs_routes
from .jobs.routes import submit_call, wants_async
from .jobs.service import JobsService
from .observe.account import Account
from .observe.metrics import Metrics
from .providers.routing import Router, RouteStage
from .resilience.coalesce import Coalesce
from .resilience.engine import Resilience
from .resilience.execute import Execute
from .resilience.routes import routes as resilience_routes
from .sandbox import routes as sandbox_api
from .sandbox.routes import routes as sandbox_routes
from .sandbox.service import SandboxService
from .store.stores import Stores

log = logging.getLogger("seawall")


@dataclass
class Assembly:
    config: Config
    metrics: Metrics
    router: Router
    stores: Stores
    governance: Governance
    guard: GuardService
    resilience: Resilience
    cache: CacheService
    actions: ActionsService
    sandbox: SandboxService
    jobs: JobsService
    stages: list
    handle: Handler
    routes: list  # the features' HTTP routes (web.router.Route), served next to the faces' own

    @property
    def services(self) -> list:
        """Start order; closing runs in reverse (the cache drains before the stores close,
        health checks stop before the upstream connections close)."""
        return [self.governance, self.guard, self.resilience, self.cache, self.actions, self.sandbox,
                self.jobs]  # jobs last: its workers run through the others

    async def start(self) -> None:
        await self.stores.start()
        for service in self.services:
            await service.start()

    async def aclose(self) -> None:
        for part in [*reversed(self.services), self.router, self.stores]:
            started = time.monotonic()
            await (part.close() if part is self.router else part.aclose())
            if (took := time.monotonic() - started) > 1.0:  # a slow stop says which part held it
                log.warning("closing %s took %.1f s", type(part).__name__, took)


def assemble(config: Config) -> Assembly:
    metrics = Metrics(m.name for m in config.models)
    router = Router(config)
    stores = Stores(config)
    governance = Governance(config, stores)
    guard = GuardService(config, router, metrics.registry)
    cache = CacheService(config, router, metrics, stores, answer_passes=guard.answer_passes)
    resilience = Resilience(config, router, metrics.registry, stale=cache.stale)

    def audit(kind, outcome, status, **fields):  # actions' decisions go into governance's audit log
        if governance.audit is not None:
            governance.audit.submit(make_record(kind, outcome, status, **fields))

    actions = ActionsService(config, stores.sql, audit=audit, counts=True, registry=metrics.registry)
    sandbox = SandboxService(config.sandbox, audit=lambda receipt: governance.record(
        "sandbox", receipt["exit_reason"], receipt))
    stages = [
        Account(metrics, config.server.access_log),  # account: metrics + log, sees every outcome
        AuditStage(governance),                      # account: audit record, every outcome
        Identify(governance),                        # identify: virtual key -> principal
        RouteStage(router),                          # route: alias -> deployments, profile, deadline
        Admit(governance),                           # admit: rate limits, budget reserve; settle, cost
        GuardIn(guard),                              # guard: in PII, secrets, injection, tags; out leaks, tokens
        ActionsStage(actions),                       # actions: tool calls in answers pass policy (per alias)
        CacheStage(cache),                           # cache: exact -> semantic (tenant-scoped); store answers
        Coalesce(resilience),                        # coalesce: identical in-flight requests share a call
    ]
    handle = compose(stages, terminal=Execute(metrics, resilience))  # execute: LB, breaker, retry, hedge,
    cache.resubmit = handle                                         # fallback, stale, degraded, escalation
    run_code = actions.gate("sandbox", "run_code") if config.actions.enabled else None  # code runs under policy
    jobs = JobsService(config, stores, handle, metrics.registry)    # async jobs run through the same handle,
    jobs.revalidate = governance.current                            # under their submitter as it is now
    if governance.audit is not None and governance.enabled:         # a job's charge, stored with its answer,
        jobs.settle = lambda recs: audit_append(governance.engine, recs)  # reaches the audit log once
    run_later = None
    if config.sandbox.enabled:  # executions are a job kind too (jobs imports no feature: it gets them here)
        jobs.register(JobKind(sandbox_api.JOB_KIND, "sandbox", lambda body, _p: sandbox_api.job_body(sandbox, body),
                              lambda body, p: sandbox_api.run_job(sandbox, body, p)))
        if jobs.enabled:
            run_later = sandbox_api.AsyncSubmit(wants_async, lambda call, body: submit_call(
                jobs, call, sandbox_api.JOB_KIND, body))
    routes = [*govern_routes(governance), *cache_routes(cache), *resilience_routes(resilience), *actions_routes(actions),
              *(sandbox_routes(sandbox, gate=run_code, deferral=run_later) if config.sandbox.enabled else ()),
              *jobs_routes(jobs)]
    return Assembly(config, metrics, router, stores, governance, guard, resilience, cache, actions, sandbox, jobs,
                    stages, handle, routes)
