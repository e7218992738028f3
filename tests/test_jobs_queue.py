"""The durable queue on real SQLite and real PostgreSQL: leases, takeover, fencing, retries to
the dead state, priority, idempotency, cancel, expiry and purge."""
import asyncio
import time

import pytest

from seawall.jobs.queue import Duplicate, Queue
from seawall.jobs.retention import purge_jobs
from seawall.store.sql import make_engine, migrate

from services import backend  # noqa: F401  (fixture)


@pytest.fixture
async def queue(backend):  # noqa: F811
    engine = make_engine(backend["sql"])
    await migrate(engine)
    yield Queue(engine)
    await engine.dispose()


def row(i: int, **kw) -> dict:
    now = time.time()
    base = dict(id=f"job_{i:04d}", tenant="key:a", principal=None, kind="chat", alias="m",
                body='{"model":"m","messages":[]}', status="queued", priority=0, attempts=0, max_attempts=2,
                run_after=now, idempotency_key=None, webhook_url=None, created_at=now + i * 1e-3,
                expires_at=now + 3600)
    base.update(kw)
    return base


async def test_claims_by_priority_then_age_and_never_twice(queue):
    for i in range(5):
        await queue.insert(row(i, priority=1 if i == 3 else 0))
    a = await queue.claim("w1", 2, lease_s=30)
    b = await queue.claim("w2", 10, lease_s=30)
    assert [j.id for j in a] == ["job_0003", "job_0000"]
    assert sorted(j.id for j in b) == ["job_0001", "job_0002", "job_0004"]
    assert await queue.claim("w3", 10, lease_s=30) == []
    assert all(j.status == "running" and j.attempts == 1 for j in a + b)


async def test_a_worker_claims_only_the_kinds_it_can_run(queue):
    """A gateway without the sandbox never takes a sandbox execution off the queue."""
    await queue.insert(row(0, kind="sandbox.execution", alias="sandbox"))
    await queue.insert(row(1))
    assert [j.id for j in await queue.claim("chat-only", 10, lease_s=30, kinds=["chat", "embeddings"])] == ["job_0001"]
    taken = await queue.claim("with-sandbox", 10, lease_s=30, kinds=["chat", "sandbox.execution"])
    assert [(j.id, j.kind) for j in taken] == [("job_0000", "sandbox.execution")]


async def test_a_lapsed_lease_is_taken_over_before_older_queued_work(queue):
    await queue.insert(row(9))  # the newest job, claimed by a worker that then dies
    [dead] = await queue.claim("dead", 1, lease_s=0.05)
    for i in range(3):
        await queue.insert(row(i, created_at=time.time() - 100 + i))  # older, still queued
    await asyncio.sleep(0.1)
    [first] = await queue.claim("alive", 1, lease_s=30)
    assert first.id == dead.id == "job_0009" and first.attempts == 2


async def test_concurrent_claimers_take_disjoint_jobs(queue, backend):  # noqa: F811
    for i in range(40):
        await queue.insert(row(i))
    engines = [make_engine(backend["sql"]) for _ in range(4)]
    try:
        qs = [Queue(e) for e in engines]

        async def drain(q, name):
            got = []
            while batch := await q.claim(name, 3, 30):
                got += [j.id for j in batch]
            return got

        results = await asyncio.gather(*(drain(q, f"w{n}") for n, q in enumerate(qs)))
    finally:
        for e in engines:
            await e.dispose()
    every = [j for r in results for j in r]
    assert len(every) == 40 and len(set(every)) == 40


async def test_a_lapsed_lease_is_taken_over_and_the_old_owner_is_fenced_off(queue):
    await queue.insert(row(1))
    [job] = await queue.claim("dead-worker", 1, lease_s=0.05)
    await asyncio.sleep(0.1)
    [again] = await queue.claim("w2", 1, lease_s=30)
    assert again.id == job.id and again.attempts == 2 and again.lease_owner == "w2"
    assert not await queue.renew(job.id, "dead-worker", 30)  # the old owner learns it lost the lease
    assert not await queue.finish(job.id, "dead-worker", "completed", result={"late": True})
    assert await queue.finish(job.id, "w2", "completed", http_status=200, result={"ok": 1}, cost_usd=0.5)
    done = await queue.get(job.id)
    assert done.status == "completed" and done.result == {"ok": 1} and done.cost_usd == 0.5


