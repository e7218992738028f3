"""Governance benchmarks: the usage report over many audit rows, and the hot-path cost of
identify + limits + budget + audit on the memory and Redis backends.

    python scripts/bench_govern.py --rows 1000000 [--pg postgresql://postgres@127.0.0.1/postgres]
                                   [--redis redis://127.0.0.1:6379/0]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid

import sqlalchemy as sa

from seawall.config import parse
from seawall.core.types import Meta, Request
from seawall.govern.admin import Admin
from seawall.govern.service import Governance
from seawall.store import sql


def _config(state: str, sql_url: str, spool: str):
    return parse({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "m", "price": {"input": 1, "output": 2}}]}],
        "server": {"access_log": False},
        "store": {"state": state, "sql": sql_url, "prefix": f"bench:{uuid.uuid4().hex[:6]}:"},
        "governance": {"audit": {"spool_dir": spool}},
    })


async def fill(engine, rows: int) -> None:
    depts = [f"dept{i}" for i in range(20)]
    models = ["gpt-4o", "gpt-4o-mini", "claude", "llama", "embed"]
    start = time.time() - 90 * 86400
    batch = []
    for i in range(rows):
        ts = start + i * (90 * 86400 / rows)
        batch.append({"seq": i + 1, "id": uuid.uuid4().hex, "ts": ts, "day": time.strftime("%Y-%m-%d", time.gmtime(ts)),
                      "kind": "request", "key_id": f"key{i % 500}", "team_id": f"team{i % 60}",
                      "department_id": depts[i % 20], "alias": models[i % 5], "outcome": "ok", "status": 200,
                      "prompt_tokens": 100 + i % 50, "completion_tokens": 50, "cost_usd": 0.0001,
                      "latency_ms": 10.0, "prev_hash": "0" * 64, "hash": "0" * 64})
        if len(batch) == 20000:
            async with engine.begin() as c:
                await c.execute(sa.insert(sql.audit_log), batch)
            batch = []
    if batch:
        async with engine.begin() as c:
            await c.execute(sa.insert(sql.audit_log), batch)
    async with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            await c.execute(sa.text("ANALYZE audit_log"))
        else:
            await c.execute(sa.text("ANALYZE"))


async def bench_usage(label: str, state: str, sql_url: str, rows: int) -> None:
    gov = Governance(_config(state, sql_url, tempfile.mkdtemp()))
    await gov.start()
    t0 = time.perf_counter()
    await fill(gov.engine, rows)
    print(f"[{label}] inserted {rows:,} audit rows in {time.perf_counter() - t0:.1f}s")
    admin = Admin(gov)
    last = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 60 * 86400))
    first = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 90 * 86400))
    cases = {
        "department x model x day, one month (of three)": dict(group_by=["department", "model", "day"], start=first, end=last),
        "department, all rows": dict(group_by=["department"]),
        "one department by day, one month": dict(group_by=["day"], start=first, end=last, filters={"department": "dept3"}),
    }
    for name, kw in cases.items():
        times = []
        for _ in range(3):
            t = time.perf_counter()
            out = await admin.usage(limit=100, **kw)
            times.append(time.perf_counter() - t)
        print(f"[{label}] usage {name}: median {statistics.median(times) * 1000:.0f} ms "
              f"({len(out['data'])} rows on the first page)")
    await gov.aclose()


async def bench_hot(label: str, state: str, sql_url: str, n: int) -> None:
    gov = Governance(_config(state, sql_url, tempfile.mkdtemp()))
    await gov.start()
    admin = Admin(gov)
    await admin.create_department("d")
    await admin.create_team("t", department="d")
    k = await admin.create_key(user="u", team="t")
    await admin.set_limit(scope="key", scope_id=k["id"], rpm=10**9, tpm=2 * 10**9)
    await admin.set_limit(scope="team", scope_id="t", rpm=10**9)
    await admin.set_budget(scope="department", scope_id="d", amount_usd=10**9, period="monthly")
    from seawall.govern.audit import make_record

    headers = {"authorization": f"Bearer {k['key']}"}
    body = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "hello " * 20}]}
    price = gov.config.models[0].targets[0].price
    usage = {"prompt_tokens": 40, "completion_tokens": 50, "total_tokens": 90}
    lat = []
    for i in range(n):
        t = time.perf_counter()
        req = Request("chat", "m", body, False, Meta(str(i)), headers=headers)
        p = gov.identify(headers, "m")
        adm, _ = await gov.admit(req, p, price)
        gov.settle(adm, usage, 0.0001)
        gov.audit.submit(make_record("request", "ok", 200, key_id=p.key_id, alias="m"))
        lat.append(time.perf_counter() - t)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the audit writer and settlements run
    lat.sort()
    print(f"[{label}] identify+limits(3 windows)+budget+settle+audit: median {lat[n // 2] * 1e6:.0f} us, "
          f"p99 {lat[int(n * 0.99)] * 1e6:.0f} us over {n:,} requests")
    await gov.aclose()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--hot", type=int, default=20000)
    ap.add_argument("--pg")
    ap.add_argument("--redis")
    a = ap.parse_args()
    d = tempfile.mkdtemp()
    await bench_hot("memory+sqlite", "memory", f"sqlite:///{d}/hot.db", a.hot)
    if a.redis and a.pg:
        await bench_hot("redis+postgresql", a.redis, a.pg, a.hot // 4)
    await bench_usage("sqlite", "memory", f"sqlite:///{d}/usage.db", a.rows)
    if a.pg:
        await bench_usage("postgresql", "memory", a.pg, a.rows)


if __name__ == "__main__":
    asyncio.run(main())
