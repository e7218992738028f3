#!/usr/bin/env python3
"""A/B latency of the input guard on the bench's 1 KB prompt and on a 2 KB pasted e-mail
("Summarise this e-mail ...:\\n\\n" + paragraphs): run it alternately with each tree's src and
compare the best medians (docs/benchmarks.md, "Material pasted into a user message").

    python scripts/bench_pasted.py /path/to/tree/src [n]     # prints a dict of medians (ms / us)
"""
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

src = os.path.abspath(sys.argv[1])
sys.path.insert(0, src)
import seawall  # noqa: E402  (the tree under test, before bench_guard puts its own src first)
assert seawall.__file__.startswith(src), seawall.__file__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_guard as bg  # noqa: E402
from seawall.guard import Guard, GuardPolicy  # noqa: E402
from seawall.guard.injection import heuristic_score  # noqa: E402

EMAIL = bg.PASTED_EMAIL

async def run(n):
    g = Guard()
    out = {}
    pat = GuardPolicy(injection_classifier=False)
    await bg.time_input(g, pat, 50, False)
    out["pattern 1KB"] = statistics.median(await bg.time_input(g, pat, n, False))
    await g.warm_up(classifier=True)
    fast = GuardPolicy()
    await bg.time_input(g, fast, 20, True)
    out["default 1KB"] = statistics.median(await bg.time_input(g, fast, n // 2, True))
    xs = []
    for i in range(n):
        t = time.perf_counter(); await g.check_input(bg.req(f"[{i}] " + EMAIL), pat); xs.append((time.perf_counter() - t) * 1000)
    out["pattern 2KB email"] = statistics.median(xs)
    xs = []
    for i in range(n * 2):
        p = f"[{i}] " + EMAIL
        t = time.perf_counter(); heuristic_score(p); xs.append((time.perf_counter() - t) * 1e6)
    out["rules 2KB email us"] = statistics.median(xs)
    xs = []
    for i in range(n * 2):
        p = bg.prompt_1kb(i)
        t = time.perf_counter(); heuristic_score(p); xs.append((time.perf_counter() - t) * 1e6)
    out["rules 1KB us"] = statistics.median(xs)
    print(repr(out))

asyncio.run(run(int(sys.argv[2]) if len(sys.argv) > 2 else 800))
