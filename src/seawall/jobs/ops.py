"""Operator queries on the queue (`seawall jobs ...`): list with filters, an operator's view of
one job, and retry. They work on the SQL store directly, so a running gateway sees their effect
at its workers' next claim or lease renewal, with no call between processes."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .queue import Job, batches, jobs

RETRYABLE_STATES = ("failed", "cancelled", "expired")
CANCELLABLE_STATES = ("queued", "running")
JOB_ID = re.compile(r"^job_[0-9a-f]{8,36}$")
MAX_LIST = 1000


def tenant_filter(key: str) -> list[str]:
    """`--key`: a virtual key's id (its tenant is `key:<id>`) or a tenant as jobs store it."""
    return [key] if ":" in key else ["key:" + key, key]


async def list_jobs(engine: AsyncEngine, *, states: list[str] | None = None, alias: str | None = None,
                    key: str | None = None, limit: int = 50) -> list[dict]:
    """Newest first, at most `limit` (capped): the columns a table needs, never bodies or results."""
    cols = [jobs.c.id, jobs.c.tenant, jobs.c.kind, jobs.c.alias, jobs.c.status, jobs.c.priority, jobs.c.attempts,
            jobs.c.max_attempts, jobs.c.created_at, jobs.c.finished_at, jobs.c.error, jobs.c.batch_id,
            jobs.c.webhook_state]
    q = sa.select(*cols).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    if states:
        q = q.where(jobs.c.status.in_(states))
    if alias:
        q = q.where(jobs.c.alias == alias)
    if key:
        q = q.where(jobs.c.tenant.in_(tenant_filter(key)))
    async with engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    out = []
    for r in rows:
        err = orjson.loads(r.error) if r.error else None
        out.append({"id": r.id, "status": r.status, "kind": r.kind, "model": r.alias, "tenant": r.tenant,
                    "priority": r.priority, "attempts": r.attempts, "max_attempts": r.max_attempts,
                    "created_at": r.created_at, "finished_at": r.finished_at,
                    "error_code": (err or {}).get("code"), "batch_id": r.batch_id, "webhook": r.webhook_state})
    return out


async def get_row(engine: AsyncEngine, job_id: str):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).first()


def _redact_url(url: str | None) -> str | None:
    """A webhook URL without its query, fragment or credentials: they often carry a token."""
    if not url:
        return url
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host += f":{p.port}"
    hidden = p.query or p.fragment or p.username or p.password
    return f"{p.scheme}://{host}{p.path}" + ("?[redacted]" if hidden else "")


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def operator_view(row, with_result: bool = False) -> dict:
    """One job for an operator: state, times, attempts, last error, webhook deliveries, who
    submitted it (ids only). Never the key, the request body, or (unless asked) the result."""
    m = row._mapping
    job = Job.from_mapping(m)
    who = job.principal or {}
    out: dict[str, Any] = {
        "id": job.id, "status": job.status, "kind": job.kind, "model": job.alias, "tenant": job.tenant,
        "submitted_by": {k: who.get(k) for k in ("key_id", "user_id", "team_id", "department_id") if who.get(k)},
        "priority": job.priority, "attempts": job.attempts, "max_attempts": job.max_attempts,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at), "run_after": _iso(m["run_after"]), "expires_at": _iso(m["expires_at"]),
        "lease": ({"owner": m["lease_owner"], "until": _iso(m["lease_until"])} if m["lease_owner"] else None),
        "idempotency_key": m["idempotency_key"], "http_status": job.http_status, "cost_usd": job.cost_usd,
        "error": job.error, "body_bytes": len(m["body"] or ""),
    }
    if m["batch_id"]:
        out["batch"] = {"id": m["batch_id"], "line": m["line"], "custom_id": m["custom_id"]}
    if job.webhook_url:
        out["webhook"] = {"url": _redact_url(job.webhook_url), "state": job.webhook_state,
                          "deliveries": job.webhook_attempts or []}
    if with_result:
        out["result"] = job.result
    elif m["result"] is not None:
        out["result_bytes"] = len(m["result"])  # --result shows it
    return out


class Refused(Exception):
    """The job exists but is in a state the operation does not apply to."""


async def retry(engine: AsyncEngine, job_id: str, ttl_s: float) -> str:
    """A failed, cancelled or expired job back to queued: attempts, outcome and webhook
    deliveries reset, a fresh expiry. Returns the state it left. Not while its webhook is being
    delivered, and a batch line only while its batch is still in progress (a finished batch's
    output file does not change afterwards)."""
    row = await get_row(engine, job_id)
    if row is None:
        raise LookupError(job_id)
    if row.status not in RETRYABLE_STATES:
        raise Refused(f"job {job_id} is {row.status}; only {', '.join(RETRYABLE_STATES)} jobs can be retried")
    if row.webhook_state == "pending":  # its delivery holds the lease columns the next run needs
        raise Refused(f"job {job_id}'s webhook is still being delivered; retry once it is delivered or failed")
    if row.batch_id:
        async with engine.connect() as conn:
            bstatus = (await conn.execute(sa.select(batches.c.status).where(batches.c.id == row.batch_id))).scalar()
        if bstatus != "in_progress":
            raise Refused(f"job {job_id} is a line of batch {row.batch_id}, which is {bstatus}; "
                          "lines of a finished batch are not retried")
    now = time.time()
    not_delivering = sa.or_(jobs.c.webhook_state.is_(None), jobs.c.webhook_state != "pending")
    stmt = jobs.update().where(jobs.c.id == job_id, jobs.c.status == row.status, not_delivering).values(
        status="queued", attempts=0, run_after=now, lease_owner=None, lease_until=None, http_status=None,
        result=None, error=None, cost_usd=None, started_at=None, finished_at=None, expires_at=now + ttl_s,
        webhook_state=None, webhook_attempts=None)
    async with engine.begin() as conn:
        if (await conn.execute(stmt)).rowcount != 1:  # changed under us (e.g. purged, or retried twice)
            raise Refused(f"job {job_id} changed while being retried; look again")
    return row.status


async def activity(engine: AsyncEngine, window_s: float) -> dict[str, dict]:
    """Per alias: jobs running now, and jobs finished completed or failed within the last
    `window_s` seconds (ix_jobs_finished keeps this a range scan)."""
    since = time.time() - window_s
    q = (sa.select(jobs.c.alias, jobs.c.status, sa.func.count())
         .where(sa.or_(jobs.c.status == "running",
                       sa.and_(jobs.c.finished_at >= since, jobs.c.status.in_(("completed", "failed")))))
         .group_by(jobs.c.alias, jobs.c.status))
    out: dict[str, dict] = {}
    async with engine.connect() as conn:
        for alias, status, n in (await conn.execute(q)).all():
            out.setdefault(alias, {"running": 0, "completed": 0, "failed": 0})[status] = n
    return out


def queue_view(depth: list[dict], busy: dict[str, dict], window_s: float) -> list[dict]:
    """GET /admin/jobs/queues: depth and oldest age (the gauges' numbers) with running jobs and
    throughput over the window, one entry per alias that has any of them."""
    by_alias = {d["alias"]: dict(d) for d in depth}
    for alias in busy:
        by_alias.setdefault(alias, {"alias": alias, "queued": 0, "waiting": 0, "oldest_age_s": 0.0})
    out = []
    for alias in sorted(by_alias):
        d, c = by_alias[alias], busy.get(alias, {"running": 0, "completed": 0, "failed": 0})
        out.append({**d, "running": c["running"], "completed": c["completed"], "failed": c["failed"],
                    "completed_per_min": round(c["completed"] * 60.0 / window_s, 2)})
    return out
