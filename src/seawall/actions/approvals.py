"""Approvals: an escalated action waits in `action_approvals` until a person decides.

Lease discipline, enforced by conditional UPDATEs so it holds across processes and instances:
- pending -> approved | denied, once, only before `expires_at` (an approval may carry edited
  arguments: the verdict is then `edit`); pending past `expires_at` -> expired (the sweep);
- approved -> executed, once (the claim), only when the presented action hashes to the row's
  `binding` (tool, arguments, principal, policy version) and before `expires_at`.
So an approval is single-use, cannot be replayed, and cannot approve other arguments.

An approval made for an async job (`job_id`, migration 0010) is claimed by that job only (a
request presenting its id is refused), and `job_waiting` stays true until the job has been
woken after the verdict or the expiry (actions/deferred.py).
"""
from __future__ import annotations

import hashlib
import secrets
import time

import orjson
import sqlalchemy as sa

table = sa.Table(
    "action_approvals", sa.MetaData(),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | denied | executed | expired
    sa.Column("binding", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(256), nullable=False),
    sa.Column("tool", sa.String(512), nullable=False),
    sa.Column("request", sa.Text, nullable=False),  # JSON: tool, arguments (redacted), principal
    sa.Column("decision", sa.Text, nullable=False),  # JSON: policies, risk, factors
    sa.Column("approver", sa.String(256)),
    sa.Column("reason", sa.Text),
    sa.Column("decided_at", sa.Float),
    sa.Column("executed_at", sa.Float),
    sa.Column("result", sa.Text),
    sa.Column("conversation", sa.String(64)),  # a held model tool call: the conversation it came from
    sa.Column("verdict", sa.String(16)),  # approve | deny | edit | expire
    sa.Column("edited", sa.Text),  # JSON: the arguments an approver put in place of the agent's
    sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()),  # in the override metric
    sa.Column("webhook_state", sa.String(16)),  # pending | delivered | failed
    sa.Column("webhook_attempts", sa.Text),  # JSON list: {at, status | error}
    sa.Column("job_id", sa.String(40)),  # the async job that waits for this verdict (0010)
    sa.Column("job_waiting", sa.Boolean),  # true until that job is woken after the verdict or expiry
)


# bumped by a policy reload through the admin route: the other workers and instances poll it
# (in their approvals sweep) and read their policies again
generation = sa.Table(
    "action_policy_generation", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
)


async def policy_generation(engine) -> int:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(generation.c.generation).where(generation.c.id == 1))).first()
    return int(row.generation) if row else 0


async def bump_policy_generation(engine) -> int:
    async with engine.begin() as conn:
        await conn.execute(generation.update().where(generation.c.id == 1)
                           .values(generation=generation.c.generation + 1))
        row = (await conn.execute(sa.select(generation.c.generation).where(generation.c.id == 1))).first()
    return int(row.generation) if row else 0


def binding(tool: str, arguments: dict, principal: dict, policy_version: str) -> str:
    """The hash an approval is bound to: any change in what would run gives another hash."""
    doc = {"tool": tool, "arguments": arguments, "principal": principal, "policy": policy_version}
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Refused(Exception):
    """An approval that cannot be used or decided, with the reason (a stable code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def new_id() -> str:
    return "apr_" + secrets.token_hex(12)


def _result(raw: str | None) -> dict | None:
    """The stored outcome as approvers see it: a job's answer from the system stays the
    caller's (it reaches them through their job), the view says only that it ran."""
    if not raw:
        return None
    out = orjson.loads(raw)
    return {k: v for k, v in out.items() if k != "response"} if isinstance(out, dict) else out


def _view(row) -> dict:
    return {"id": row.id, "status": "expired" if row.status in ("pending", "approved") and row.expires_at <= time.time()
            else row.status, "tool": row.tool, "created_at": row.created_at, "expires_at": row.expires_at,
            "policy_version": row.policy_version, "request": orjson.loads(row.request),
            "decision": orjson.loads(row.decision), "approver": row.approver, "reason": row.reason,
            "decided_at": row.decided_at, "executed_at": row.executed_at,
            "result": _result(row.result), "verdict": row.verdict, "job_id": row.job_id,
            "edited": row.edited is not None, "webhook": {"state": row.webhook_state,
                                                         "attempts": orjson.loads(row.webhook_attempts or "[]")}}


