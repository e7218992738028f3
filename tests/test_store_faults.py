"""Stores failing under load, on private Redis/PostgreSQL instances (the shared ones stay up)."""
from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from seawall.core.errors import GatewayError
from seawall.govern.admin import Admin
from seawall.govern.audit import verify
from seawall.store import sql
from services import PrivatePostgres, PrivateRedis, psql, require_services  # noqa: F401
from test_govern_behaviour import call, make_gateway, sim  # noqa: F401  (fixture)


@pytest.fixture
def private_redis():
    r = PrivateRedis()
    yield r
    r.close()


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_redis_stopped_mid_load(sim, private_redis, tmp_path, mode):
    backend = {"state": private_redis.url, "sql": f"sqlite:///{tmp_path}/s.db", "prefix": "f:",
               "spool": str(tmp_path / "spool")}
    gw = make_gateway(sim, backend, limits_fail=mode)
    gw.config.store.state_timeout_s = 0.03
    await gw.governance.start()
    try:
        k = await Admin(gw.governance).create_key(user="x")
        await Admin(gw.governance).set_limit(scope="key", scope_id=k["id"], rpm=1000)
        _, res = await call(gw, k["key"])
        assert "x-seawall-limits" not in res.meta.extra
        private_redis.stop()
        outcomes = []
        for _ in range(30):
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(2):  # none hangs
                    _, res = await call(gw, k["key"])
                outcomes.append(("ok", time.perf_counter() - t0, res.meta.extra.get("x-seawall-limits")))
            except GatewayError as e:
                outcomes.append((e.status, time.perf_counter() - t0, None))
        if mode == "open":
            assert all(o == "ok" and local == "local" for o, _, local in outcomes)
        else:
            assert all(o == 503 for o, _, _ in outcomes)
            assert max(dt for _, dt, _ in outcomes) < 0.05  # 503 within 50 ms, breaker open or not
    finally:
        await gw.aclose()
        await gw.governance.aclose()


async def test_postgres_down_under_load_audit_spools_and_replays(sim, tmp_path):
    require_services()
    pg = PrivatePostgres()
    try:
        backend = {"state": "memory", "sql": pg.url(), "prefix": "p:", "spool": str(tmp_path / "spool")}
        gw = make_gateway(sim, backend)
        gw.config.store.sql_timeout_s = 1.0
        await gw.governance.start()
        k = await Admin(gw.governance).create_key(user="pg")
        sent = 0

        async def load(seconds):
            nonlocal sent
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await asyncio.gather(*(call(gw, k["key"]) for _ in range(5)))  # raises if any fails
                sent += 5
                await asyncio.sleep(0.05)

        await load(1.0)
        pg.stop()
        await load(10.0)  # the 30 s shortened to 10 s to keep the suite lean
        assert gw.governance.audit.spooled > 0
        pg.start()
        await load(1.0)
        deadline = time.monotonic() + 15
        while True:
            await gw.governance.audit.flush()
            async with gw.governance.engine.connect() as c:
                n = (await c.execute(sa.select(sa.func.count()).select_from(sql.audit_log)
                                     .where(sql.audit_log.c.kind == "request"))).scalar()
            if n == sent or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert n == sent
        assert (await verify(gw.governance.engine)).ok
        async with gw.governance.engine.begin() as c:
            await c.execute(sa.update(sql.audit_log).where(sql.audit_log.c.seq == 5).values(outcome="ok!"))
        assert not (await verify(gw.governance.engine)).ok
        await gw.aclose()
        await gw.governance.aclose()
    finally:
        pg.close()
