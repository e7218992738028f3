"""Job queue cost: enqueue latency (p50/p99) and jobs per second through the queue with an
instant upstream (the pipeline replaced by a stub), on SQLite or PostgreSQL.

    PYTHONPATH=src python scripts/bench_jobs.py [--sql sqlite:///tmp/b.db | postgresql://...] \
        [--enqueue 2000] [--jobs 2000] [--workers 8] [--http 1000]

Enqueue is JobsService.submit (validation, the tenant's queue count, one INSERT), one at a
time. Throughput starts `--workers` in-process workers on `--jobs` queued jobs and times until
the last is completed (claim, lease renewal when due, the finishing UPDATE per job).

`--http N` also starts the simulator (instant answers) and a `seawall serve` on the same store
(no in-process workers, so nothing competes with the submissions) and times, over one
keep-alive connection, N live chat requests and N `Prefer: respond-async` submissions,
alternating: what an async submission costs next to a live request with an instant upstream.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time

import sqlalchemy as sa

from seawall.config import parse
from seawall.core.types import Meta, Principal
from seawall.jobs.queue import jobs as jobs_table
from seawall.jobs.service import JobsService
from seawall.store.stores import Stores


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


class _Done:
    def __init__(self, req) -> None:
        self.body = {"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
        self.meta = Meta(req.request_id)


async def instant(req):
    return _Done(req)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sql", default=None)
    ap.add_argument("--enqueue", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--http", type=int, default=0, help="also time N live and N async requests over HTTP")
    args = ap.parse_args()
    sql = args.sql or f"sqlite:///{tempfile.mkdtemp(prefix='bench-jobs-')}/b.db"
    cfg = parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
                 "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}]}],
                 "store": {"sql": sql}, "jobs": {"enabled": True, "workers": args.workers, "poll_s": 0.05,
                                                 "max_queued_per_tenant": 10 ** 9}})
    stores = Stores(cfg)
    await stores.start()
    async with stores.sql.begin() as conn:
        await conn.execute(sa.delete(jobs_table))
    svc = JobsService(cfg, stores, instant)
    who = Principal(key_id="bench")
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    lat = []
    for _ in range(args.enqueue):
        t = time.perf_counter()
        await svc.submit("chat", body, who)
        lat.append((time.perf_counter() - t) * 1000)
    async with stores.sql.begin() as conn:
        await conn.execute(sa.delete(jobs_table))
    rows = [svc.build_row("chat", body, who) for _ in range(args.jobs)]
    async with stores.sql.begin() as conn:
        await conn.execute(jobs_table.insert(), rows)

    t0 = time.perf_counter()
    await svc.start()
    while True:
        async with stores.sql.connect() as conn:
            left = (await conn.execute(sa.select(sa.func.count()).select_from(jobs_table)
                                       .where(jobs_table.c.status != "completed"))).scalar()
        if not left:
            break
        await asyncio.sleep(0.02)
    took = time.perf_counter() - t0
    await svc.aclose()
    await stores.aclose()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"store: {sql.split('://')[0]}; enqueue {args.enqueue} one at a time: "
          f"p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms")
    print(f"throughput: {args.jobs} jobs, {args.workers} workers, instant upstream: {args.jobs / took:.0f} jobs/s")
    if args.http:
        over_http(sql, args.http)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        assert proc.poll() is None, "a child exited early"
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing ready on port {port}")


def over_http(sql: str, n: int) -> None:
    import yaml

    sim_port, gw_port = _port(), _port()
    cfg = {"providers": [{"name": "p", "base_url": f"http://127.0.0.1:{sim_port}/v1"}],
           "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}]}],
           "server": {"access_log": False}, "store": {"sql": sql},
           "jobs": {"enabled": True, "workers": 0, "max_queued_per_tenant": 10 ** 9}}
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(cfg, f)
    procs = [subprocess.Popen([sys.executable, "-m", "seawall.sim", "--port", str(sim_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([sys.executable, "-m", "seawall.cli", "serve", "--config", path, "--port", str(gw_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _ready(sim_port, procs[0])
        _ready(gw_port, procs[1])
        conn = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=10)
        body = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
        times: dict[str, list[float]] = {"live": [], "async": []}
        for i in range(n + 50):  # the first 50 of each warm up
            for kind, extra in (("live", {}), ("async", {"prefer": "respond-async"})):
                t = time.perf_counter()
                conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json", **extra})
                r = conn.getresponse()
                r.read()
                assert r.status == (202 if extra else 200), r.status
                if i >= 50:
                    times[kind].append((time.perf_counter() - t) * 1000)
        for kind, v in times.items():
            print(f"http {kind}: {n} requests, round trip p50 {pct(v, 50):.2f} ms, p99 {pct(v, 99):.2f} ms")
        print(f"async minus live (p50): {pct(times['async'], 50) - pct(times['live'], 50):+.2f} ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait(15)
        os.unlink(path)


if __name__ == "__main__":
    asyncio.run(main())
