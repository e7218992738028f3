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
POOL = 20_000  # distinct cached prompts: the caches reach their steady state during the warm-up


def body(n: int, full: bool) -> bytes:
    """--full: one request in four is a unique prompt to an uncached alias (guard, limits, budget,
    the upstream call); the rest draw from a pool of POOL prompts to the cached alias (exact
    and semantic look-ups, stores until the pool is seen, then hits)."""
    model, text = "m", "hello waves"
    if full:
        i = n if n % 4 == 0 else n % POOL
        text = f"Summarise ticket {i}: the {WORDS[i % 12]} near the {WORDS[(i // 12) % 12]} needs a check"
        model = "m-live" if n % 4 == 0 else "m"
    # 128: the simulator's answers end (finish_reason "stop") within 120 tokens; a truncated
    # answer is never cached, so a smaller cap would make every cached-alias request a miss
    return json.dumps({"model": model, "max_tokens": 128 if full else 8, "temperature": 0,
                       "messages": [{"role": "user", "content": text}]}).encode()


def request(n: int, full: bool, key: str | None) -> bytes:
    b = body(n, full)
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
        self.errors: dict[str, int] = {}  # "status code": count
        self.error_bodies: list[str] = []  # the first few, to say why

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
        payload = await reader.readexactly(int(hdr.get("content-length", "0")))
        status = lines[0].split()[1]
        if status == "200":
            load.ids.append(hdr["x-seawall-request-id"])
            load.stamps.append(time.monotonic())
        else:
            load.errors[status] = load.errors.get(status, 0) + 1
            if len(load.error_bodies) < 5:
                load.error_bodies.append(payload[:300].decode("utf-8", "replace"))
    writer.close()


def rss_mib(pid: int) -> dict[int, float]:
    """Resident memory of a process and of each of its children (the workers), from /proc."""
    out = {}
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[p] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return out


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return 0


def wait_workers_started(pid: int, workers: int, timeout: float = 120.0) -> None:
    """The first worker up answers /healthz and would take every keep-alive connection the load
    opens at once, leaving the others idle for the whole soak: wait until all N workers exist
    and have gone quiet (their start-up, model loading included, is over)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    last: dict[int, int] = {}
    while time.monotonic() < deadline and quiet < 4:
        kids = children(pid) if workers > 1 else [pid]
        now = {k: cpu_ticks(k) for k in kids}
        busy = len(kids) < workers or any(now[k] - last.get(k, -100) > 2 for k in kids)
        quiet = 0 if busy else quiet + 1
        last = now
        time.sleep(0.5)


def cpu_now(pid: int, sim_pid: int) -> dict[str, int]:
    """CPU ticks so far of the client (this process), the simulator and each gateway process."""
    me = os.times()
    ticks = {"client": round((me.user + me.system) * os.sysconf("SC_CLK_TCK")), "simulator": cpu_ticks(sim_pid)}
    ticks.update({f"gateway {p}": cpu_ticks(p) for p in [pid, *children(pid)]})
    # the whole machine: every process's CPU, idle, and time the hypervisor gave to others
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    ticks.update({"machine busy": user + nice + system + irq + softirq, "machine idle": idle + iowait,
                  "machine steal": steal})
    return ticks


async def run_load(port: int, load: Load, connections: int, pid: int, rss: list, minutes: list,
                   sim_pid: int) -> None:
    """`minutes`: answered requests and CPU ticks per process, once a minute: a rate that falls
    shows which process's CPU per request rose."""
    async def sample() -> None:
        n = 0
        while True:
            if n % 12 == 0:
                minutes.append((time.monotonic(), len(load.ids), cpu_now(pid, sim_pid)))
            rss.append((time.monotonic(), rss_mib(pid), len(load.ids)))
            n += 1
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client(port, load) for _ in range(connections)))
    sampler.cancel()
    rss.append((time.monotonic(), rss_mib(pid), len(load.ids)))
    minutes.append((time.monotonic(), len(load.ids), cpu_now(pid, sim_pid)))


def per_minute(minutes: list) -> list[dict]:
    """Rate and CPU milliseconds per answered request, per process, for each interval; and the
    gateway's CPU per request over the client's and the simulator's. Those two do the same work
    for every request, so their CPU per request moves only with how fast the machine runs
    (a shared VM's neighbours, frequency): the ratio is the gateway's own cost, whatever the
    machine did, and a gateway that slows as it runs shows there."""
    hz, out = os.sysconf("SC_CLK_TCK"), []
    for (t0, n0, c0), (t1, n1, c1) in zip(minutes, minutes[1:]):
        done = max(n1 - n0, 1)
        ms = {k: 1000 * (c1[k] - c0.get(k, 0)) / hz / done for k in c1}
        gateway = sum(v for k, v in ms.items() if k.startswith("gateway"))
        reference = ms["client"] + ms["simulator"]
        out.append({"t": round(t1), "rps": round((n1 - n0) / (t1 - t0)), "gateway_cpu_ms": round(gateway, 3),
                    "gateway_over_reference": round(gateway / reference, 3) if reference else None,
                    "cpu_ms_per_request": {k: round(v, 3) for k, v in ms.items()}})
    return out


