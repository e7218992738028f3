#!/usr/bin/env python3
"""Wall time of operator commands, each in a fresh interpreter (what a person or a script
waits for): `seawall --help`, `seawall check`, `seawall keys list` on a SQLite store with one
key. Prints the median and the fastest of N runs per command, and the load average.

    HF_HUB_OFFLINE=1 PYTHONPATH=src python scripts/bench_cli.py [--n 7]

PYTHONPATH picks the code measured (point it at another checkout's src/ to compare).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=7)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory(prefix="seawall-bench-cli-") as tmp:
        cfg = Path(tmp) / "seawall.yaml"
        cfg.write_text(f"""providers: [{{name: p, base_url: "http://127.0.0.1:9"}}]
models: [{{name: m, targets: [{{provider: p, model: m}}]}}]
store: {{sql: "sqlite:///{tmp}/g.db"}}
governance: {{audit: {{spool_dir: {tmp}/spool}}}}
""")
        run = [sys.executable, "-m", "seawall.cli"]
        subprocess.run([*run, "keys", "create", "-c", str(cfg), "--user", "ann"], check=True,
                       stdout=subprocess.DEVNULL)  # migrates the store: the runs below find it ready
        print("| command | median s | min s |\n|---|---|---|")
        for argv in (["--help"], ["check", str(cfg)], ["keys", "list", "-c", str(cfg)]):
            times = []
            for _ in range(n):
                t = time.perf_counter()
                subprocess.run([*run, *argv], check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - t)
            shown = " ".join(a if a != str(cfg) else "F" for a in argv)
            print(f"| `seawall {shown}` | {statistics.median(times):.2f} | {min(times):.2f} |")
    print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
