"""The SQL cache levels with their database down: refused, black-holed or missing. Reads fail
fast through the breaker, writes never wait (failed batches are counted), and the same flusher
writes again once the database is back."""
from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest

from seawall.cache.exact import LocalLRU, Status, TieredExactCache
from seawall.cache.keys import exact_key
from seawall.cache.sqlshared import SqlSharedLevel, SqlSharedSemantic
from seawall.store.breaker import Breaker, StoreUnavailable
from seawall.store.sql import make_engine, migrate
from services import free_port
from test_cache_sql import BODY, entry, rows, until


async def test_database_down_then_back(tmp_path):
    """Writes never wait for a database that is down; failed batches are counted, and the same
    flusher writes again once the database is back (and survives a write that raises)."""
    url = f"sqlite:///{tmp_path}/later/seawall.db"
    eng = make_engine(url)
    try:
        lvl = SqlSharedLevel(eng, read_timeout_s=5.0, write_timeout_s=0.5, delay_s=0.01,
                             breaker=Breaker("test", failures=2, reset_s=0.1))
        t0 = time.perf_counter()
        for i in range(5):
            await lvl.set(entry(exact_key("key:a", "m", {**BODY, "n": i})))
            await asyncio.sleep(0.03)
        await lvl.flush()
        assert time.perf_counter() - t0 < 2.0
        assert lvl.errors >= 2 and lvl.breaker.state != "closed"
        flusher = lvl.writes._task

        (tmp_path / "later").mkdir()
        await migrate(eng)
        write = lvl.writes._write

        async def broken_once(batch):
            lvl.writes._write = write
            raise RuntimeError("a bug")

        lvl.writes._write = broken_once
        await lvl.set(entry(exact_key("key:b", "m", BODY)))
        await asyncio.sleep(0.15)  # the failing batch, and the breaker's reset
        k = exact_key("key:c", "m", BODY)
        await lvl.set(entry(k))
        await until(lambda: rows(eng), 3.0)
        assert (await lvl.get(k)) is not None and await rows(eng) == 1
        assert lvl.writes._task is flusher and not flusher.done()
        await lvl.aclose()
    finally:
        await eng.dispose()
        await asyncio.sleep(0.1)  # aiosqlite stops a connection that failed to open without awaiting it


def _blackhole() -> socket.socket:
    """A listening socket that never accepts: a connect hangs there until the timeout."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    return s


@pytest.mark.parametrize("where", ["refused", "blackhole", "sqlite-no-dir"])
async def test_database_down_is_prompt(where, tmp_path):
    hole = None
    if where == "refused":
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/x"
    elif where == "blackhole":
        hole = _blackhole()
        url = f"postgresql://postgres@127.0.0.1:{hole.getsockname()[1]}/x"
    else:
        url = f"sqlite:///{tmp_path}/missing/dir/seawall.db"
    eng = make_engine(url, timeout_s=30)
    try:
        lvl = SqlSharedLevel(eng, write_timeout_s=0.5)
        sem = SqlSharedSemantic(eng, write_timeout_s=0.5)
        k = exact_key("key:a", "m", BODY)
        t0 = time.monotonic()
        async with asyncio.timeout(5):
            for _ in range(5):  # the breaker opens after 3 and then fails fast
                with pytest.raises(StoreUnavailable):
                    await lvl.get(k)
            await lvl.set(entry(k))  # queued: a write never waits for the database
            await sem.put(("key:a", "m", "fp"), "u", np.ones(4), {"created_at": time.time()}, 60)
            await lvl.flush()  # the breaker is open: fails at once, counted
            assert lvl.errors == 1 and len(lvl.writes) == 0
            with pytest.raises(StoreUnavailable):
                await sem.pull(("key:a", "m", "fp"), force=True)
            # Through the tiered cache: a miss, counted.
            errors = []
            tiered = TieredExactCache(LocalLRU(10), lvl, errors.append)
            assert (await tiered.get(k)).status is Status.MISS
            assert len(errors) == 1 and isinstance(errors[0], StoreUnavailable)
            await sem.aclose()
            await lvl.aclose()
            assert sem.errors == 1
        assert time.monotonic() - t0 < 5
    finally:
        if hole is not None:
            hole.close()
        await eng.dispose()
        await asyncio.sleep(0.1)  # aiosqlite stops a connection that failed to open without awaiting it
