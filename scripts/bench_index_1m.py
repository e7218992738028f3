#!/usr/bin/env python
"""Index lookup at 1M entries: methods that build in minutes on 2 cores.

    python scripts/bench_index_1m.py --method usearch-i8 [--n 1000000] [--budget 480]
    python scripts/bench_index_1m.py --method hnswlib --m 12 --ef-construction 40
    python scripts/bench_index_1m.py --method flat-f32 | flat-i8 | ivf

Data: random unit vectors, dim 384 (seed 1). Queries: 200 planted near-duplicates (a stored
vector + Gaussian noise, --noise; 0.025 gives cosine ~0.9 to the original, like a
paraphrase) and 200 fresh random vectors. recall@1 = the index's top-1 equals the exact
top-1 (float32 brute force over all N). Build time, RSS growth (and the library's own
memory figure). Search: one query at a time, one thread, k=4, wall clock.
The build stops at --budget seconds and reports how far it got (so no run exceeds ~10 min).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(ts, p):
    ts = sorted(ts)
    return ts[min(len(ts) - 1, int(p * len(ts)))] * 1e3


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True,
                    choices=["usearch-i8", "usearch-f16", "usearch-f32", "hnswlib", "flat-f32", "flat-i8", "ivf"])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=12, help="graph connectivity")
    ap.add_argument("--ef-construction", type=int, default=40)
    ap.add_argument("--ef-search", default="64,128,256", help="comma list, each measured")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--nprobe", default="8,16", help="comma list, each measured")
    ap.add_argument("--noise", type=float, default=0.025)
    ap.add_argument("--budget", type=float, default=480.0, help="stop building after this many seconds")
    a = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; {vars(a)}",
          flush=True)

    rng = np.random.default_rng(1)
    x = np.empty((a.n, 384), np.float32)
    for s in range(0, a.n, 100_000):
        x[s:s + 100_000] = unit(rng.standard_normal((min(100_000, a.n - s), 384)).astype(np.float32))
    planted = rng.choice(a.n, 200, replace=False)
    q_dup = unit(x[planted] + rng.standard_normal((200, 384)).astype(np.float32) * a.noise)
    q_rnd = unit(rng.standard_normal((200, 384)).astype(np.float32))
    qs = np.concatenate([q_dup, q_rnd])
    exact = np.empty(len(qs), np.int64)
    best = np.full(len(qs), -9.0, np.float32)
    for s in range(0, a.n, 100_000):
        sc = qs @ x[s:s + 100_000].T
        j = sc.argmax(1)
        v = sc[np.arange(len(qs)), j]
        better = v > best
        best[better] = v[better]
        exact[better] = j[better] + s
    print(f"planted cos to original: median {np.median((q_dup * x[planted]).sum(1)):.3f}; "
          f"exact top-1 of planted = the original: {(exact[:200] == planted).mean():.2f}", flush=True)

    r0 = rss_mb()
    t0 = time.time()
    built = a.n
    lib_mem = None
    if a.method.startswith("usearch"):
        from usearch.index import Index
        ix = Index(ndim=384, metric="cos", dtype=a.method.split("-")[1], connectivity=a.m,
                   expansion_add=a.ef_construction)
        step = 50_000
        for s in range(0, a.n, step):
            ix.add(np.arange(s, min(a.n, s + step)), x[s:s + step], threads=a.threads)
            if time.time() - t0 > a.budget:
                built = min(a.n, s + step)
                break
        lib_mem = ix.memory_usage / 2**20

        def set_ef(ef):
            ix.expansion_search = ef

        def search(q):
            return int(ix.search(q, 4, threads=1).keys[0])
    elif a.method == "hnswlib":
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=384)
        ix.init_index(max_elements=a.n, M=a.m, ef_construction=a.ef_construction)
        ix.set_num_threads(a.threads)
        step = 50_000
        for s in range(0, a.n, step):
            ix.add_items(x[s:s + step], np.arange(s, min(a.n, s + step)))
            if time.time() - t0 > a.budget:
                built = min(a.n, s + step)
                break
        ix.set_num_threads(1)

        def set_ef(ef):
            ix.set_ef(ef)

        def search(q):
            return int(ix.knn_query(q.reshape(1, -1), k=4)[0][0][0])
    elif a.method == "flat-f32":
        m = x  # the matrix itself (no copy)

        def search(q):
            s = m @ q
            top = np.argpartition(s, -4)[-4:]
            return int(top[np.argmax(s[top])])
    elif a.method == "flat-i8":
        m = np.clip(np.rint(x * 127 / 0.3), -127, 127).astype(np.int8)  # |component| of a 384-d unit vector << 0.3

        def search(q):
            qi = np.clip(np.rint(q * 127 / 0.3), -127, 127).astype(np.int8)
            s = m @ qi.astype(np.int32)  # numpy has no int8 BLAS: int32 accumulate
            top = np.argpartition(s, -16)[-16:]  # rerank 16 in f32
            f = x[top] @ q
            return int(top[np.argmax(f)])
    elif a.method == "ivf":
        # coarse quantiser: nlist centroids = k-means(2 rounds) on a sample; lists as f32 blocks
        cen = x[rng.choice(a.n, a.nlist, replace=False)].copy()
        samp = x[rng.choice(a.n, min(a.n, 100 * a.nlist), replace=False)]
        for _ in range(2):
            lab = (samp @ cen.T).argmax(1)
            for c in range(a.nlist):
                mm = samp[lab == c]
                if len(mm):
                    cen[c] = mm.mean(0)
            cen = unit(cen)
        assign = np.empty(a.n, np.int32)
        for s in range(0, a.n, 50_000):
            assign[s:s + 50_000] = (x[s:s + 50_000] @ cen.T).argmax(1)
        nprobe = [8]
        order = np.argsort(assign, kind="stable")
        xs = x[order]
        bounds = np.searchsorted(assign[order], np.arange(a.nlist + 1))

        def search(q):
            cs = np.argpartition(cen @ q, -nprobe[0])[-nprobe[0]:]
            best_i, best_v = -1, -9.0
            for c in cs:
                lo, hi = bounds[c], bounds[c + 1]
                if hi > lo:
                    sc = xs[lo:hi] @ q
                    j = int(sc.argmax())
                    if sc[j] > best_v:
                        best_v, best_i = float(sc[j]), int(order[lo + j])
            return best_i
    build = time.time() - t0
    r1 = rss_mb()
    if built < a.n:
        print(f"BUILD STOPPED at {built:,}/{a.n:,} after {build:.0f}s "
              f"(rate {built / build:,.0f}/s -> full ~{a.n / (built / build):.0f}s)", flush=True)
    graph = a.method.startswith("usearch") or a.method == "hnswlib"
    params = a.ef_search if graph else a.nprobe if a.method == "ivf" else "0"
    for ef in [int(e) for e in params.split(",")]:
        if graph:
            set_ef(ef)
        elif a.method == "ivf":
            nprobe[0] = ef
        for q in qs[:20]:
            search(q)  # warm
        res = {}
        for name, sl in (("planted", slice(0, 200)), ("random", slice(200, 400))):
            ts, ok = [], 0
            for q, e in zip(qs[sl], exact[sl]):
                s = time.perf_counter()
                got = search(q)
                ts.append(time.perf_counter() - s)
                ok += got == e if e < built else 0
            valid = int((exact[sl] < built).sum())
            res[name] = (pct(ts, .5), pct(ts, .99), ok / max(1, valid))
        extra = f", library memory_usage {lib_mem:.0f} MB" if lib_mem else ""
        print(f"RESULT {a.method} ef/nprobe={ef} n={built:,}: build {build:.0f}s, RSS +{r1 - r0:.0f} MB "
              f"(vectors f32 alone {built * 384 * 4 / 2**20:.0f} MB){extra}; "
              f"planted: p50 {res['planted'][0]:.3f} ms p99 {res['planted'][1]:.3f} ms recall@1 {res['planted'][2]:.3f}; "
              f"random queries: p50 {res['random'][0]:.3f} ms p99 {res['random'][1]:.3f} ms recall@1 {res['random'][2]:.3f}; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
