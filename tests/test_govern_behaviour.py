"""Identity, limits, budgets, cost and audit through the real pipeline, on both backends."""
from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from seawall.config import parse
from seawall.core.errors import GatewayError
from seawall.gateway import Gateway
from seawall.govern.admin import Admin
from seawall.govern.audit import verify
from seawall.sim import Simulator
from seawall.store import sql
from services import backend  # noqa: F401  (fixture)

PRICE = {"input": 1.0, "output": 2.0}  # USD per million tokens


@pytest.fixture
async def sim():
    s = Simulator(seed=3)
    await s.start(host="127.0.0.1", port=0)
    yield s
    await s.stop()


def make_gateway(sim, backend, **gov) -> Gateway:
    cfg = parse({
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m", "price": PRICE}]},
                   {"name": "other", "targets": [{"provider": "sim", "model": "o", "price": PRICE}]}],
        "server": {"api_keys": ["static-secret-key-123"], "access_log": False},
        "store": {"state": backend["state"], "sql": backend["sql"], "prefix": backend["prefix"]},
        "governance": {"audit": {"spool_dir": backend["spool"], "content": "full"}, **gov},
    })
    return Gateway(cfg)


@pytest.fixture
async def gw(sim, backend):
    g = make_gateway(sim, backend)
    await g.governance.start()
    yield g
    await g.aclose()
    await g.governance.aclose()


async def call(gw, key, model="m", max_tokens=20, **headers):
    h = {"authorization": f"Bearer {key}", **headers} if key else dict(headers)
    req = gw.request("chat", {"model": model, "max_tokens": max_tokens,
                              "messages": [{"role": "user", "content": "hello there"}]}, headers=h)
    return req, await gw.handle(req)


async def test_keys_identify_rotate_revoke_and_allowed_models(gw):
    admin = Admin(gw.governance)
    await admin.create_department("eng")
    await admin.create_team("core", department="eng", allowed_models=["m"])
    k = await admin.create_key(user="ann", team="core")
    req, res = await call(gw, k["key"])
    assert req.principal.key_id == k["id"] and req.principal.department_id == "eng"
    with pytest.raises(GatewayError) as e:
        await call(gw, k["key"], model="other")
    assert e.value.code == "permission_denied"
    with pytest.raises(GatewayError) as e:
        await call(gw, "sw-not-a-real-key")
    assert e.value.code == "invalid_api_key"
    with pytest.raises(GatewayError):
        await call(gw, None)  # keys exist: a key is required
    await call(gw, "static-secret-key-123")  # static keys keep working

    new = await admin.rotate_key(k["id"], grace_s=60)
    await call(gw, new["key"])
    await call(gw, k["key"])  # old one valid during the grace period
    await admin.rotate_key(k["id"], grace_s=0)
    with pytest.raises(GatewayError):
        await call(gw, new["key"])  # no grace: the previous secret stops at once
    await admin.revoke_key(k["id"])
    with pytest.raises(GatewayError) as e:
        await call(gw, new["key"])
    assert e.value.code == "invalid_api_key"


async def test_rpm_limit_headers_and_retry_after(gw):
    admin = Admin(gw.governance)
    k = await admin.create_key(user="bob")
    await admin.set_limit(scope="key", scope_id=k["id"], rpm=3)
    for i in range(3):
        _, res = await call(gw, k["key"])
        assert res.meta.extra["x-ratelimit-limit-requests"] == "3"
        assert res.meta.extra["x-ratelimit-remaining-requests"] == str(2 - i)
    with pytest.raises(GatewayError) as e:
        await call(gw, k["key"])
    assert e.value.code == "rate_limited" and e.value.status == 429
    assert 0 < e.value.retry_after <= 60
    assert e.value.headers["x-ratelimit-remaining-requests"] == "0"
    other = await admin.create_key(user="carl")  # limits are per key
    await call(gw, other["key"])


async def test_team_tpm_limit_counts_tokens(gw):
    admin = Admin(gw.governance)
    await admin.create_team("t1")
    k = await admin.create_key(team="t1")
    await admin.set_limit(scope="team", scope_id="t1", tpm=200)
    admitted = 0
    for _ in range(20):
        try:
            await call(gw, k["key"], max_tokens=30)
            admitted += 1
        except GatewayError as e:
            assert e.code == "rate_limited"
            break
    assert 1 <= admitted < 20


