"""The SQL shared cache levels (cache/sqlshared.py) on SQLite and PostgreSQL: exact entries
with TTL and stale window, invalidation by prefix / tenant / alias (LIKE wildcards in a prefix
match only themselves), semantic entries shared between instances and kept in their namespace,
zero cross-tenant, a database that is down is prompt, and the migration."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from seawall.cache.exact import Entry, LocalLRU, Status, TieredExactCache
from seawall.cache.keys import exact_key, namespace
from seawall.cache.policy import CacheConfig
from seawall.cache.shared import SharedSemantic, StateSharedLevel, open_shared_levels
from seawall.cache.sqlshared import SqlSharedLevel, SqlSharedSemantic, like_prefix
from seawall.store.breaker import StoreUnavailable
from seawall.store.sql import make_engine, migrate
from seawall.store.state import GuardedState, MemoryState
from services import backend, free_port  # noqa: F401  (fixture)

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "temperature": 0}


OPENED: list = []  # the levels a test made: closed after it (their write-behind flushers stopped)


@pytest.fixture
async def engine(backend):  # noqa: F811
    eng = make_engine(backend["sql"], timeout_s=5.0)
    await migrate(eng)
    yield eng
    while OPENED:
        await OPENED.pop().aclose()
    await eng.dispose()


def level(engine, **kw) -> SqlSharedLevel:
    """A level with generous timeouts: a loaded test machine must not turn reads into misses."""
    OPENED.append(lvl := SqlSharedLevel(engine, **{"read_timeout_s": 5.0, **kw}))
    return lvl


SRC = Path(__file__).resolve().parents[1] / "src" / "seawall"


def semantic(engine, refresh_s: float = 1.0, **kw) -> SqlSharedSemantic:
    OPENED.append(sem := SqlSharedSemantic(engine, refresh_s, **{"read_timeout_s": 5.0, **kw}))
    return sem


def entry(key: str, value=b'{"ok": 1}', ttl: float = 60, stale: float = 60, now: float | None = None) -> Entry:
    return Entry.new(key, value, ttl, stale, now=now, meta={"tokens": 3})


async def test_migration_creates_the_tables(engine):
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
        idx = await conn.run_sync(lambda c: {i["name"] for i in sa.inspect(c).get_indexes("cache_entries")}
                                  | {i["name"] for i in sa.inspect(c).get_indexes("cache_semantic")})
    assert {"cache_entries", "cache_semantic", "cache_invalidations", "api_keys"} <= names
    from alembic.script import ScriptDirectory

    from seawall.store.sql import MIGRATIONS
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()  # one head: the chain does not fork
    assert version == head and version >= "0004"  # at least 0004: allowed_departments
    assert {"ix_cache_entries_stale", "ix_cache_semantic_ns"} <= idx
    await migrate(engine)  # idempotent


async def test_round_trip_ttl_and_stale_window(engine):
    lvl = level(engine)
    k = exact_key("key:a", "m", BODY)
    e = entry(k, b'{"answer": "hi"}')
    await lvl.set(e)
    await lvl.flush()
    got = await lvl.get(k)
    assert got is not None and got.value == b'{"answer": "hi"}' and got.meta == {"tokens": 3}
    assert (got.created_at, got.expires_at, got.stale_until) == (e.created_at, e.expires_at, e.stale_until)
    assert await lvl.get(exact_key("key:a", "m", {**BODY, "temperature": 0.1})) is None

    # Overwrite (upsert), JSON values too.
    await lvl.set(Entry.new(k, {"v": 2}, 60))
    await lvl.flush()
    assert (await lvl.get(k)).value == {"v": 2}

    # Past its TTL but within the stale window: returned, and the status says stale.
    old = entry(exact_key("key:a", "m", {**BODY, "n": 2}), ttl=10, stale=100, now=time.time() - 50)
    await lvl.set(old)
    await lvl.flush()
    got = await lvl.get(old.key)
    assert got is not None and got.status(time.time()) is Status.STALE

    # Past the stale window: never written, and a row that is there is ignored then purged.
    dead = entry(exact_key("key:a", "m", {**BODY, "n": 3}), ttl=10, stale=10, now=time.time() - 50)
    await lvl.set(dead)
    assert len(lvl.writes) == 0
    assert await lvl.get(dead.key) is None
    gone = entry(exact_key("key:a", "m", {**BODY, "n": 4}), ttl=1, stale=1)
    await lvl.set(gone)
    await lvl.flush()
    assert await lvl.get(gone.key) is not None
    async with engine.begin() as conn:  # age the row in place
        await conn.execute(sa.text("UPDATE cache_entries SET stale_until = 1 WHERE key = :k"), {"k": gone.key})
    assert await lvl.get(gone.key) is None
    assert await lvl.purge() == 1
    assert await lvl.purge() == 0
    assert await lvl.get(k) is not None

    assert await lvl.delete(k) is True
    assert await lvl.get(k) is None
    assert await lvl.delete(k) is False


async def test_tiered_cache_reads_through_and_survives_a_restart(backend, engine):  # noqa: F811
    k = exact_key("key:a", "m", BODY)
    first = TieredExactCache(LocalLRU(10), level(engine))
    await first.set(entry(k))
    await first.shared.aclose()
    # A new process: new local level, new engine on the same database.
    eng2 = make_engine(backend["sql"])
    try:
        second = TieredExactCache(LocalLRU(10), level(eng2))
        res = await second.get(k)
        assert res.status is Status.HIT and res.entry.value == b'{"ok": 1}'
        assert k in second.local
    finally:
        await eng2.dispose()


async def test_invalidation_by_prefix_tenant_and_alias(engine):
    lvl = level(engine)
    keys = {
        (scope, alias): exact_key(scope, alias, BODY)
        for scope in ("key:a", "key:b", "team:x_y", "team:xzy", "team:x%y", "team:x|y", "TEAM:X_Y")
        for alias in ("m", "n", "m_1", "mx1")
    }
    for k in keys.values():
        await lvl.set(entry(k))

    async def present():
        return {sa_ for sa_, k in keys.items() if await lvl.get(k) is not None}

    # A tenant: `_` and `%` in the prefix match only themselves; case matters.
    assert await lvl.delete_prefix(namespace("team:x_y")) == 4
    assert await lvl.delete_prefix(namespace("team:x%y")) == 4
    left = await present()
    assert not any(s in ("team:x_y", "team:x%y") for s, _ in left)
    assert {("team:xzy", "m"), ("team:x|y", "m"), ("TEAM:X_Y", "m")} <= left

    # Tenant + alias, with a wildcard in the alias.
    assert await lvl.delete_prefix(namespace("team:xzy", "m_1")) == 1
    assert ("team:xzy", "mx1") in await present()

    # An alias in one scope, then in every scope.
    assert await lvl.delete_alias("n", scope="key:a") == 1
    assert ("key:b", "n") in await present()
    n_left = sum(1 for s, a in await present() if a == "n")
    assert await lvl.delete_alias("n") == n_left
    assert not any(a == "n" for _, a in await present())
    assert await lvl.delete_alias("m_") == 0  # equality: no wildcard at all

    # A raw key prefix (what the admin route passes) that ends mid-part.
    n_key = sum(1 for s, _ in await present() if s.startswith("key:"))
    assert n_key == 6
    assert await lvl.delete_prefix("key:") == n_key
    assert not any(s.startswith("key:") for s, _ in await present())

    # Everything.
    remaining = len(await present())
    assert remaining > 0
    assert await lvl.delete_prefix("") == remaining
    assert await present() == set()


async def test_like_prefix_escapes_wildcards():
    assert like_prefix("a_b%c\\d") == "a\\_b\\%c\\\\d%"


async def test_zero_cross_tenant(engine):
    lvl = level(engine)
    sem = semantic(engine, 0.0)
    for scope in ("key:a", "team:a", "key:a|m"):
        await lvl.set(entry(exact_key(scope, "m", BODY), value=scope.encode()))
        await sem.put((scope, "m", "ctx"), "u-" + scope, np.ones(4), {"created_at": time.time(), "q": scope,
                                                                     "stale_until": time.time() + 60}, 60)
    await lvl.flush()
    await sem.flush()
    for scope in ("key:a", "team:a", "key:a|m"):
        assert (await lvl.get(exact_key(scope, "m", BODY))).value == scope.encode()
        got = await sem.pull((scope, "m", "ctx"), force=True)
        assert [r["q"] for _, _, r in got] == [scope]
    for other in ("key:b", "key:A", "team:b", "key:a|", "key", ""):
        assert await lvl.get(exact_key(other, "m", BODY)) is None
        assert await sem.pull((other, "m", "ctx"), force=True) == []
    assert await sem.pull(("key:a", "m", "other-ctx"), force=True) == []
    assert await sem.pull(("key:a", "n", "ctx"), force=True) == []


async def test_semantic_shared_between_two_instances(backend, engine):  # noqa: F811
    eng2 = make_engine(backend["sql"])
    try:
        a = semantic(engine, 0.05)
        b = semantic(eng2, 0.05)
        ns = ("team:core", "m", "fp1")
        vec = np.arange(8, dtype=np.float32) / 10
        now = time.time()
        rec = {"query": "q?", "history": "", "response": '{"x": 1}', "created_at": now, "expires_at": now + 30,
               "stale_until": now + 60, "meta": {"tokens": 5}}
        a.mark_seen(ns, "u1")
        await a.put(ns, "u1", vec, rec, 60)
        await a.flush()
        assert await a.pull(ns, force=True) == []  # its own entry is not loaded twice

        got = await b.pull(ns, force=True)
        assert len(got) == 1
        uid, v, r = got[0]
        assert uid == "u1" and np.array_equal(v, vec) and r["response"] == '{"x": 1}' and r["meta"] == {"tokens": 5}
        assert await b.pull(ns, force=True) == []  # already seen
        assert await b.pull(("team:core", "m", "fp2")) == []  # never loaded into another namespace
        assert await b.pull(("team:other", "m", "fp1")) == []

        # A new entry shows up at the first pull after refresh_s; not before.
        slow = semantic(eng2, 3600)
        assert [u for u, _, _ in await slow.pull(ns)] == ["u1"]
        await a.put(ns, "u2", vec, dict(rec, created_at=time.time()), 60)
        await a.flush()
        assert await slow.pull(ns) == []
        first = await b.pull(ns)
        await asyncio.sleep(0.06)
        assert [u for u, _, _ in first + await b.pull(ns)] == ["u2"]

        # A write committed after a later one was seen (its created_at is older) is still found.
        await a.put(ns, "late", vec, dict(rec, created_at=time.time() - 1.0), 60)
        await a.flush()
        assert [u for u, _, _ in await b.pull(ns, force=True)] == ["late"]

        # Expired entries are not written, and not loaded.
        await a.put(ns, "old", vec, dict(rec, created_at=time.time(), stale_until=time.time() - 1), 60)
        await a.put(ns, "aged", vec, dict(rec, created_at=time.time()), 60)
        await a.flush()
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE cache_semantic SET stale_until = 1 WHERE uid = 'aged'"))
        assert await b.pull(ns, force=True) == []
        assert await a.purge() == 1

        # Invalidation: a scope, an alias, everything.
        await a.put(("team:core", "n", "fp1"), "u3", vec, dict(rec, created_at=time.time()), 60)
        await a.put(("key:z", "m", "fp1"), "u4", vec, dict(rec, created_at=time.time()), 60)
        assert await a.delete("team:core", "n") == 1
        assert await a.delete(None, "m") == 4  # u1, u2, late in team:core; u4 in key:z
        c = semantic(engine)
        assert await c.pull(ns, force=True) == []
    finally:
        await eng2.dispose()


async def test_semantic_pull_pages(engine):
    a = semantic(engine)
    b = semantic(engine, 3600, page=7)
    ns = ("key:a", "m", "fp")
    t0 = time.time()
    for i in range(20):
        await a.put(ns, f"u{i:02d}", np.ones(3), {"created_at": t0 + i * 1e-3, "stale_until": t0 + 60}, 60)
    await a.flush()
    seen: list[str] = []
    for _ in range(4):  # a full page continues at the next lookup, despite refresh_s
        seen += [u for u, _, _ in await b.pull(ns)]
    assert seen == [f"u{i:02d}" for i in range(20)]
    assert await b.pull(ns) == []  # and then the throttle applies again


async def test_purge_piggybacks_on_writes(engine):
    setup = level(engine)
    for i in range(5):
        await setup.set(entry(exact_key("key:a", "m", {**BODY, "n": i + 2})))
    await setup.flush()
    lvl = level(engine, purge_every_s=3600, purge_batch=2)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE cache_entries SET stale_until = 1"))
    for k in "abc":  # the first batch purges 2 (a full purge batch: again at the next), then 2, then the last
        await lvl.set(entry(exact_key(f"key:{k}", "m", BODY)))
        await lvl.flush()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM cache_entries"))).scalar() == 3


def count_inserts(engine, table: str) -> list[int]:
    """Rows per INSERT into ``table`` (one entry per statement: an executemany is one)."""
    seen: list[int] = []

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            seen.append(len(parameters) if executemany else 1)

    return seen


async def rows(engine, table: str = "cache_entries") -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()


async def until(cond, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await cond():
            await asyncio.sleep(0.01)


async def test_many_writes_become_few_transactions(engine):
    lvl, sem = level(engine), semantic(engine)
    inserts, sem_inserts = count_inserts(engine, "cache_entries"), count_inserts(engine, "cache_semantic")
    for i in range(200):  # a burst: no await in between, one batch (flush here, or the flusher)
        await lvl.set(entry(exact_key("key:a", "m", {**BODY, "n": i})))
        await sem.put(("key:a", "m", "fp"), f"u{i}", np.ones(4), {"created_at": time.time()}, 60)
    await lvl.flush()
    await sem.flush()
    assert inserts == [200] and sem_inserts == [200]

    # Spread out (the flusher alone, waking on the first row): a batch every `batch` rows or delay_s.
    inserts.clear()
    for i in range(200):
        await lvl.set(entry(exact_key("key:b", "m", {**BODY, "n": i})))
        await asyncio.sleep(0)
    await until(lambda: asyncio.sleep(0, result=sum(inserts) == 200))
    await lvl.flush()  # the last batch's insert is counted before its commit: wait for it
    assert len(inserts) <= 10 and await rows(engine) == 400
    assert lvl.errors == 0 and lvl.dropped == 0
    await lvl.aclose()
    await sem.aclose()


async def test_a_lone_write_lands_after_the_delay(engine):
    lvl = level(engine, delay_s=0.02)
    await lvl.set(entry(exact_key("key:a", "m", BODY)))
    assert await rows(engine) == 0
    await until(lambda: rows(engine), 2.0)  # no flush(): the flusher started on the first write
    await lvl.aclose()
    assert lvl.writes._task is None


async def test_last_write_of_a_key_wins_within_a_batch(engine):
    lvl, sem = level(engine), semantic(engine)
    inserts = count_inserts(engine, "cache_entries")
    k = exact_key("key:a", "m", BODY)
    for v in (b'"one"', b'"two"', b'"three"'):
        await lvl.set(entry(k, v))
    await lvl.set(entry(exact_key("key:b", "m", BODY)))
    ns, t = ("key:a", "m", "fp"), time.time()
    for q in ("first", "last"):
        await sem.put(ns, "u1", np.ones(4), {"created_at": t, "q": q}, 60)
    await lvl.flush()
    await sem.flush()
    assert inserts == [2] and (await lvl.get(k)).value == b'"three"'
    assert [r["q"] for _, _, r in await semantic(engine).pull(ns, force=True)] == ["last"]

    # An invalidation flushes first: what was queued before it does not land after it.
    await lvl.set(entry(k, b'"four"'))
    assert await lvl.delete_prefix(namespace("key:a")) == 1
    await lvl.flush()
    assert await lvl.get(k) is None


async def test_a_full_queue_drops_and_counts(engine):
    lvl = level(engine, max_queue=3)
    keys = [exact_key("key:a", "m", {**BODY, "n": i}) for i in range(5)]
    t0 = time.perf_counter()
    for k in keys:
        await lvl.set(entry(k))
    await lvl.set(entry(keys[0], b'"new"'))  # a key already queued is replaced, not dropped
    assert time.perf_counter() - t0 < 0.1
    assert lvl.dropped == 2 and len(lvl.writes) == 3
    await lvl.flush()
    assert await rows(engine) == 3 and (await lvl.get(keys[0])).value == b'"new"'
    assert await lvl.get(keys[4]) is None


async def test_flush_waits_for_the_batch_in_flight(engine):
    lvl = level(engine)
    write = lvl.writes._write

    async def slow(batch):
        await asyncio.sleep(0.2)
        await write(batch)

    lvl.writes._write = slow
    for i in range(70):  # a full batch: the flusher takes it at once
        await lvl.set(entry(exact_key("key:a", "m", {**BODY, "n": i})))
    await asyncio.sleep(0.05)
    assert len(lvl.writes) == 0  # in flight
    for i in range(5):
        await lvl.set(entry(exact_key("key:b", "m", {**BODY, "n": i})))
    await lvl.flush()
    assert await rows(engine) == 75
    await lvl.aclose()


async def test_a_read_that_times_out_leaves_the_pool_usable(engine):
    k = exact_key("key:a", "m", BODY)
    writer = level(engine)
    await writer.set(entry(k))
    await writer.flush()
    impatient = SqlSharedLevel(engine, read_timeout_s=1e-6)
    for _ in range(5):
        with pytest.raises(StoreUnavailable):
            await impatient.get(k)
    lvl = level(engine)
    for _ in range(20):
        assert (await lvl.get(k)) is not None


async def test_open_shared_levels(engine):
    mem = GuardedState(MemoryState("t:"))
    assert open_shared_levels("none", mem, engine) == (None, None)
    assert open_shared_levels("state", mem, engine) == (None, None)  # memory: nothing to share
    x, s = open_shared_levels("auto", mem, engine, refresh_s=2.0)
    assert isinstance(x, SqlSharedLevel) and isinstance(s, SqlSharedSemantic) and s.refresh_s == 2.0
    assert x.breaker is s.breaker and x.backend == engine.dialect.name
    x, s = open_shared_levels("sql", None, engine)
    assert isinstance(x, SqlSharedLevel)
    assert open_shared_levels("sql", mem, None) == (None, None)
    with pytest.raises(ValueError):
        open_shared_levels("redis", mem, engine)
    assert CacheConfig().shared == "auto"
    assert CacheConfig(shared="sql").shared == "sql"


async def test_open_shared_levels_remote_state(backend, engine):  # noqa: F811
    """With Redis as the state store, auto picks Redis and sql the database (Redis even when the
    database is SQLite: the backends are chosen independently)."""
    from seawall.store.state import open_state

    from services import REDIS, require_services

    require_services()
    st = GuardedState(open_state(REDIS, backend["prefix"], 0.5), 0.5)
    try:
        x, s = open_shared_levels("auto", st, engine)
        assert isinstance(x, StateSharedLevel) and isinstance(s, SharedSemantic) and x.backend == "redis"
        x, s = open_shared_levels("sql", st, engine)
        assert isinstance(x, SqlSharedLevel) and x.backend == engine.dialect.name
    finally:
        await st.store.aclose()


# ---- the invalidation log (cache/broadcast.py): instances without Redis -----------------------


def log_of(engine, got: list, **kw):
    from seawall.cache.broadcast import SqlBroadcast

    async def listener(message: str) -> None:
        got.append(message)

    return SqlBroadcast(engine, listener, **{"lag_s": 5.0, **kw})


async def test_invalidation_log_delivers_each_row_once(engine):
    from seawall.store.sql import cache_invalidations

    a_got, b_got = [], []
    a, b = log_of(engine, a_got), log_of(engine, b_got)
    await a.publish('{"n": 1}')
    await a.publish('{"n": 2}')
    assert await b.poll() == 2 and b_got == ['{"n": 1}', '{"n": 2}']
    assert await b.poll() == 0 and len(b_got) == 2  # the overlap window is re-read, not re-applied
    # a row that commits after a younger one was read (ids are handed out at insert), stamped a
    # little earlier: inside the lag window, so still found, once
    async with engine.begin() as conn:
        await conn.execute(sa.insert(cache_invalidations).values(at=time.time() - 3, message='{"n": 3}'))
    assert await b.poll() == 1 and b_got[-1] == '{"n": 3}'
    assert await b.poll() == 0
    # a new instance starts from now: it has no copies older than itself to drop
    c_got = []
    assert await log_of(engine, c_got, lag_s=0.0).poll() == 0


async def test_invalidation_log_purges_old_rows_and_resyncs_after_a_long_gap(engine):
    from seawall.store.sql import cache_invalidations

    got = []
    log = log_of(engine, got, keep_s=60.0)
    async with engine.begin() as conn:
        await conn.execute(sa.insert(cache_invalidations).values(at=time.time() - 120, message='{"old": 1}'))
    await log.publish('{"new": 1}')
    assert await log.purge() >= 1
    async with engine.connect() as conn:
        left = (await conn.execute(sa.select(cache_invalidations.c.message))).scalars().all()
    assert '{"old": 1}' not in left and '{"new": 1}' in left
    # no successful poll for longer than rows are kept: some may be gone unread, so drop everything
    log._polled_at -= 61
    await log.poll()
    assert got[0] == "resync" and got[1:] == ['{"new": 1}']


async def test_invalidation_log_with_the_database_down_is_prompt(tmp_path):
    """A publish fails fast (the caller reports broadcast 0) and the poller keeps going."""
    port = free_port()
    eng = make_engine(f"postgresql://postgres@127.0.0.1:{port}/none", timeout_s=0.5)
    got = []
    log = log_of(eng, got, poll_s=0.05, timeout_s=0.5)
    try:
        t = time.monotonic()
        with pytest.raises(Exception):
            await log.publish('{"n": 1}')
        assert time.monotonic() - t < 2.0
        log.start()
        await asyncio.sleep(0.4)
        assert log.errors >= 1 and not got
        assert not log._task.done()  # still polling: it picks up where it was once the database is back
    finally:
        await log.aclose()
        await eng.dispose()