class Approvals:
    def __init__(self, engine) -> None:
        self.engine = engine

    async def create(self, *, tool: str, bound: str, policy_version: str, tenant: str, request: dict,
                     decision: dict, ttl_s: float, conversation: str | None = None,
                     webhook: bool = False, id: str | None = None, job_id: str | None = None,
                     expires_at: float | None = None) -> dict:
        """A pending approval; with `job_id`, the one that job waits for (`id` and `expires_at`
        chosen beforehand: the job was queued first, to wake no earlier than the expiry)."""
        now = time.time()
        row = {"id": id or new_id(), "created_at": now, "expires_at": expires_at or now + ttl_s,
               "status": "pending", "binding": bound, "policy_version": policy_version, "tenant": tenant,
               "tool": tool, "request": orjson.dumps(request).decode(), "decision": orjson.dumps(decision).decode(),
               "conversation": conversation, "webhook_state": "pending" if webhook else None,
               "job_id": job_id, "job_waiting": True if job_id else None}
        async with self.engine.begin() as conn:
            await conn.execute(table.insert().values(**row))
        return {"id": row["id"], "expires_at": row["expires_at"]}

    async def get(self, id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(table.select().where(table.c.id == id))).first()
        return _view(row) if row else None

    async def list(self, status: str | None = None, limit: int = 100) -> list[dict]:
        q = table.select().order_by(table.c.created_at.desc()).limit(limit)
        if status in ("pending", "approved"):
            q = q.where(table.c.status == status, table.c.expires_at > time.time())
        elif status == "expired":
            q = q.where(sa.or_(table.c.status == "expired",
                               sa.and_(table.c.status.in_(("pending", "approved")), table.c.expires_at <= time.time())))
        elif status:
            q = q.where(table.c.status == status)
        async with self.engine.connect() as conn:
            return [_view(r) for r in (await conn.execute(q)).all()]

    async def find(self, conversation: str, bound: str) -> dict | None:
        """The newest approval for this call (its binding) in this conversation, if any."""
        q = (sa.select(table.c.id).where(table.c.conversation == conversation, table.c.binding == bound)
             .order_by(table.c.created_at.desc()).limit(1))
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return await self.get(row.id) if row else None

    async def edited_arguments(self, id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(table.c.edited).where(table.c.id == id))).first()
        return orjson.loads(row.edited) if row and row.edited else None

    async def decide(self, id: str, approve: bool, approver: str, reason: str, *, edited: dict | None = None,
                     counted: bool = False) -> dict:
        """pending -> approved | denied, exactly once, before expiry. `counted`: the caller
        counts the verdict in the override metric itself (else the gateway's sweep does)."""
        now = time.time()
        verdict = ("edit" if edited is not None else "approve") if approve else "deny"
        async with self.engine.begin() as conn:
            done = await conn.execute(
                table.update().where(table.c.id == id, table.c.status == "pending", table.c.expires_at > now)
                .values(status="approved" if approve else "denied", approver=approver, reason=reason, decided_at=now,
                        verdict=verdict, counted=counted,
                        edited=orjson.dumps(edited).decode() if edited is not None else None))
        if done.rowcount != 1:
            current = await self.get(id)
            if current is None:
                raise Refused("not_found", f"no approval {id!r}")
            raise Refused("conflict", f"approval {id} is {current['status']}, not pending")
        return await self.get(id)

    async def claim(self, id: str, bound: str, *, job: bool = False) -> dict:
        """approved -> executed for exactly one caller whose action hashes to the binding: a
        request for an approval made for one, the job for an approval made for a job."""
        now = time.time()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                table.update().where(table.c.id == id, table.c.status == "approved", table.c.binding == bound,
                                     table.c.expires_at > now,
                                     table.c.job_id.is_not(None) if job else table.c.job_id.is_(None))
                .values(status="executed", executed_at=now))
        if done.rowcount == 1:
            return await self.get(id)
        current = await self.get(id)
        if current is None:
            raise Refused("not_found", f"no approval {id!r}")
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(table.c.binding, table.c.job_id).where(table.c.id == id))).first()
        if (row.job_id is not None) != job:
            raise Refused("approval_unusable", f"approval {id} was given for job {row.job_id}, which runs it"
                          if row.job_id else f"approval {id} was given for a request, not a job")
        if row.binding != bound:
            raise Refused("approval_mismatch", f"approval {id} was given for another action (tool, arguments, "
                                               "caller or policy version differ)")
        raise Refused("approval_unusable", f"approval {id} is {current['status']}")

    async def record_result(self, id: str, result: dict) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(table.update().where(table.c.id == id)
                               .values(result=orjson.dumps(result).decode()))

    async def recorded(self, id: str) -> dict | None:
        """The outcome stored when the action ran (a job's includes the system's answer)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(table.c.result).where(table.c.id == id))).first()
        return orjson.loads(row.result) if row and row.result else None

    async def close(self, id: str) -> bool:
        """pending -> expired now, whatever this clock says of `expires_at`: the job woken at its
        approval's deadline closes what nobody decided, so a late verdict is refused."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                table.update().where(table.c.id == id, table.c.status == "pending")
                .values(status="expired", verdict="expire", decided_at=time.time(), counted=False))
        return done.rowcount == 1

    async def to_wake(self, limit: int = 200) -> list[tuple[str, str]]:
        """(approval id, job id) of jobs still waiting though their approval is decided or expired."""
        q = (sa.select(table.c.id, table.c.job_id)
             .where(table.c.job_waiting == sa.true(), table.c.status != "pending").limit(limit))
        async with self.engine.connect() as conn:
            return [(r.id, r.job_id) for r in (await conn.execute(q)).all()]

    async def woken(self, id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(table.update().where(table.c.id == id).values(job_waiting=False))

    async def expire(self) -> int:
        """pending past expiry -> expired (verdict `expire`, counted by the caller); how many."""
        now = time.time()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                table.update().where(table.c.status == "pending", table.c.expires_at <= now)
                .values(status="expired", verdict="expire", decided_at=table.c.expires_at, counted=True))
        return done.rowcount or 0

    async def uncounted(self, limit: int = 200) -> list[str]:
        """Verdicts given elsewhere (the CLI, a process without the metric) not yet counted: for
        each one this process wins (a conditional UPDATE), its verdict."""
        q = sa.select(table.c.id).where(table.c.counted == sa.false(), table.c.verdict.is_not(None)).limit(limit)
        async with self.engine.connect() as conn:
            ids = [r.id for r in (await conn.execute(q)).all()]
        won = []
        for id in ids:
            async with self.engine.begin() as conn:
                done = await conn.execute(table.update().where(table.c.id == id, table.c.counted == sa.false())
                                          .values(counted=True).returning(table.c.verdict))
                row = done.first()
            if row is not None:
                won.append(row.verdict)
        return won

    async def record_webhook(self, id: str, attempts: list[dict], state: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(table.update().where(table.c.id == id)
                               .values(webhook_attempts=orjson.dumps(attempts).decode(), webhook_state=state))
