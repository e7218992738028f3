"""The house: the one place that builds the gateway's parts and says in what order they run.

    stores   -> the state store and the SQL engine, opened once and shared by every feature
    services -> one per feature (governance, guard, cache, resilience), started in this order
                and closed in the reverse order
    stages   -> the request's path, read top to bottom below: with the alias table (router) and
                the resilience policies, the per-config Pipeline, which a reload rebuilds over
                the same services and stores and swaps in (Assembly.reconfigure)

A new capability is one package (its config section, service, stage and routes): one line in
the stage list below, its service in `services`, its routes in `routes`. No other module wires features together:
where one feature needs another (the cache asks the guard's verdict; the fallback cascade asks
the cache for a stale answer), the dependency is handed over here.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

# Every feature's config section is registered (seawall/sections.py) before any parse.
from . import sections as _sections  # noqa: F401
from .actions import deferred as actions_deferred
from .actions.routes import routes as actions_routes
from .actions.service import ActionsService
from .actions.stage import ActionsStage
from .cache.routes import routes as cache_routes
from .cache.stage import CacheService, CacheStage
from .config import Config
from .core.stage import Handler, compose
from .govern.audit import append as audit_append
from .govern.routes import routes as govern_routes
from .govern.service import Governance
from .govern.stages import Admit, AuditStage, Identify
from .guard.stage import GuardIn, GuardService
from .jobs.kinds import JobKind
from .jobs.routes import routes as jobs_routes
from .jobs.submit import submit_call, submit_call_created, wants_async
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


@dataclass(frozen=True)
class Pipeline:
    """What one configuration builds: the alias table, the resilience policies over the kept
    deployment state, and the stages composed over the long-lived services. A reload builds a
    new one and swaps it in with one assignment (`Assembly.pipeline`): a request that entered the
    old handle finishes on it, the next one takes the new."""

    config: Config
    router: Router
    resilience: Resilience
    stages: list
    handle: Handler


@dataclass
class Assembly:
    metrics: Metrics
    stores: Stores
    governance: Governance
    guard: GuardService
    cache: CacheService
    actions: ActionsService
    sandbox: SandboxService
    jobs: JobsService
    pipeline: Pipeline = None  # type: ignore[assignment]  # built over the services, right after them
    routes: list = field(default_factory=list)  # the features' HTTP routes (web.router.Route)
    retired: list = field(default_factory=list)  # providers a reload replaced, not closed yet
    _closing_retired: set = field(default_factory=set)  # their delayed closes (tasks)

    config = property(lambda self: self.pipeline.config)
    router = property(lambda self: self.pipeline.router)
    resilience = property(lambda self: self.pipeline.resilience)
    stages = property(lambda self: self.pipeline.stages)
    handle = property(lambda self: self.pipeline.handle)

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
        for task in list(self._closing_retired):  # what they were waiting to close is closed below
            task.cancel()
        for part in [*reversed(self.services), self.router, *self.retired, self.stores]:
            started = time.monotonic()
            await (part.aclose() if hasattr(part, "aclose") else part.close())
            if (took := time.monotonic() - started) > 1.0:  # a slow stop says which part held it
                log.warning("closing %s took %.1f s", type(part).__name__, took)

    async def reconfigure(self, config: Config, before_swap: Callable[[], None] | None = None) -> Pipeline:
        """Apply a new configuration's aliases, providers, prices, timeouts, resilience, guard and
        cache policies without a restart (api/reload.py decides what else needs one). What takes
        time (new models, the embedder) is loaded first; then `before_swap` (which may still
        refuse: nothing has changed yet) and, in one step with no await between, the services
        take their new policies and the new pipeline replaces the old."""
        old = self.pipeline
        router = Router(config, previous=old.router)
        resilience = Resilience(config, router, self.metrics.registry, previous=old.resilience)
        commits = [await self.guard.prepare(config, router), await self.cache.prepare(config, router)]
        if before_swap is not None:
            before_swap()
        for commit in commits:  # from here to the swap: no await, so no request sees half of it
            commit()
        access_log = next((s.log_requests for s in old.stages if isinstance(s, Account)), config.server.access_log)
        self.pipeline = new = _pipeline(config, router, resilience, self, access_log)
        self.metrics.aliases = self.metrics.aliases | {m.name for m in config.models}  # old labels stay valid
        if old.resilience.health is not None:
            await old.resilience.health.stop()
        await resilience.start()
        await self.cache.start()  # invalidation broadcast when an alias is now cached
        if router.retired:  # requests still in flight may use them: closed once those must have ended
            grace = max((d.timeouts.total for d in old.router.deployments.values()), default=0.0) + 1.0
            self.retired += router.retired
            task = asyncio.create_task(self._close_retired(router.retired, grace), name="close-retired-providers")
            self._closing_retired.add(task)
            task.add_done_callback(self._closing_retired.discard)
        return new

    async def _close_retired(self, providers: list, after_s: float) -> None:
        """A request's deadline bounds its use of a provider, so after the longest one they are idle."""
        await asyncio.sleep(after_s)
        for p in providers:
            self.retired.remove(p)
            try:
                await p.close()
            except Exception:  # noqa: BLE001 - a close that fails must not stop the others
                log.exception("closing a replaced provider failed")


