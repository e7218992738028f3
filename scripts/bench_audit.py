"""Audit writer throughput and hot-path cost, on SQLite and PostgreSQL.

Submits records shaped like the gateway's (hashed content, a guard/cache detail) as fast as
the event loop lets it, in slices with a yield between them (as requests would), and reports:
- the submit cost per record (the hot path: what a request pays; with the WAL one write(2)),
- records/s from the first submit until the last record is committed (the writer's rate),
- CPU per record (all threads; the writer shares the interpreter with the requests),
- with --rate R: whether the writer keeps up with R records/s offered for --seconds.

    python scripts/bench_audit.py --records 50000 [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import subprocess
import tempfile
import time
import uuid

import sqlalchemy as sa

from seawall.govern import audit
from seawall.store import sql


def record(i: int) -> dict:
    h = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
    return audit.make_record(
        "request", "ok", 200, request_id=uuid.uuid4().hex, key_id=f"k{i % 50}", user_id=f"u{i % 200}",
        team_id=f"t{i % 10}", department_id=f"d{i % 4}", alias="chat", deployment="sim/gpt-4o-mini",
        prompt_tokens=120, completion_tokens=48, cost_usd=0.000123, latency_ms=12.5,
        detail={"attempts": 1, "stream": False, "cache": "miss", "guard": {"kinds": [], "action": "allow"}},
        prompt=h, response=h)


async def run(url: str, records: int, rate: float | None, seconds: float, spool: str, queue: int | None) -> dict:
    engine = sql.make_engine(url)
    await sql.migrate(engine)
    n = records if rate is None else int(rate * seconds)
    # queue_size: the default, or (--queue) big enough to measure the writer shipping from memory
    w = audit.AuditWriter(engine, spool_dir=spool, queue_size=queue or 10000)
    w.start()
    submit_ns = 0
    pre = [record(i) for i in range(n)]
    t0 = time.perf_counter()
    cpu0 = time.process_time()  # every thread of this process (aiosqlite's too)
    slice_ = 20 if rate is None else max(1, int(rate / 100))
    for i in range(0, n, slice_):
        s = time.perf_counter_ns()
        for r in pre[i:i + slice_]:
            w.submit(r)
        submit_ns += time.perf_counter_ns() - s
        if rate is None:
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(max(0.0, t0 + (i + slice_) / rate - time.perf_counter()))
    offered_s = time.perf_counter() - t0
    await w.flush()
    total_s = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    await w.aclose()
    async with engine.connect() as c:
        count = (await c.execute(sa.select(sa.func.count()).select_from(sql.audit_log))).scalar()
    ok = (await audit.verify(engine)).ok
    await engine.dispose()
    return {"records": n, "in_db": count, "verified": ok, "submit_us": submit_ns / n / 1000,
            "offered_s": round(offered_s, 2), "total_s": round(total_s, 2), "records_per_s": round(n / total_s),
            "cpu_us_per_record": round(cpu_s / n * 1e6, 1),
            "spooled": w.spooled}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50000)
    ap.add_argument("--rate", type=float, help="offer this many records/s instead of as fast as possible")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--queue", type=int, help="the writer's queue size (default 10000, the config default)")
    ap.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made on it")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-audit-")
    try:
        out = asyncio.run(run(f"sqlite:///{tmp}/a.db", args.records, args.rate, args.seconds, f"{tmp}/spool", args.queue))
        print("sqlite    ", out)
        if args.pg:
            name = "bench_audit_" + uuid.uuid4().hex[:8]
            base = args.pg.rsplit("/", 1)[0]
            subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {name}"], check=True)
            try:
                out = asyncio.run(run(f"{base}/{name}", args.records, args.rate, args.seconds, f"{tmp}/spool-pg",
                                 args.queue))
                print("postgresql", out)
            finally:
                subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