def cost_change(rows: list[dict], start: float) -> dict:
    """First full minute after the warm-up against the last one: the gateway's CPU per request,
    raw and over the reference processes'."""
    after = [r for r in rows if r["t"] - 60 >= start - 1]
    if len(after) < 2:
        return {}
    first, last = after[0], after[-1]

    def pct(key: str):
        return round(100 * (last[key] - first[key]) / first[key], 1) if first[key] else None

    return {"gateway_cpu_ms_first_last": [first["gateway_cpu_ms"], last["gateway_cpu_ms"]],
            "gateway_cpu_change_pct": pct("gateway_cpu_ms"),
            "gateway_over_reference_first_last": [first["gateway_over_reference"], last["gateway_over_reference"]],
            "gateway_over_reference_change_pct": pct("gateway_over_reference")}


def prefill(db: Path, n: int) -> None:
    """n request records shaped like the soak's own (hashed content, a JSON detail), chained
    from the current head, written in batches as the writer would."""
    from seawall.govern.audit import CHAINED, chain_hash, make_record

    cols = CHAINED + ("prev_hash", "hash")
    with sqlite3.connect(db) as c:
        seq, prev = c.execute("select seq, hash from audit_head where id = 1").fetchone()
        ts = time.time() - n / 800  # as if written at the soak's rate, up to now
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                rec = make_record("request", "ok", 200, ts=ts + i / 800, request_id=uuid.uuid4().hex,
                                  key_id="k" * 12, team_id="soak", department_id="ops", alias="m",
                                  deployment="sim/m", prompt_tokens=12, completion_tokens=8, cost_usd=1e-5,
                                  latency_ms=1.0, detail={"attempts": [{"deployment": "sim/m", "status": 200}]},
                                  prompt="sha256:" + "0" * 64, response="sha256:" + "1" * 64)
                seq += 1
                rec["seq"], rec["prev_hash"] = seq, prev
                rec["hash"] = prev = chain_hash(prev, rec)
                rows.append(tuple(rec.get(k) for k in cols))
            c.executemany(f"insert into audit_log ({', '.join(cols)}) values ({', '.join('?' * len(cols))})", rows)
            c.execute("update audit_head set seq = ?, hash = ? where id = 1", (seq, prev))
            c.commit()
    print(f"prefilled {n} audit records", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pg", help="a PostgreSQL server URL; a scratch database is made on it")
    ap.add_argument("--requests", type=int, help="stop after this many requests (--seconds is then a cap)")
    ap.add_argument("--full", action="store_true", help="key, limit, budget, guard, exact + semantic cache")
    ap.add_argument("--warmup", type=float, default=0.0, help="seconds left out of the first-minute figures")
    ap.add_argument("--prefill", type=int, default=0,
                    help="start from an audit log of this many chained records (SQLite): is a long log slower?")
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
        cfg["models"].append({"name": "m-live", "targets": [{"provider": "sim", "model": "m"}],
                              "cache": {"category": "none"}})
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
    if args.prefill:
        if pg_name:
            sys.exit("--prefill is for SQLite")
        if not args.full:
            subprocess.run([sys.executable, "-m", "seawall.cli", "db", "upgrade", "-c", str(tmp / "c.yaml")], env=env, check=True)
        prefill(tmp / "seawall.db", args.prefill)
    port = free_port()
    gw = Proc([sys.executable, "-m", "seawall.cli", "serve", "-c", str(tmp / "c.yaml"), "--port", str(port),
               "--workers", str(args.workers)], port)
    try:
        wait_workers_started(gw.proc.pid, args.workers)
        t0 = time.monotonic()
        load, rss, minutes = Load(args.seconds, args.requests, args.full, key), [], []
        asyncio.run(run_load(port, load, args.connections, gw.proc.pid, rss, minutes, sim.proc.pid))
        ids, stamps = load.ids, load.stamps
        t_end = stamps[-1] if stamps else time.monotonic()
        seconds = t_end - t0
        window = 60.0 if seconds - args.warmup >= 180 else (seconds - args.warmup) / 10
        start = t0 + args.warmup
        first = sum(1 for s in stamps if start <= s < start + window) / window
        last = sum(1 for s in stamps if s >= t_end - window) / window
        after = [m for t, m, _ in rss if t >= start][:2] or [rss[0][1]]
        base = {p: max(m.get(p, 0.0) for m in after) for p in rss[-1][1]}  # per process, after warm-up
        end = rss[-1][1]
        total_base, total_end = sum(base.values()), sum(end.values())
        cpu = {p: round(cpu_ticks(p) / os.sysconf("SC_CLK_TCK"), 1) for p in [gw.proc.pid, *children(gw.proc.pid)]}
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
                          "seconds": round(seconds), "answered": len(ids), "errors": load.errors, "error_bodies": load.error_bodies,
                          "rps": round(len(ids) / seconds), "window_s": round(window),
                          "rps_first_window": round(first), "rps_last_window": round(last),
                          "rps_change_pct": round(100 * (last - first) / first, 1) if first else None,
                          "rss_mib_after_warmup": round(total_base, 1), "rss_mib_end": round(total_end, 1),
                          "rss_change_pct": round(100 * (total_end - total_base) / total_base, 1),
                          "rss_per_process_mib": {p: [round(base[p], 1), round(end[p], 1)] for p in end},
                          "rss_mib_peak": round(max(sum(m.values()) for _, m, _ in rss), 1),
                          "cpu_s_per_process": cpu,  # how evenly the workers shared the load
                          **cost_change(rows := per_minute(minutes), start), "per_minute": rows,
                          "missing_audit": len(set(ids) - in_db), "wal_files_left": left, "verify": verify}))
    finally:
        gw.stop()
        sim.stop()
        if pg_name:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"])


if __name__ == "__main__":
    main()