async def test_budget_reserve_settle_cost_header_and_block(gw):
    admin = Admin(gw.governance)
    k = await admin.create_key(user="dee")
    b = await admin.set_budget(scope="key", scope_id=k["id"], amount_usd=0.0005, period="daily")
    spent = 0.0
    blocked = False
    for _ in range(100):
        try:
            _, res = await call(gw, k["key"], max_tokens=40)
        except GatewayError as e:
            assert e.code == "budget_exceeded" and e.status == 429
            blocked = True
            break
        cost = res.meta.cost_usd
        u = res.meta.usage
        assert cost == pytest.approx((u["prompt_tokens"] * 1.0 + u["completion_tokens"] * 2.0) / 1e6, abs=1e-6)
        spent += cost
    assert blocked
    budgets = {x["id"]: x for x in await admin.list_budgets()}
    assert budgets[b["id"]]["spent_usd"] == pytest.approx(spent, abs=2e-6)  # settled to actual cost
    assert spent <= 0.0005


async def test_failed_call_releases_reservation(gw, sim):
    admin = Admin(gw.governance)
    k = await admin.create_key(user="eve")
    b = await admin.set_budget(scope="key", scope_id=k["id"], amount_usd=1.0, period="total")
    sim.set_faults(error_rate=1.0, error_status=400)
    with pytest.raises(GatewayError):
        await call(gw, k["key"])
    sim.reset_faults()
    await asyncio.sleep(0.05)
    assert {x["id"]: x for x in await admin.list_budgets()}[b["id"]]["spent_usd"] == 0


async def test_department_header_only_where_allowed(gw):
    admin = Admin(gw.governance)
    await admin.create_department("d1")
    await admin.create_department("d2")
    yes = await admin.create_key(department="d1", allow_department_header=True, allowed_departments=["d2"])
    no = await admin.create_key(department="d1")
    req, _ = await call(gw, yes["key"], **{"x-seawall-department": "d2"})
    assert req.principal.department_id == "d2"
    req, _ = await call(gw, no["key"], **{"x-seawall-department": "d1"})  # its own: fine
    assert req.principal.department_id == "d1"
    with pytest.raises(GatewayError) as e:  # any other: refused (tests/test_department_header.py)
        await call(gw, no["key"], **{"x-seawall-department": "d2"})
    assert e.value.code == "permission_denied"


async def test_audit_records_every_outcome_and_verifies(gw, sim):
    admin = Admin(gw.governance)
    k = await admin.create_key(user="fay")
    await admin.set_limit(scope="key", scope_id=k["id"], rpm=2)
    await call(gw, k["key"])
    await call(gw, k["key"])
    with pytest.raises(GatewayError):
        await call(gw, k["key"])  # rejected by the limit
    with pytest.raises(GatewayError):
        await call(gw, "sw-wrong")  # rejected at identify
    await gw.governance.audit.flush()
    async with gw.governance.engine.connect() as c:
        rows = (await c.execute(sa.select(sql.audit_log).where(sql.audit_log.c.kind == "request")
                                .order_by(sql.audit_log.c.seq))).mappings().all()
        admin_rows = (await c.execute(sa.select(sa.func.count()).select_from(sql.audit_log)
                                      .where(sql.audit_log.c.kind == "admin"))).scalar()
    assert [r["outcome"] for r in rows] == ["ok", "ok", "rate_limited", "invalid_api_key"]
    assert rows[0]["key_id"] == k["id"] and rows[0]["cost_usd"] > 0 and "hello there" in rows[0]["prompt"]
    assert admin_rows == 2
    assert (await verify(gw.governance.engine)).ok
    async with gw.governance.engine.begin() as c:
        await c.execute(sa.update(sql.audit_log).where(sql.audit_log.c.seq == 2).values(cost_usd=0))
    res = await verify(gw.governance.engine)
    assert not res.ok and res.seq == 2


async def test_usage_report_groups_and_paginates(gw):
    admin = Admin(gw.governance)
    await admin.create_department("a")
    await admin.create_department("b")
    ka = await admin.create_key(department="a")
    kb = await admin.create_key(department="b")
    for _ in range(3):
        await call(gw, ka["key"])
    await call(gw, kb["key"])
    await call(gw, kb["key"], model="other")
    await gw.governance.audit.flush()
    out = await admin.usage(group_by=["department", "model"])
    got = {(r["department"], r["model"]): r["requests"] for r in out["data"]}
    assert got == {("a", "m"): 3, ("b", "m"): 1, ("b", "other"): 1}
    page1 = await admin.usage(group_by=["department", "model"], limit=2)
    page2 = await admin.usage(group_by=["department", "model"], limit=2, offset=page1["next_offset"])
    assert len(page1["data"]) == 2 and len(page2["data"]) == 1 and page2["next_offset"] is None
    assert (await admin.usage(group_by=["department"], filters={"department": "a"}))["data"][0]["requests"] == 3
