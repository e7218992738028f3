"""The durable queue: one `jobs` table in the gateway's SQL store (migration 0006).

Claiming is one UPDATE ... RETURNING over the best candidates: on PostgreSQL the candidates are
selected `FOR UPDATE SKIP LOCKED`, so any number of gateways and `seawall worker` processes take
disjoint jobs without waiting on each other; SQLite serialises writers, so the same statement is
atomic there without it. A claim sets a lease (owner + deadline); the owner renews it while the
job runs; a job whose lease has lapsed (its worker died) is claimable again. Every write that
finishes a job names the lease owner, so a worker that lost its lease cannot overwrite the
result of the one that took over.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

metadata = sa.MetaData()

STATES = ("queued", "running", "completed", "failed", "cancelled", "expired")
FINISHED = ("completed", "failed", "cancelled", "expired")

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("principal", sa.Text, nullable=True),  # JSON: the submitter, replayed on the worker
    sa.Column("kind", sa.String(32), nullable=False),  # chat | embeddings | messages | a registered JobKind
    sa.Column("alias", sa.String(256), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # JSON request body (OpenAI format; messages: Anthropic)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
    sa.Column("run_after", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("idempotency_key", sa.String(256), nullable=True),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("result", sa.Text, nullable=True),  # JSON: the answer in the route's own wire format
    sa.Column("error", sa.Text, nullable=True),  # JSON: {code, message, status}
    sa.Column("cost_usd", sa.Float, nullable=True),
    sa.Column("webhook_url", sa.String(2048), nullable=True),
    sa.Column("webhook_attempts", sa.Text, nullable=True),  # JSON list: every delivery attempt
    sa.Column("webhook_state", sa.String(16), nullable=True),  # pending | delivered | failed
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("expires_at", sa.Float, nullable=False),  # not started by then: expired
    sa.Column("batch_id", sa.String(40), nullable=True),  # a batch line (jobs/batches.py)
    sa.Column("custom_id", sa.String(512), nullable=True),
    sa.Column("line", sa.Integer, nullable=True),
    # the audit record charging the answer, written with it; cleared once the log holds it (0009)
    sa.Column("charge", sa.Text, nullable=True),
    sa.Column("charge_due", sa.Float, nullable=True),  # set while `charge` is pending: when it was stored
    sa.UniqueConstraint("tenant", "idempotency_key", name="uq_jobs_idempotency"),
    sa.Index("ix_jobs_claim", "status", "priority", "created_at"),
    sa.Index("ix_jobs_lease", "status", "lease_until"),
    sa.Index("ix_jobs_finished", "finished_at"),
    sa.Index("ix_jobs_webhook", "webhook_state"),
    sa.Index("ix_jobs_batch", "batch_id", "line"),
    sa.Index("ix_jobs_tenant", "tenant", "status"),  # a tenant's queued count, on every submission
    sa.Index("ix_jobs_charge_due", "charge_due"),
)

# Uploaded files (purpose "batch") and the batches' output and error files, whose content is
# rendered from the batch's jobs when read: partial output is readable while the batch runs.
files = sa.Table(
    "files", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),  # batch | batch_output
    sa.Column("filename", sa.String(512), nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),  # NULL: rendered from batch_id's jobs
    sa.Column("batch_id", sa.String(40), nullable=True),
    sa.Column("role", sa.String(8), nullable=True),  # output | error
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_files_tenant", "tenant", "created_at"),
    sa.Index("ix_files_created", "purpose", "created_at"),  # retention
    sa.Index("ix_files_batch", "batch_id"),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("endpoint", sa.String(64), nullable=False),
    sa.Column("input_file_id", sa.String(40), nullable=False),
    sa.Column("output_file_id", sa.String(40), nullable=False),
    sa.Column("error_file_id", sa.String(40), nullable=False),
    sa.Column("completion_window", sa.String(8), nullable=False),
    sa.Column("metadata", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("in_progress_at", sa.Float, nullable=True),
    sa.Column("finalizing_at", sa.Float, nullable=True),
    sa.Column("completed_at", sa.Float, nullable=True),
    sa.Column("cancelling_at", sa.Float, nullable=True),
    sa.Column("cancelled_at", sa.Float, nullable=True),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_batches_tenant", "tenant", "created_at"),
    sa.Index("ix_batches_created", "created_at"),  # retention
)

# Stored Responses API responses (jobs/responses.py): `store: true` and background ones.
responses = sa.Table(
    "responses", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the request as sent (JSON)
    sa.Column("messages", sa.Text, nullable=False),  # the chat messages that produced it (JSON)
    sa.Column("response", sa.Text, nullable=True),  # the response object; NULL while a background job runs
    sa.Column("job_id", sa.String(40), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_responses_created", "created_at"),  # retention
)


@dataclass
class Job:
    id: str
    tenant: str
    principal: dict | None
    kind: str
    alias: str
    body: dict
    status: str
    priority: int
    attempts: int
    max_attempts: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    http_status: int | None = None
    result: Any = None
    error: dict | None = None
    cost_usd: float | None = None
    webhook_url: str | None = None
    webhook_attempts: list | None = None
    webhook_state: str | None = None
    lease_owner: str | None = None

    @classmethod
    def from_row(cls, r) -> "Job":
        return cls.from_mapping(r._mapping)

    @classmethod
    def from_mapping(cls, m) -> "Job":
        load = lambda v: None if v is None else orjson.loads(v)  # noqa: E731
        return cls(
            id=m["id"], tenant=m["tenant"], principal=load(m["principal"]), kind=m["kind"], alias=m["alias"],
            body=load(m["body"]), status=m["status"], priority=m["priority"], attempts=m["attempts"],
            max_attempts=m["max_attempts"], created_at=m["created_at"], started_at=m["started_at"],
            finished_at=m["finished_at"], http_status=m["http_status"], result=load(m["result"]),
            error=load(m["error"]), cost_usd=m["cost_usd"], webhook_url=m["webhook_url"],
            webhook_attempts=load(m["webhook_attempts"]), webhook_state=m["webhook_state"],
            lease_owner=m.get("lease_owner"),
        )

    def public(self) -> dict:
        """The job as GET /v1/jobs/{id} shows it (never the principal or the body)."""
        out: dict[str, Any] = {
            "id": self.id, "object": "job", "status": self.status, "kind": self.kind, "model": self.alias,
            "priority": self.priority, "attempts": self.attempts, "created_at": self.created_at,
            "started_at": self.started_at, "finished_at": self.finished_at,
        }
        if self.status == "completed":
            out["http_status"] = self.http_status
            out["result"] = self.result
            out["cost_usd"] = self.cost_usd
        if self.error is not None:
            out["error"] = self.error
        if self.webhook_url:
            out["webhook"] = {"state": self.webhook_state, "attempts": self.webhook_attempts or []}
        return out


async def _scalar(conn: AsyncConnection, q) -> Any:
    return (await conn.execute(q)).scalar()


class Duplicate(Exception):
    """An Idempotency-Key this tenant already used; carries the existing job's id."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id


