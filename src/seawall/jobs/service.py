"""JobsService: submit jobs, run them through the pipeline, keep the queue tidy.

Workers run inside each gateway (`jobs.workers`, started by the assembly) and in `seawall
worker` processes (the same service with no HTTP face). A worker claims a job, runs it through
the gateway's composed handler under the submitter's principal (so identity, limits, budget,
guards, cache, resilience and audit apply as for a live request), renews its lease while the
call runs, and records the outcome only while it still holds the lease.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from dataclasses import asdict, fields
from typing import Any, Awaitable, Callable

import orjson
from prometheus_client import Gauge

from ..core import validate
from ..core.errors import GatewayError
from ..core.types import Meta, Principal, Request
from ..wire import anthropic_inbound as anthropic
from . import responses_wire, retention
from .config import JobsConfig
from .kinds import JobKind
from .pacing import Pacer
from .queue import Duplicate, Job, Queue
from .webhook import Deliverer

log = logging.getLogger("seawall.jobs")

# "responses": a /v1/responses request kept as {"chat": its chat body, "response": {"id",
# "request", "created_at"}}; its result is stored in the Responses wire format
KINDS = ("chat", "embeddings", "messages", "responses")
RETRYABLE = {429, 500, 502, 503, 504}  # upstream trouble: try again later; a client mistake will not change
QUEUED_TTL_S = 1.0  # a tenant's queued count is reused this long for the max_queued_per_tenant check


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


def principal_to_dict(p: Principal | None) -> dict | None:
    if p is None:
        return None
    d = asdict(p)
    for k, v in d.items():
        if isinstance(v, frozenset):
            d[k] = sorted(v)
    return d


def principal_from_dict(d: dict | None) -> Principal | None:
    if d is None:
        return None
    known = {f.name for f in fields(Principal)}
    kw = {k: v for k, v in d.items() if k in known}
    for k in ("allowed_models", "allowed_departments"):
        if kw.get(k) is not None:
            kw[k] = frozenset(kw[k])
    return Principal(**kw)


def tenant_of(p: Principal | None) -> str:
    return p.tenant if p is not None else "open"  # an open gateway is one tenant


class JobsService:
    def __init__(self, config, stores, handle: Callable[[Request], Awaitable[Any]] | None = None,
                 registry=None) -> None:
        self.config: JobsConfig = config.jobs
        self.enabled = self.config.enabled
        self.queue = Queue(stores.sql)
        self.handle = handle  # the composed pipeline, set by the assembly
        # the submitter as governance knows it when the job runs (a revoked key's jobs fail closed)
        self.revalidate: Callable[[Principal | None], Principal | None] = lambda p: p
        # appends audit records the log may already hold, skipping those it does (set by the
        # assembly when there is an audit log): how a charge stored with its answer is settled
        self.settle: Callable[[list[dict]], Awaitable[int]] | None = None
        self.max_json_depth = config.server.max_json_depth
        self.max_body = config.server.max_body_bytes
        self.owner = f"{os.uname().nodename[:32]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pacer = Pacer(self.config.pacing, self.config.live_share, self.config.pace_by_headers)
        self.webhooks = Deliverer(self.config.webhooks, self.queue, self.owner)
        self._tasks: list[asyncio.Task] = []
        self._wake: asyncio.Event | None = None  # made in start(), on the running loop
        self._closing = False
        self.in_process_workers = self.config.workers
        self.depth_gauge = self.age_gauge = self.waiting_gauge = None  # per-process registries only
        if registry is not None:
            self.depth_gauge = Gauge("seawall_jobs_queued", "Queued jobs due to run, by alias", ["alias"],
                                     registry=registry)
            self.age_gauge = Gauge("seawall_jobs_oldest_age_seconds",
                                   "How long the longest-due queued job has waited for a worker, by alias",
                                   ["alias"], registry=registry)
            self.waiting_gauge = Gauge("seawall_jobs_waiting", "Queued jobs not due yet (held for an approval, "
                                       "a retry's back-off), by alias", ["alias"], registry=registry)
        self._seen_aliases: set[str] = set()
        self.kinds: dict[str, JobKind] = {}  # kinds other features run (registered by the assembly)
        self._queued_seen: dict[str, tuple[int, float]] = {}  # tenant -> (queued, monotonic time counted)

    def register(self, kind: JobKind) -> None:
        if kind.name in KINDS or kind.name in self.kinds or len(kind.name) > 32:
            raise ValueError(f"job kind {kind.name!r} is taken or longer than 32 characters")
        self.kinds[kind.name] = kind

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self, workers: int | None = None) -> None:
        if not self.enabled or self._tasks:
            return
        self._closing = False
        self._wake = asyncio.Event()
        n = self.in_process_workers if workers is None else workers
        self._tasks = [asyncio.create_task(self._worker(i), name=f"jobs-worker-{i}") for i in range(n)]
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="jobs-housekeeping"))
        await self.webhooks.start()

    async def aclose(self) -> None:
        self._closing = True
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        await self.webhooks.aclose()
        await self.queue.aclose()
        try:  # a clean stop settles what is due now; a killed process leaves it to the others
            await self.settle_charges(time.time() - self.config.charge_settle_s)
        except Exception:
            log.exception("jobs: settling charges at shutdown failed")

    # ---- submitting ---------------------------------------------------------------------

    def _check(self) -> None:
        if not self.enabled:
            raise GatewayError("invalid_request", "async jobs are off on this gateway (jobs.enabled)", status=400)

    def build_row(self, kind: str, body: dict, principal: Principal | None, *, priority: int = 0,
                  idempotency_key: str | None = None, webhook_url: str | None = None, **extra) -> dict:
        """A validated job row; GatewayError (400) for bad input, before anything is stored."""
        self._check()
        if kind in self.kinds:
            extension = self.kinds[kind]
            body, alias = extension.prepare(dict(body), principal), extension.label
        elif kind not in KINDS:
            raise GatewayError("invalid_request", f"jobs run chat, embeddings, messages or responses, not {kind!r}")
        else:
            body, alias = self._prepare_model_call(kind, body)
        if idempotency_key is not None and (len(idempotency_key) > 256 or not idempotency_key.isprintable()):
            raise GatewayError("invalid_request", "Idempotency-Key must be printable and at most 256 characters")
        if not -100 <= priority <= 100:
            raise GatewayError("invalid_request", "priority must be between -100 and 100", param="priority")
        if webhook_url is not None:
            self.webhooks.check_url(webhook_url)
        now = time.time()
        return dict(
            id=new_job_id(), tenant=tenant_of(principal), principal=_json(principal_to_dict(principal)), kind=kind,
            alias=alias, body=_json(body), status="queued", priority=priority, attempts=0,
            max_attempts=self.config.retry.max_attempts, run_after=now, idempotency_key=idempotency_key,
            webhook_url=webhook_url, created_at=now, expires_at=now + self.config.default_ttl_s, **extra,
        )

    def _prepare_model_call(self, kind: str, body: dict) -> tuple[dict, str]:
        body = dict(body)
        body.pop("stream", None)  # a job's answer is kept whole
        body.pop("stream_options", None)
        if kind == "messages":
            alias = validate.chat_body(anthropic.messages_request_to_chat(dict(body)), self.max_json_depth)
        elif kind == "responses":
            body["chat"] = {k: v for k, v in body["chat"].items() if k not in ("stream", "stream_options")}
            alias = validate.chat_body(body["chat"], self.max_json_depth)
        elif kind == "embeddings":
            alias = validate.embeddings_body(body, self.max_json_depth)
        else:
            alias = validate.chat_body(body, self.max_json_depth)
        return body, alias

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def submit(self, kind: str, body: dict, principal: Principal | None, *, idempotency_key: str | None = None,
                     priority: int = 0, webhook_url: str | None = None,
                     not_before: float | None = None) -> tuple[Job, bool]:
        """Enqueue; returns (job, created). An Idempotency-Key this tenant already used returns the
        existing job and created=False. Bad input raises GatewayError before anything is stored.
        A job that names no webhook gets its key's (set by an admin, checked then); batch lines,
        which come through build_row, never do: one call per line would flood the receiver.
        `not_before`: the job waits, queued and holding no worker, until then or until `release`
        (its time to start, default_ttl_s, counts from then)."""
        row = self.build_row(kind, body, principal, priority=priority, idempotency_key=idempotency_key,
                             webhook_url=webhook_url)
        if not_before is not None and not_before > row["run_after"]:
            row["run_after"] = not_before
            row["expires_at"] = not_before + self.config.default_ttl_s
        if webhook_url is None and principal is not None and principal.webhook_url and self.webhooks.signer:
            row["webhook_url"] = principal.webhook_url  # its address is vetted before each delivery
        tenant = row["tenant"]
        if idempotency_key is not None:
            existing = await self.queue.find_idempotent(tenant, idempotency_key)
            if existing is not None:
                return await self.queue.get(existing), False
        if await self._queued(tenant) >= self.config.max_queued_per_tenant:
            raise GatewayError("rate_limited", "too many queued jobs for this key; try again later", status=429)
        try:
            await self.queue.insert(row)
        except Duplicate as d:  # a concurrent submission with the same key won the race
            return await self.queue.get(d.job_id), False
        if tenant in self._queued_seen:
            n, at = self._queued_seen[tenant]
            self._queued_seen[tenant] = (n + 1, at)
        self.wake()
        return Job.from_mapping({**_UNSET, **row}), True

    async def _queued(self, tenant: str) -> int:
        """The tenant's queued jobs, counted at most QUEUED_TTL_S ago (plus this process's
        submissions since): counting on every submission costs time that grows with the queue
        (10 ms at 10,000 queued), and the cap is a guard against bursts, not an exact quota."""
        now = time.monotonic()
        seen = self._queued_seen.get(tenant)
        if seen is not None and now - seen[1] < QUEUED_TTL_S:
            return seen[0]
        if len(self._queued_seen) > 10000:  # bounded: many tenants, each counted afresh
            self._queued_seen.clear()
        n = await self.queue.queued_for(tenant)
        self._queued_seen[tenant] = (n, now)
        return n

    async def release(self, job_id: str) -> bool:
        """A job submitted with `not_before` may run now (another feature's event: an action's
        approval). Idempotent; False when the job was not waiting."""
        released = await self.queue.release(job_id)
        self.wake()
        return released

    async def get(self, job_id: str, principal: Principal | None) -> Job:
        job = await self.queue.get(job_id, tenant_of(principal))
        if job is None:
            raise GatewayError("not_found", f"no job {job_id}")
        return job

    async def cancel(self, job_id: str, principal: Principal | None) -> Job:
        job = await self.queue.cancel(job_id, tenant_of(principal))
        if job is None:
            raise GatewayError("not_found", f"no job {job_id}")
        return job

    # ---- running ------------------------------------------------------------------------

    async def _worker(self, i: int) -> None:
        while not self._closing:
            try:
                claimed = await self.queue.claim(self.owner, 1, self.config.lease_s, [*KINDS, *self.kinds])
            except Exception:
                log.exception("jobs: claim failed")
                claimed = []
            if not claimed:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_s)
                except asyncio.TimeoutError:
                    pass
                continue
            for job in claimed:
                try:
                    await self.run(job)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("jobs: running %s failed", job.id)

    async def run(self, job: Job) -> None:
        """Run one claimed job to its recorded outcome, renewing the lease meanwhile."""
        if job.attempts > job.max_attempts:  # taken over after the last attempt's worker died
            await self.queue.finish(job.id, self.owner, "failed", error={
                "code": "attempts_exhausted", "status": 500, "message": "the worker running the last attempt stopped"})
            return
        await self.pacer.wait(job.alias)
        committing: list[bool] = []  # set by the finishing write: from then on the task is not cancelled
        task = asyncio.create_task(self._execute(job, committing))
        lease = self.config.lease_s
        while True:
            done, _ = await asyncio.wait({task}, timeout=lease / 3)
            if done:
                break
            if not await self.queue.renew(job.id, self.owner, lease):  # cancelled, taken over, or just stored
                if committing:  # our own finishing write ended the lease: let the audit record it
                    await asyncio.wait({task})
                    break
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
                return
        try:
            result = task.result()
        except GatewayError as e:
            err = {"code": e.code, "status": e.status, "message": e.message}
            if e.status == 429:
                self.pacer.back_off(job.alias, e.retry_after)
            once = job.kind in self.kinds and not self.kinds[job.kind].retry
            if e.status in RETRYABLE and job.attempts < job.max_attempts and not once:
                r = self.config.retry
                delay = min(r.backoff_s * 2 ** (job.attempts - 1), r.max_backoff_s)
                if e.retry_after:
                    delay = max(delay, e.retry_after)
                await self.queue.retry_later(job.id, self.owner, delay, err)
                return
            await self.queue.finish(job.id, self.owner, "failed", http_status=e.status, error=err)
        except Exception:
            log.exception("jobs: %s raised", job.id)
            await self.queue.finish(job.id, self.owner, "failed", http_status=500, error={
                "code": "internal_error", "status": 500, "message": "internal error"})
        else:
            if result is not None:
                self.pacer.observe(job.alias, result.meta.upstream_limits)
        if job.webhook_url:
            self.webhooks.kick()

    async def _execute(self, job: Job, committing: list[bool]):
        """Run the job's request; its answer is stored by `commit`, which the audit stage awaits
        before it records the charge (or, without an audit, right after the pipeline). Another
        feature's kind (the sandbox) has no upstream and no charge: its result is stored here."""
        extension = self.kinds.get(job.kind)
        if extension is not None:
            fn = extension.resume if job.attempts > 1 and extension.resume is not None else extension.run
            answer = await fn(job.body, self.revalidate(principal_from_dict(job.principal)))
            committing.append(True)
            await self.queue.finish(job.id, self.owner, "completed", http_status=200, result=answer)
            return None
        body = job.body
        kind = "embeddings" if job.kind == "embeddings" else "chat"
        chat_body = (anthropic.messages_request_to_chat(dict(body)) if job.kind == "messages"
                     else body["chat"] if job.kind == "responses" else body)
        stored: list[bool] = []

        async def commit(result, charge: dict | None = None) -> bool:
            if not stored:  # once, whoever calls first
                committing.append(True)
                answer = result.body
                if job.kind == "messages":
                    answer = anthropic.chat_response_to_messages(answer, body.get("model") or job.alias)
                elif job.kind == "responses":
                    r = body["response"]
                    answer = responses_wire.from_chat(r["id"], r["request"], answer, r["created_at"])
                stored.append(await self.queue.finish(job.id, self.owner, "completed", http_status=200,
                                                      result=answer, cost_usd=result.meta.cost_usd,
                                                      charge=charge))
            return stored[0]

        req = Request(kind=kind, alias=job.alias, body=chat_body, stream=False,
                      meta=Meta(f"{job.id}-{job.attempts}"), raw=None, headers=None, cache=None,
                      principal=self.revalidate(principal_from_dict(job.principal)), commit=commit)
        result = await self.handle(req)
        await commit(result)
        return result

    # ---- housekeeping -------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Fail dead leases past their last attempt, expire stale queued jobs, purge old results,
        refresh the depth and age gauges."""
        last_purge = 0.0
        every = min(self.config.lease_s / 2, 5.0)
        while not self._closing:
            try:
                await self.queue.sweep()
                now = time.time()
                await self.settle_charges(now - self.config.charge_settle_s)
                if now - last_purge >= self.config.purge_every_s:
                    last_purge = now
                    n = await retention.purge(self.queue.engine, now, self.config)
                    if n:
                        log.info("jobs: purged %s", n)
                await self.refresh_gauges()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("jobs: housekeeping failed")
            await asyncio.sleep(every)

    async def settle_charges(self, before: float) -> int:
        """Charges stored with their answers before `before`: append each to the audit log unless
        it is there already (a process killed between storing an answer and writing its record
        left it out), then forget them. Returns the records this wrote."""
        if self.settle is None:
            return 0
        written = 0
        while True:
            n, wrote = await self.queue.settle_charges(before, self.config.purge_batch, self.settle)
            if wrote:
                log.warning("jobs: wrote %d charge(s) the audit log lacked (a process stopped before writing them)",
                            wrote)
            written += wrote
            if n < self.config.purge_batch:
                return written

    async def refresh_gauges(self) -> list[dict]:
        now = time.time()
        rows = await self.queue.depth(now)
        out = []
        idle = set(self._seen_aliases)
        for alias, n, waiting, due_since in rows:
            age = max(0.0, now - due_since) if due_since else 0.0
            idle.discard(alias)
            self._seen_aliases.add(alias)
            if self.depth_gauge is not None:
                self.depth_gauge.labels(alias).set(n)
                self.age_gauge.labels(alias).set(age)
                self.waiting_gauge.labels(alias).set(waiting)
            out.append({"alias": alias, "queued": n, "waiting": waiting, "oldest_age_s": round(age, 3)})
        for alias in idle:  # drained since the last look
            if self.depth_gauge is not None:
                for gauge in (self.depth_gauge, self.age_gauge, self.waiting_gauge):
                    gauge.labels(alias).set(0)
        return out


# the columns a fresh row leaves to the database
_UNSET = {k: None for k in ("started_at", "finished_at", "http_status", "result", "error", "cost_usd",
                            "webhook_attempts", "webhook_state", "lease_owner")}


def _json(v) -> str | None:
    return None if v is None else orjson.dumps(v).decode()
