"""Sandbox cost: cold start to the first line of print("hi"), executions per second, leftovers.

    PYTHONPATH=src python scripts/bench_sandbox.py [--cold 100] [--runs 400] [--pool 2] [--leftover-runs 1000]
                                                   [--cgroups auto|off|required]

Every execution is a new sandbox (no warm pool): bwrap, namespaces, seccomp, the runner and
the interpreter start each time. "first line" is from spawning bwrap to the first stdout byte
reaching the gateway; "end to end" is the whole execute() call (staging, run, teardown).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import tempfile
import time

from seawall.sandbox import SandboxConfig, SandboxService
from seawall.sandbox.models import ExecutionRequest


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", type=int, default=100, help="sequential print('hi') runs")
    ap.add_argument("--runs", type=int, default=400, help="runs for the throughput phase")
    ap.add_argument("--pool", type=int, default=2, help="pool size (concurrent sandboxes)")
    ap.add_argument("--leftover-runs", type=int, default=0, help="extra runs, then count leftovers")
    ap.add_argument("--cgroups", choices=("auto", "off", "required"), default="auto",
                    help="sandbox.cgroups: each run in its own cgroup or not")
    ap.add_argument("--cgroup-ops", type=int, default=0,
                    help="only time the per-run cgroup work (create, kill sweep, remove) this many times")
    args = ap.parse_args()
    if args.cgroup_ops:
        return cgroup_ops(args.cgroup_ops)

    root = tempfile.mkdtemp(prefix="seawall-sbx-bench-", dir="/tmp")
    receipts: list[dict] = []
    svc = SandboxService(SandboxConfig(enabled=True, work_root=root, pool_size=args.pool,
                                       queue_wait_s=600, cgroups=args.cgroups), audit=receipts.append)
    t = time.perf_counter()
    await svc.start()
    start_s = time.perf_counter() - t
    if svc.unavailable_reason:
        raise SystemExit(f"sandbox unavailable: {svc.unavailable_reason}")
    svc_cgroup = svc.cgroup
    hi = ExecutionRequest(language="python", code='print("hi")')
    try:
        first_line, end_to_end = [], []
        for _ in range(args.cold):
            t = time.perf_counter()
            r = await svc.execute(hi, None)
            end_to_end.append((time.perf_counter() - t) * 1000)
            assert r.stdout == "hi\n", r
            first_line.append(receipts[-1]["first_output_ms"])

        t = time.perf_counter()
        results = await asyncio.gather(*(svc.execute(hi, None) for _ in range(args.runs)))
        elapsed = time.perf_counter() - t
        assert all(r.stdout == "hi\n" for r in results)

        bash_ms = []
        for _ in range(20):
            t = time.perf_counter()
            await svc.execute(ExecutionRequest(language="bash", code="echo hi"), None)
            bash_ms.append((time.perf_counter() - t) * 1000)

        for start in range(0, args.leftover_runs, 50):
            n = min(50, args.leftover_runs - start)
            await asyncio.gather(*(svc.execute(ExecutionRequest(
                language="python", code="import subprocess, sys\n"
                "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nprint('hi')"), None)
                for _ in range(n)))
        left = svc.leftovers()
    finally:
        await svc.aclose()
        shutil.rmtree(root, ignore_errors=True)

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}, Linux {platform.release()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"service start (reap, runtime, probe): {start_s * 1000:.0f} ms")
    print(f"cgroups ({args.cgroups}): {svc_cgroup}")
    print(f"python print('hi'), {args.cold} sequential runs:")
    print(f"  first line   p50 {statistics.median(first_line):6.1f} ms   p99 {pct(first_line, 99):6.1f} ms")
    print(f"  end to end   p50 {statistics.median(end_to_end):6.1f} ms   p99 {pct(end_to_end, 99):6.1f} ms")
    print(f"bash echo hi end to end p50 {statistics.median(bash_ms):6.1f} ms")
    print(f"throughput: {args.runs} runs, pool {args.pool}: {args.runs / elapsed:.1f} executions/s")
    if args.leftover_runs:
        print(f"leftovers after {args.leftover_runs} more runs (each leaving a background process): {left}")


def cgroup_ops(n: int) -> None:
    """A process (/bin/true) placed in a fresh run cgroup n times; the cgroup steps timed alone."""
    import subprocess
    from pathlib import Path

    from seawall.sandbox.cgroups import Cgroups

    root = Path(tempfile.mkdtemp(prefix="seawall-sbx-bench-", dir="/tmp"))
    cgroups = Cgroups.detect(root, None, None)
    cgroups.prepare("inst-bench")
    spent = {"create": 0.0, "kill": 0.0, "remove": 0.0}
    try:
        for i in range(n):
            t = time.perf_counter()
            run = cgroups.create(f"run-{i}", 300 << 20, 36)
            spent["create"] += time.perf_counter() - t
            subprocess.run(run.wrap(["/bin/true"]), check=True)
            t = time.perf_counter()
            run.kill()
            spent["kill"] += time.perf_counter() - t
            t = time.perf_counter()
            run.remove()
            spent["remove"] += time.perf_counter() - t
    finally:
        cgroups.close()
        shutil.rmtree(root, ignore_errors=True)
    print(f"cgroups: {cgroups.describe()}")
    print("per run: " + ", ".join(f"{k} {v / n * 1000:.2f} ms" for k, v in spent.items()))


if __name__ == "__main__":
    asyncio.run(main())
