#!/usr/bin/env python
"""The cross-encoder judge's cost per candidate pair, one thread, one pair at a time.

    OMP_NUM_THREADS=1 python scripts/bench_cache_cross.py --weights FILE [--n 600]

Pairs: real prompts of the look-alike sets (banking77/clinc150 questions, STS/MRPC sentences),
each judged alone as the cache does (tokenize + int8 graph + sigmoid), timed with perf_counter.
Reports p50 / p99 per pair, by pair length in word pieces, after a warm-up, and beside it the
3-layer student's embedding of one prompt of the same pairs, timed the same way, as a yardstick
on a machine whose load moves.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_cache_cross_model import CrossJudge

from seawall.vector.embedder import load_embedder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--pairs", default="/tmp/ccj/pairs.json", help="pairs.json of train_cache_cross.py prep")
    ap.add_argument("--weights", required=True, help="a weights file of train_cache_cross.py (with threshold, floor)")
    args = ap.parse_args()
    judge = CrossJudge(Path(args.weights), threads=1)
    data = json.loads(Path(args.pairs).read_text())
    rng = random.Random(14)
    groups = {"questions (banking77, clinc150)": data["banking77"]["test"] + data["clinc150"]["test"],
              "sentences (STS, MRPC)": data["sts"]["test"] + data["mrpc"]["test"]}
    student = load_embedder("onnx-int8-l3", cache_entries=0)
    for _ in range(50):
        judge.prob(1.0, "warm up", "warm up")
        student.embed(["warm up"])
    for name, pairs in groups.items():
        sel = rng.sample(pairs, min(args.n, len(pairs)))
        ts, es, lens = [], [], []
        for a, b, _ in sel:  # interleaved, so both see the same load
            t0 = time.perf_counter()
            judge.prob(1.0, a, b)
            t1 = time.perf_counter()
            student.embed([b])
            ts.append((t1 - t0) * 1000)
            es.append((time.perf_counter() - t1) * 1000)
            lens.append(len(judge._tok.encode(a, b).ids))
        ts.sort()
        es.sort()
        print(f"{name}: n {len(ts)}, pair length p50 {statistics.median(lens):.0f} word pieces; "
              f"judge p50 {ts[len(ts) // 2]:.3f} ms, p99 {ts[int(len(ts) * 0.99)]:.3f} ms; "
              f"student embedding of b p50 {es[len(es) // 2]:.3f} ms, p99 {es[int(len(es) * 0.99)]:.3f} ms")


if __name__ == "__main__":
    main()
