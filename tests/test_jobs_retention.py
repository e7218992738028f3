"""Retention on real SQLite and real PostgreSQL: finished jobs, batches with their lines and
output and error files, uploaded files and stored responses go once past their time, a few
rows per statement; what is new or still in use stays (a batch in progress, the input file it
reads, a response whose background job runs, a job whose charge is not yet settled)."""
import time

import pytest
import sqlalchemy as sa

from seawall.jobs.config import JobsConfig
from seawall.jobs.queue import batches, files, jobs, responses
from seawall.jobs.retention import purge
from seawall.store.sql import make_engine, migrate

from services import backend  # noqa: F401  (fixture)

DAY = 86400.0


@pytest.fixture
async def engine(backend):  # noqa: F811
    e = make_engine(backend["sql"])
    await migrate(e)
    yield e
    await e.dispose()


def job(jid, status="completed", finished=None, **kw):
    now = time.time()
    kw = {"batch_id": None, "line": None, "charge": None, "charge_due": None, **kw}  # one shape for executemany
    return dict(id=jid, tenant="key:a", principal=None, kind="chat", alias="m", body="{}", status=status,
                priority=0, attempts=1, max_attempts=3, run_after=now, created_at=(finished or now) - 1,
                finished_at=finished, expires_at=now + DAY, **kw)


def batch(bid, status, created, done=None, input_file="file_in"):
    return dict(id=bid, tenant="key:a", endpoint="/v1/chat/completions", input_file_id=input_file,
                output_file_id=bid + "_out", error_file_id=bid + "_err", completion_window="24h", status=status,
                total=3, created_at=created, completed_at=done, expires_at=created + DAY)


def file(fid, created, batch_id=None, role=None):
    return dict(id=fid, tenant="key:a", purpose="batch_output" if batch_id else "batch", filename=fid,
                bytes=1, content=None if batch_id else b"{}", batch_id=batch_id, role=role, created_at=created)


async def ids(engine, table) -> set[str]:
    async with engine.connect() as c:
        return set((await c.execute(sa.select(table.c.id))).scalars())


async def test_old_rows_go_in_small_statements_and_new_or_live_ones_stay(engine):
    now = time.time()
    old, recent = now - 40 * DAY, now - 60
    async with engine.begin() as c:
        await c.execute(batches.insert(), [
            batch("batch_old", "completed", old, old + 10, "file_old_input"),
            batch("batch_unpolled", "in_progress", old, None, "file_old_input"),  # every line done, never polled
            batch("batch_live", "in_progress", old, None, "file_live_input"),  # a line still runs
            batch("batch_new", "completed", recent, recent + 1, "file_new_input"),
        ])
        await c.execute(jobs.insert(), [
            *(job(f"job_old_{i}", finished=old + 5, batch_id="batch_old", line=i) for i in range(7)),
            *(job(f"job_unpolled_{i}", finished=old + 5, batch_id="batch_unpolled", line=i) for i in range(2)),
            job("job_live_0", finished=old + 5, batch_id="batch_live", line=0),
            job("job_live_1", status="running", batch_id="batch_live", line=1),
            job("job_new_0", finished=recent + 1, batch_id="batch_new", line=0),
            job("job_plain_old", finished=old),
            job("job_plain_charge", finished=old, charge="{}", charge_due=old),  # its charge is not settled
            job("job_plain_new", finished=recent),
            job("job_background", status="running"),
        ])
        await c.execute(files.insert(), [
            file("file_old_input", old), file("file_live_input", old), file("file_new_input", recent),
            file("file_stray_old", old), file("file_stray_new", recent),
            *(file(f"{b}_{r}", old if b != "batch_new" else recent, b, r)
              for b in ("batch_old", "batch_unpolled", "batch_live", "batch_new") for r in ("out", "err")),
        ])
        await c.execute(responses.insert(), [
            dict(id="resp_old", tenant="key:a", body="{}", messages="[]", response="{}", job_id=None, created_at=old),
            dict(id="resp_old_running", tenant="key:a", body="{}", messages="[]", response=None,
                 job_id="job_background", created_at=old),
            dict(id="resp_new", tenant="key:a", body="{}", messages="[]", response="{}", job_id=None, created_at=recent),
        ])
    cfg = JobsConfig(enabled=True, keep_s=DAY, batch_keep_s=30 * DAY, files_keep_s=30 * DAY,
                     responses_keep_s=30 * DAY, purge_batch=2)
    out = await purge(engine, now, cfg)
    assert (out.jobs, out.batches, out.lines, out.files, out.responses) == (1, 2, 9, 2, 1)
    assert await ids(engine, batches) == {"batch_live", "batch_new"}
    assert await ids(engine, jobs) == {"job_live_0", "job_live_1", "job_new_0", "job_plain_charge",
                                       "job_plain_new", "job_background"}
    # the input file a batch in progress reads stays; the one only ended batches read goes (the
    # unpolled batch counted as in progress until it was purged, just before)
    assert await ids(engine, files) == {"file_live_input", "file_new_input", "file_stray_new",
                                        "batch_live_out", "batch_live_err", "batch_new_out", "batch_new_err"}
    assert await ids(engine, responses) == {"resp_old_running", "resp_new"}
    assert not await purge(engine, now, cfg)  # nothing more to do
