"""Full-stack soak: the gateway (SQLite or PostgreSQL, --workers N) against the simulator at
the highest rate a keep-alive client reaches, then: did every answered request get its audit
record, is the chain intact, is any WAL/spool file left, how did the rate and the gateway's
memory move between the first and the last minute after warm-up.

`--full` turns the whole stack on: a virtual key with a team, a department, a rate limit and a
budget (each request identified, limited, charged); the guard's defaults; the exact and the
semantic cache on the alias, with one prompt in five repeated (hits) and the rest unique
(misses that embed, look up and store).

    python scripts/soak_audit.py --seconds 60 --workers 2 --connections 32 [--pg postgresql://postgres@127.0.0.1:5432/postgres]
    python scripts/soak_audit.py --requests 1000000 --full --warmup 60 [--pg ...]   # the issue-13 soak
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from procs import Proc, free_port, start_simulator  # noqa: E402

WORDS = "tide harbour pier gull dune reef lagoon current anchor lighthouse buoy jetty".split()


def body(n: int, vary: bool) -> bytes:
    if vary and n % 5:  # four in five unique: cache misses that are embedded and stored
        text = f"Summarise ticket {n}: the {WORDS[n % 12]} near the {WORDS[(n // 12) % 12]} needs a check"
    else:
        text = "hello waves"
    return json.dumps({"model": "m", "max_tokens": 8, "temperature": 0,
                       "messages": [{"role": "user", "content": text}]}).encode()


def request(n: int, vary: bool, key: str | None) -> bytes:
    b = body(n, vary)
    auth = f"authorization: Bearer {key}\r\n" if key else ""
    return (f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{auth}"
            f"content-length: {len(b)}\r\n\r\n").encode() + b


class Load:
    def __init__(self, seconds: float, requests: int | None, vary: bool, key: str | None) -> None:
        self.until = time.monotonic() + seconds
        self.left = requests  # None: until the time is up
        self.vary, self.key, self.sent = vary, key, 0
        self.ids: list = []
        self.stamps: list = []
        self.errors = 0

    def next(self) -> bytes | None:
        if time.monotonic() >= self.until or (self.left is not None and self.sent >= self.left):
            return None
        self.sent += 1
        return request(self.sent, self.vary, self.key)


async def client(port: int, load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while (req := load.next()) is not None:
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        hdr = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        await reader.readexactly(int(hdr.get("content-length", "0")))
        if lines[0].split()[1] == "200":
            load.ids.append(hdr["x-seawall-request-id"])
            load.stamps.append(time.monotonic())
        else:
            load.errors += 1
    writer.close()


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the workers), from /proc."""
    pids, total = [pid], 0
    try:
        for line in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(line))
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


async def run_load(port: int, load: Load, connections: int, pid: int, rss: list) -> None:
    async def sample() -> None:
        while True:
            rss.append((time.monotonic(), tree_rss_mib(pid), len(load.ids)))
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client(port, load) for _ in range(connections)))
    sampler.cancel()
    rss.append((time.monotonic(), tree_rss_mib(pid), len(load.ids)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made on it")
    ap.add_argument("--requests", type=int, help="stop after this many requests (--seconds is then a cap)")
    ap.add_argument("--full", action="store_true", help="key, limit, budget, guard, exact + semantic cache")
    ap.add_argument("--warmup", type=float, default=0.0, help="seconds left out of the first-minute figures")
    args = ap.parse_args()
    if args.requests:
        args.seconds = max(args.seconds, 86400.0)
    tmp = Path(tempfile.mkdtemp(prefix="soak-audit-"))
    pg_name = None
    if args.pg:
        pg_name = "soak_audit_" + uuid.uuid4().hex[:8]
        subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {pg_name}"], check=True)
        url = args.pg.rsplit("/", 1)[0] + "/" + pg_name
    else:
        url = f"sqlite:///{tmp}/seawall.db"
    sim = start_simulator()
    cfg = {"providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
           "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}],
           "server": {"access_log": False}, "store": {"sql": url},
           "governance": {"audit": {"spool_dir": str(tmp / "wal")}}}
    if args.full:
        cfg["models"][0]["cache"] = {"category": "short", "semantic": {"enabled": True}}
    (tmp / "c.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    key = None
    if args.full:
        def cli(*a: str) -> str:
            return subprocess.run([sys.executable, "-m", "seawall.cli", *a, "-c", str(tmp / "c.yaml")],
                                  capture_output=True, text=True, env=env, check=True).stdout
        key = json.loads(cli("keys", "create", "--team", "soak", "--department", "ops", "--create-missing",
                             "--name", "soak"))["key"]
        cli("limits", "create", "--scope", "team", "--scope-id", "soak", "--rpm", "10000000", "--tpm", "1000000000")
        cli("budgets", "create", "--scope", "department", "--scope-id", "ops", "--period", "daily",
            "--amount-usd", "1000000")
    port = free_port()
    gw = Proc([sys.executable, "-m", "seawall.cli", "serve", "-c", str(tmp / "c.yaml"), "--port", str(port),
               "--workers", str(args.workers)], port)
    try:
        t0 = time.monotonic()
        load, rss = Load(args.seconds, args.requests, args.full, key), []
        asyncio.run(run_load(port, load, args.connections, gw.proc.pid, rss))
        ids, stamps = load.ids, load.stamps
        t_end = stamps[-1] if stamps else time.monotonic()
        seconds = t_end - t0
        window = 60.0 if seconds - args.warmup >= 180 else (seconds - args.warmup) / 10
        start = t0 + args.warmup
        first = sum(1 for s in stamps if start <= s < start + window) / window
        last = sum(1 for s in stamps if s >= t_end - window) / window
        base = [m for t, m, _ in rss if t >= start][:2] or [rss[0][1]]
        gw.stop()
        if pg_name:
            out = subprocess.run(["psql", url, "-tAc", "select request_id from audit_log where kind='request'"],
                                 capture_output=True, text=True, check=True).stdout
            in_db = set(out.split())
        else:
            with sqlite3.connect(tmp / "seawall.db") as c:
                in_db = {r[0] for r in c.execute("select request_id from audit_log where kind='request'")}
        left = [p.name for p in (tmp / "wal").glob("*")] if (tmp / "wal").exists() else []
        verify = subprocess.run([sys.executable, "-m", "seawall.cli", "audit", "verify", "-c", str(tmp / "c.yaml")],
                                capture_output=True, text=True, env=env).stdout.strip()
        print(json.dumps({"db": "postgresql" if pg_name else "sqlite", "workers": args.workers, "full": args.full,
                          "seconds": round(seconds), "answered": len(ids), "errors": load.errors,
                          "rps": round(len(ids) / seconds), "window_s": round(window),
                          "rps_first_window": round(first), "rps_last_window": round(last),
                          "rps_change_pct": round(100 * (last - first) / first, 1) if first else None,
                          "rss_mib_after_warmup": round(max(base), 1), "rss_mib_end": round(rss[-1][1], 1),
                          "rss_change_pct": round(100 * (rss[-1][1] - max(base)) / max(base), 1),
                          "rss_mib_peak": round(max(m for _, m, _ in rss), 1),
                          "missing_audit": len(set(ids) - in_db), "wal_files_left": left, "verify": verify}))
    finally:
        gw.stop()
        sim.stop()
        if pg_name:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"])


if __name__ == "__main__":
    main()