def _pipeline(config: Config, router: Router, resilience: Resilience, parts: "Assembly",
              access_log: bool) -> Pipeline:
    """The stage list over the long-lived services; the composed handle also runs the cache's
    refresh-ahead and the jobs."""
    stages = [
        Account(parts.metrics, access_log),          # account: metrics + log, sees every outcome
        AuditStage(parts.governance),                # account: audit record, every outcome
        Identify(parts.governance),                  # identify: virtual key -> principal
        RouteStage(router),                          # route: alias -> deployments, profile, deadline
        Admit(parts.governance),                     # admit: rate limits, budget reserve; settle, cost
        GuardIn(parts.guard),                        # guard: in PII, secrets, injection, tags; out leaks, tokens
        ActionsStage(parts.actions),                 # actions: tool calls in answers pass policy (per alias)
        CacheStage(parts.cache),                     # cache: exact -> semantic (tenant-scoped); store answers
        Coalesce(resilience),                        # coalesce: identical in-flight requests share a call
    ]
    handle = compose(stages, terminal=Execute(parts.metrics, resilience))  # execute: LB, breaker, retry, hedge,
    parts.cache.resubmit = handle                                         # fallback, stale, degraded, escalation
    parts.jobs.handle = handle  # async jobs run through the same handle
    return Pipeline(config, router, resilience, stages, handle)


def assemble(config: Config) -> Assembly:
    metrics = Metrics(m.name for m in config.models)
    router = Router(config)
    stores = Stores(config)
    governance = Governance(config, stores)
    guard = GuardService(config, router, metrics.registry)
    cache = CacheService(config, router, metrics, stores, answer_passes=guard.answer_passes)
    resilience = Resilience(config, router, metrics.registry, stale=cache.stale)

    # actions' decisions go into governance's audit log (core.types.AuditLog), even with
    # governance off: a policy proxy that acts without a record is not one
    actions = ActionsService(config, stores.sql, audit=governance, counts=True, registry=metrics.registry)

    def sandbox_receipt(receipt: dict) -> None:  # with governance's other records: only when it is on
        if governance.enabled:
            governance.record("sandbox", receipt["exit_reason"], detail=receipt)

    sandbox = SandboxService(config.sandbox, audit=sandbox_receipt)
    run_code = actions.gate("sandbox", "run_code") if config.actions.enabled else None  # code runs under policy
    jobs = JobsService(config, stores, None, metrics.registry)
    jobs.revalidate = governance.current  # jobs run under their submitter as it is now
    if governance.audit is not None and governance.enabled:         # a job's charge, stored with its answer,
        jobs.settle = lambda recs: audit_append(governance.engine, recs)  # reaches the audit log once
    parts = Assembly(metrics, stores, governance, guard, cache, actions, sandbox, jobs)
    parts.pipeline = _pipeline(config, router, resilience, parts, config.server.access_log)
    run_later = None
    if config.sandbox.enabled:  # executions are a job kind too (jobs imports no feature: it gets them here)
        jobs.register(JobKind(sandbox_api.JOB_KIND, "sandbox", lambda body, _p: sandbox_api.job_body(sandbox, body),
                              lambda body, p: sandbox_api.run_job(sandbox, body, p)))
        if jobs.enabled:
            run_later = sandbox_api.AsyncSubmit(wants_async, lambda call, body: submit_call(
                jobs, call, sandbox_api.JOB_KIND, body))
    act_later = None
    if config.actions.enabled:  # an action as a job: it waits for its approval without holding a worker
        jobs.register(JobKind(actions_deferred.JOB_KIND, "actions", actions_deferred.prepare(actions),
                              actions_deferred.runner(actions, False), retry=False,
                              resume=actions_deferred.runner(actions, True)))
        if jobs.enabled:
            actions.wake_job = jobs.release
            act_later = actions_deferred.Deferral(wants_async, lambda call, body, not_before: submit_call_created(
                jobs, call, actions_deferred.JOB_KIND, body, not_before=not_before))
    parts.routes = [*govern_routes(governance), *cache_routes(cache), *resilience_routes(lambda: parts.resilience),
                    *actions_routes(actions, deferral=act_later),
                    *(sandbox_routes(sandbox, gate=run_code, deferral=run_later) if config.sandbox.enabled else ()),
                    *jobs_routes(jobs)]
    return parts