class Queue:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._fast: AsyncEngine | None = None  # PostgreSQL: the submissions' own pool (_submit)

    async def aclose(self) -> None:
        if self._fast is not None:
            await self._fast.dispose()
            self._fast = None

    async def _submit(self, fn: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        """Run one statement of the submission path. On PostgreSQL it goes through a small pool
        of its own, in autocommit and without the store pool's pre-ping: a submission is one
        statement, so one round trip instead of six (the ping is BEGIN, `;`, ROLLBACK, then
        BEGIN, INSERT, COMMIT), each a context switch on the database's side. A connection
        found dead (the server restarted) is dropped by SQLAlchemy and the statement tried once
        more on a fresh one; an INSERT that had landed then meets its own primary key (insert)."""
        if not self.postgres:  # SQLite: no round trips to save
            async with self.engine.begin() as conn:
                return await fn(conn)
        if self._fast is None:
            t = self.engine.pool.timeout()  # the store's sql_timeout_s (store/sql.py make_engine)
            self._fast = create_async_engine(self.engine.url, isolation_level="AUTOCOMMIT", pool_size=2,
                                             max_overflow=3, pool_timeout=t,
                                             connect_args={"timeout": t, "command_timeout": max(t, 5.0)})
        for retry in (False, True):
            try:
                async with self._fast.connect() as conn:
                    return await fn(conn)
            except DBAPIError as e:
                if retry or not e.connection_invalidated:
                    raise

    async def insert(self, row: dict) -> None:
        try:
            await self._submit(lambda conn: conn.execute(jobs.insert().values(**row)))
        except IntegrityError:
            if await self._submit(lambda conn: _scalar(conn, sa.select(jobs.c.id).where(jobs.c.id == row["id"]))):
                return  # a retry after a lost connection: the first attempt had stored it
            key = row.get("idempotency_key")
            if key is None:
                raise
            existing = await self.find_idempotent(row["tenant"], key)
            if existing is None:
                raise
            raise Duplicate(existing) from None

    async def find_idempotent(self, tenant: str, key: str) -> str | None:
        return await self._submit(lambda conn: _scalar(conn, sa.select(jobs.c.id).where(
            jobs.c.tenant == tenant, jobs.c.idempotency_key == key)))

    async def get(self, job_id: str, tenant: str | None = None) -> Job | None:
        q = sa.select(jobs).where(jobs.c.id == job_id)
        if tenant is not None:  # tenant-scoped: another tenant's job does not exist
            q = q.where(jobs.c.tenant == tenant)
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return Job.from_row(row) if row else None

    async def queued_for(self, tenant: str) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
                jobs.c.tenant == tenant, jobs.c.status == "queued"))).scalar() or 0

    async def claim(self, owner: str, n: int, lease_s: float, kinds: list[str] | None = None) -> list[Job]:
        """Up to n jobs, highest priority then oldest: queued and due, or running with a lapsed
        lease (its worker is gone). Each comes back leased to `owner`, its attempt counted. With
        `kinds`, only jobs of those kinds: a worker never takes a job it has no runner for."""
        now = time.time()
        due = sa.or_(sa.and_(jobs.c.status == "queued", jobs.c.run_after <= now),
                     sa.and_(jobs.c.status == "running", jobs.c.lease_until < now))
        if kinds is not None:
            due = sa.and_(due, jobs.c.kind.in_(kinds))
        # within a priority a lapsed lease goes first: a dead worker's jobs are taken over as soon
        # as their lease ends, not after the queued work that came after them
        lapsed_first = sa.case((jobs.c.status == "running", 0), else_=1)
        pick = (sa.select(jobs.c.id).where(due)
                .order_by(jobs.c.priority.desc(), lapsed_first, jobs.c.created_at).limit(n))
        if self.postgres:
            pick = pick.with_for_update(skip_locked=True)
        stmt = (jobs.update().where(jobs.c.id.in_(pick.scalar_subquery()))
                .values(status="running", lease_owner=owner, lease_until=now + lease_s,
                        attempts=jobs.c.attempts + 1, started_at=sa.func.coalesce(jobs.c.started_at, now))
                .returning(*jobs.c))
        async with self.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        claimed = [Job.from_row(r) for r in rows]
        claimed.sort(key=lambda j: (-j.priority, j.created_at))  # RETURNING keeps no order
        return claimed

    async def renew(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Extend the lease; False when it is no longer ours (taken over, or cancelled)."""
        async with self.engine.begin() as conn:
            res = await conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == "running")
                .values(lease_until=time.time() + lease_s))
        return res.rowcount == 1

    async def finish(self, job_id: str, owner: str, status: str, *, http_status: int | None = None,
                     result: Any = None, error: dict | None = None, cost_usd: float | None = None,
                     charge: dict | None = None) -> bool:
        """Record the outcome, only if we still hold the lease. `charge` is the audit record that
        charges the answer: written by the same statement, so an answer is never stored without
        its charge (settle_charges writes it to the log if the process dies before it does)."""
        now = time.time()
        values: dict[str, Any] = dict(status=status, finished_at=now, lease_owner=None, lease_until=None,
                                      http_status=http_status, cost_usd=cost_usd)
        if charge is not None:
            values["charge"] = orjson.dumps(charge).decode()
            values["charge_due"] = now
        if result is not None:
            values["result"] = orjson.dumps(result).decode()
        if error is not None:
            values["error"] = orjson.dumps(error).decode()
        stmt = jobs.update().where(jobs.c.id == job_id, jobs.c.lease_owner == owner,
                                   jobs.c.status == "running").values(**values)
        stmt = stmt.values(webhook_state=sa.case((jobs.c.webhook_url.is_not(None), "pending"), else_=None))
        async with self.engine.begin() as c:
            return (await c.execute(stmt)).rowcount == 1

    async def retry_later(self, job_id: str, owner: str, delay_s: float, error: dict) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == "running")
                .values(status="queued", lease_owner=None, lease_until=None, run_after=time.time() + delay_s,
                        error=orjson.dumps(error).decode()))
        return res.rowcount == 1

    async def release(self, job_id: str) -> bool:
        """A queued job due later (its not-before time) becomes due now; False when it is not
        waiting (already due, running, finished or cancelled)."""
        now = time.time()
        async with self.engine.begin() as conn:
            res = await conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.status == "queued", jobs.c.run_after > now).values(run_after=now))
        return res.rowcount == 1

    async def cancel(self, job_id: str, tenant: str | None) -> Job | None:
        """Queued or running -> cancelled (a running job's worker sees it at its next renewal)."""
        q = jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")))
        if tenant is not None:
            q = q.where(jobs.c.tenant == tenant)
        async with self.engine.begin() as conn:
            await conn.execute(q.values(status="cancelled", finished_at=time.time(), lease_owner=None,
                                        lease_until=None))
        return await self.get(job_id, tenant)

    async def sweep(self) -> tuple[int, int]:
        """Dead leases on their last attempt -> failed; queued past their deadline -> expired."""
        now = time.time()
        async with self.engine.begin() as conn:
            dead = await conn.execute(jobs.update().where(
                jobs.c.status == "running", jobs.c.lease_until < now, jobs.c.attempts >= jobs.c.max_attempts)
                .values(status="failed", finished_at=now, lease_owner=None, lease_until=None,
                        error=orjson.dumps({"code": "attempts_exhausted", "status": 500,
                                            "message": "the worker running the last attempt stopped"}).decode()))
            expired = await conn.execute(jobs.update().where(jobs.c.status == "queued", jobs.c.expires_at < now)
                                         .values(status="expired", finished_at=now))
        return dead.rowcount, expired.rowcount

    async def settle_charges(self, before: float, n: int,
                             append: Callable[[list[dict]], Awaitable[int]]) -> tuple[int, int]:
        """Up to n charges stored with their answers before `before`: hand their audit records
        to `append` (which skips those the log holds), then clear them. On PostgreSQL the rows
        are taken FOR UPDATE SKIP LOCKED, so processes settling at once take different ones.
        Returns (charges settled, records `append` wrote)."""
        q = (sa.select(jobs.c.id, jobs.c.charge).where(jobs.c.charge_due < before)
             .order_by(jobs.c.charge_due).limit(n))
        if self.postgres:
            q = q.with_for_update(skip_locked=True)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(q)).all()
            if not rows:
                return 0, 0
            written = await append([orjson.loads(r.charge) for r in rows])  # its own connection
            await conn.execute(jobs.update().where(jobs.c.id.in_([r.id for r in rows]))
                               .values(charge=None, charge_due=None))
        return len(rows), written

    async def depth(self, now: float) -> list[tuple[str, int, int, float | None]]:
        """Queued jobs per alias: (alias, due, waiting, since when the longest-due one is due).
        Waiting jobs are not due yet (an action held for approval, a retry's back-off): they
        wait for an event or a time, not for a worker, so they do not age the queue."""
        due = jobs.c.run_after <= now
        q = (sa.select(jobs.c.alias, sa.func.sum(sa.case((due, 1), else_=0)),
                       sa.func.sum(sa.case((due, 0), else_=1)),
                       sa.func.min(sa.case((due, jobs.c.run_after), else_=None)))
             .where(jobs.c.status == "queued").group_by(jobs.c.alias))
        async with self.engine.connect() as conn:
            return [(a, int(d or 0), int(w or 0), o) for a, d, w, o in (await conn.execute(q)).all()]

    # ---- webhooks ---------------------------------------------------------------------

    # A finished job's lease columns are free: a process delivering its webhook holds them, so
    # two processes never deliver the same job at once (a lapsed hold is taken over).

    async def webhooks_due(self, n: int) -> list[Job]:
        free = sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < time.time())
        q = (sa.select(jobs).where(jobs.c.webhook_state == "pending", free)
             .order_by(jobs.c.finished_at).limit(n))
        async with self.engine.connect() as conn:
            return [Job.from_row(r) for r in (await conn.execute(q)).all()]

    async def hold_delivery(self, job_id: str, owner: str, hold_s: float) -> bool:
        now = time.time()
        async with self.engine.begin() as conn:
            res = await conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.webhook_state == "pending",
                sa.or_(jobs.c.lease_owner == owner, jobs.c.lease_until.is_(None), jobs.c.lease_until < now))
                .values(lease_owner=owner, lease_until=now + hold_s))
        return res.rowcount == 1

    async def record_delivery(self, job_id: str, owner: str, attempts: list, state: str) -> None:
        held = state == "pending"
        async with self.engine.begin() as conn:
            await conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.lease_owner == owner).values(
                webhook_attempts=orjson.dumps(attempts).decode(), webhook_state=state,
                **({} if held else {"lease_owner": None, "lease_until": None})))
