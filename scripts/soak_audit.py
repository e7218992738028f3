"""Full-stack audit soak: the gateway (SQLite or PostgreSQL, --workers N) against the
simulator at the highest rate a keep-alive client reaches, then: did every answered request
get its audit record, is the chain intact, is any WAL/spool file left, and the rate in the
first and last tenth of the run.

    python scripts/soak_audit.py --seconds 60 --workers 2 --connections 32 [--pg postgresql://postgres@127.0.0.1:5432/postgres]
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

BODY = json.dumps({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hello waves"}]}).encode()


async def client(port: int, until: float, ids: list, stamps: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
           f"content-length: {len(BODY)}\r\n\r\n").encode() + BODY
    while time.monotonic() < until:
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        hdr = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        await reader.readexactly(int(hdr.get("content-length", "0")))
        if lines[0].split()[1] == "200":
            ids.append(hdr["x-seawall-request-id"])
            stamps.append(time.monotonic())
    writer.close()


async def load(port: int, seconds: float, connections: int) -> tuple[list, list]:
    ids: list = []
    stamps: list = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(port, until, ids, stamps) for _ in range(connections)))
    return ids, stamps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made on it")
    args = ap.parse_args()
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
    (tmp / "c.yaml").write_text(yaml.safe_dump(cfg))
    port = free_port()
    gw = Proc([sys.executable, "-m", "seawall.cli", "serve", "-c", str(tmp / "c.yaml"), "--port", str(port),
               "--workers", str(args.workers)], port)
    try:
        t0 = time.monotonic()
        ids, stamps = asyncio.run(load(port, args.seconds, args.connections))
        tenth = args.seconds / 10
        first = sum(1 for s in stamps if s < t0 + tenth) / tenth
        last = sum(1 for s in stamps if s >= t0 + args.seconds - tenth) / tenth
        gw.stop()
        if pg_name:
            out = subprocess.run(["psql", url, "-tAc", "select request_id from audit_log where kind='request'"],
                                 capture_output=True, text=True, check=True).stdout
            in_db = set(out.split())
        else:
            with sqlite3.connect(tmp / "seawall.db") as c:
                in_db = {r[0] for r in c.execute("select request_id from audit_log where kind='request'")}
        left = [p.name for p in (tmp / "wal").glob("*")] if (tmp / "wal").exists() else []
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        verify = subprocess.run([sys.executable, "-m", "seawall.cli", "audit", "verify", "-c", str(tmp / "c.yaml")],
                                capture_output=True, text=True, env=env).stdout.strip()
        print(json.dumps({"db": "postgresql" if pg_name else "sqlite", "workers": args.workers,
                          "seconds": args.seconds, "answered": len(ids), "rps": round(len(ids) / args.seconds),
                          "rps_first_tenth": round(first), "rps_last_tenth": round(last),
                          "missing_audit": len(set(ids) - in_db), "wal_files_left": left, "verify": verify}))
    finally:
        gw.stop()
        sim.stop()
        if pg_name:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"])


if __name__ == "__main__":
    main()