async def test_a_lapsed_lease_on_the_last_attempt_is_dead(queue):
    await queue.insert(row(1, max_attempts=1))
    await queue.claim("gone", 1, lease_s=0.01)
    await asyncio.sleep(0.05)
    dead, expired = await queue.sweep()
    assert (dead, expired) == (1, 0)
    job = await queue.get("job_0001")
    assert job.status == "failed" and job.error["code"] == "attempts_exhausted"


async def test_retry_later_waits_before_it_is_claimable(queue):
    await queue.insert(row(1))
    [job] = await queue.claim("w", 1, 30)
    assert await queue.retry_later(job.id, "w", 60, {"code": "upstream_unavailable"})
    assert await queue.claim("w", 1, 30) == []  # not due yet
    again = await queue.get(job.id)
    assert again.status == "queued" and again.error["code"] == "upstream_unavailable"


async def test_idempotency_key_is_unique_per_tenant(queue):
    await queue.insert(row(1, idempotency_key="k1"))
    with pytest.raises(Duplicate) as e:
        await queue.insert(row(2, idempotency_key="k1"))
    assert e.value.job_id == "job_0001"
    await queue.insert(row(3, idempotency_key="k1", tenant="key:b"))  # another tenant: its own key space


async def test_tenant_scope_cancel_expiry_and_purge(queue):
    await queue.insert(row(1))
    await queue.insert(row(2, expires_at=time.time() - 1))
    assert await queue.get("job_0001", tenant="key:b") is None
    assert await queue.cancel("job_0001", tenant="key:b") is None  # another tenant cannot cancel it
    assert (await queue.cancel("job_0001", tenant="key:a")).status == "cancelled"
    assert await queue.sweep() == (0, 1)
    assert (await queue.get("job_0002")).status == "expired"
    assert await purge_jobs(queue.engine, time.time() - 3600, 1) == 0  # still inside the keep window
    assert await purge_jobs(queue.engine, time.time() + 1, 1) == 2  # one row per statement, until none is left
    assert await queue.get("job_0001") is None


async def test_submissions_survive_the_database_dropping_their_connections(queue, backend):  # noqa: F811
    """On PostgreSQL a submission goes through its own autocommit pool without pre-ping (one
    round trip): a connection the server dropped is replaced and the INSERT tried once more."""
    if backend["kind"] != "redis":
        pytest.skip("PostgreSQL's submission pool")
    import sqlalchemy as sa

    await queue.insert(row(1))
    async with queue.engine.connect() as conn:  # drop every other connection to this database
        await conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    await queue.insert(row(2))
    await queue.insert(row(3, idempotency_key="k"))
    with pytest.raises(Duplicate):
        await queue.insert(row(4, idempotency_key="k"))
    assert await queue.find_idempotent("key:a", "k") == "job_0003"
    assert [await queue.get(f"job_000{i}") is not None for i in (1, 2, 3, 4)] == [True, True, True, False]
    await queue.aclose()


async def test_depth_tells_due_jobs_from_waiting_ones_and_only_due_ones_age(queue):
    """A job held for an approval (or a retry's back-off) waits for an event, not for a worker:
    it is counted as waiting and does not make the queue look stuck."""
    now = time.time()
    await queue.insert(row(0, created_at=now - 300, run_after=now - 30))  # due for 30 s
    await queue.insert(row(1, created_at=now - 900, run_after=now + 600))  # held for an approval
    await queue.insert(row(2, alias="other", created_at=now - 50, run_after=now + 5))
    depth = {a: (due, waiting, round(now - since) if since else None) for a, due, waiting, since in await queue.depth(now)}
    assert depth == {"m": (1, 1, 30), "other": (0, 1, None)}
    assert await queue.release("job_0001")  # the verdict makes it due now: it ages from here
    [(_, due, waiting, since)] = [d for d in await queue.depth(time.time()) if d[0] == "m"]
    assert (due, waiting) == (2, 0) and since <= now - 29
