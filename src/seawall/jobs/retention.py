"""Retention: finished jobs, batches (with their lines and output and error files), uploaded
files and stored responses are deleted once older than their configured time.

Every statement deletes at most `batch` rows picked by primary key, in its own short
transaction, so a purge never holds a long lock on a table the workers and the request path
write to (on SQLite the one writer lock is released between statements). Nothing still in use
goes: a job whose webhook or charge is pending, a batch with a line not yet finished, an input
file a batch in progress reads, a response whose background job is still running.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .queue import FINISHED, batches, files, jobs, responses

LIVE_BATCH = ("validating", "in_progress", "finalizing", "cancelling")
BATCHES_PER_ROUND = 20  # batches looked at per statement; each one's lines go `batch` at a time


@dataclass
class Purged:
    jobs: int = 0
    batches: int = 0
    lines: int = 0
    files: int = 0
    responses: int = 0

    def __bool__(self) -> bool:
        return any((self.jobs, self.batches, self.lines, self.files, self.responses))


async def _delete_picked(engine: AsyncEngine, table: sa.Table, pick, batch: int) -> int:
    """DELETE ... WHERE id IN (pick LIMIT batch), one short transaction each, until fewer come."""
    total = 0
    while True:
        async with engine.begin() as conn:
            n = (await conn.execute(table.delete().where(table.c.id.in_(pick.limit(batch).scalar_subquery())))).rowcount
        total += n
        if n < batch:
            return total
        await asyncio.sleep(0)  # let the request path and the workers in between statements


def _ended_batches(older_than: float):
    """Batches that ended before `older_than`: none of their lines is queued or running, none
    finished since, none has a charge the audit log may still lack; and the batch itself was
    completed or cancelled before then (or, never polled to `completed`, created before)."""
    busy_line = (sa.select(jobs.c.id).where(
        jobs.c.batch_id == batches.c.id,
        sa.or_(jobs.c.status.not_in(FINISHED), jobs.c.finished_at >= older_than, jobs.c.charge_due.is_not(None),
               jobs.c.webhook_state == "pending")))
    ended_at = sa.func.coalesce(batches.c.completed_at, batches.c.cancelled_at, batches.c.created_at)
    return (sa.select(batches.c.id).where(batches.c.created_at < older_than, ended_at < older_than,
                                          ~busy_line.exists())
            .order_by(batches.c.created_at).limit(BATCHES_PER_ROUND))


async def purge_batches(engine: AsyncEngine, older_than: float, batch: int) -> tuple[int, int]:
    """Ended batches, their lines (`batch` per statement) and their output and error files.
    Returns (batches, lines) deleted."""
    n_batches = n_lines = 0
    while True:
        async with engine.connect() as conn:
            ids = list((await conn.execute(_ended_batches(older_than))).scalars())
        for bid in ids:
            lines = sa.select(jobs.c.id).where(jobs.c.batch_id == bid, jobs.c.status.in_(FINISHED))
            n_lines += await _delete_picked(engine, jobs, lines, batch)
            async with engine.begin() as conn:
                # only once no line is left: a line an operator put back meanwhile keeps the batch
                left = sa.select(jobs.c.id).where(jobs.c.batch_id == bid).exists()
                gone = await conn.execute(batches.delete().where(batches.c.id == bid, ~left))
                if gone.rowcount:
                    await conn.execute(files.delete().where(files.c.batch_id == bid))
                    n_batches += 1
        if len(ids) < BATCHES_PER_ROUND:
            return n_batches, n_lines


async def purge_files(engine: AsyncEngine, older_than: float, batch: int) -> int:
    """Uploaded files older than `older_than` that no batch in progress reads. (Output and error
    files are their batch's, rendered from its lines: they go with it.)"""
    in_use = sa.select(batches.c.id).where(batches.c.input_file_id == files.c.id,
                                           batches.c.status.in_(LIVE_BATCH)).exists()
    pick = (sa.select(files.c.id).where(files.c.purpose == "batch", files.c.batch_id.is_(None),
                                        files.c.created_at < older_than, ~in_use))
    return await _delete_picked(engine, files, pick, batch)


async def purge_responses(engine: AsyncEngine, older_than: float, batch: int) -> int:
    """Stored responses older than `older_than`, except one whose background job still runs."""
    running = sa.select(jobs.c.id).where(jobs.c.id == responses.c.job_id,
                                         jobs.c.status.in_(("queued", "running"))).exists()
    pick = sa.select(responses.c.id).where(responses.c.created_at < older_than, ~running)
    return await _delete_picked(engine, responses, pick, batch)


async def purge_jobs(engine: AsyncEngine, older_than: float, batch: int) -> int:
    """Finished jobs that are not batch lines (those go with their batch), unless their webhook
    is still being delivered or their charge is not yet known to be in the audit log."""
    pick = (sa.select(jobs.c.id).where(jobs.c.status.in_(FINISHED), jobs.c.finished_at < older_than,
                                       jobs.c.batch_id.is_(None), jobs.c.charge_due.is_(None))
            .where(sa.or_(jobs.c.webhook_state.is_(None), jobs.c.webhook_state != "pending")))
    return await _delete_picked(engine, jobs, pick, batch)


async def purge(engine: AsyncEngine, now: float, config) -> Purged:
    """Everything past its time, per the `jobs` section's keep_s, batch_keep_s, files_keep_s
    and responses_keep_s."""
    out = Purged()
    b = config.purge_batch
    out.jobs = await purge_jobs(engine, now - config.keep_s, b)
    out.batches, out.lines = await purge_batches(engine, now - config.batch_keep_s, b)
    out.files = await purge_files(engine, now - config.files_keep_s, b)
    out.responses = await purge_responses(engine, now - config.responses_keep_s, b)
    return out
