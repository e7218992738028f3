#!/usr/bin/env python
"""Cache micro-benchmarks (figures for docs/benchmarks.md, section Caching).

    python scripts/bench_cache.py                     # keys, exact hit, embedders, semantic hit, 10k/100k index
    python scripts/bench_cache.py --sizes 10000,100000,1000000 --skip-embedders

- exact key: µs to normalise + hash one request;
- exact hit: key + LocalLRU.get with 100k entries (p50/p99);
- embedders: p50 for one short prompt, per backend;
- semantic hit: SemanticCache.lookup with N entries in the namespace, embedding included
  (an embedding-cache miss: every query text is new), verifier included;
- index: NamespaceIndex search at each size with random unit vectors of dim 384.
Timings are wall clock on a shared 2-core machine: read them as orders of magnitude.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from seawall.cache.exact import LocalLRU  # noqa: E402
from seawall.cache.keys import exact_key  # noqa: E402


def pct(ts: list[float], p: float) -> float:
    ts = sorted(ts)
    return ts[min(len(ts) - 1, int(p * len(ts)))] * 1e3


def body(i: int) -> dict:
    return {"model": "m", "temperature": 0, "max_tokens": 256,
            "messages": [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": f"What is the boiling point of substance number {i}?"}]}


def bench_exact(n: int = 100_000) -> None:
    bodies = [body(i) for i in range(2000)]
    t = time.perf_counter()
    for b in bodies:
        exact_key("team:a", "chat", b)
    per_key = (time.perf_counter() - t) / len(bodies) * 1e6
    lru = LocalLRU(max_entries=n)
    for i in range(n):
        lru.put(exact_key("team:a", "chat", body(i)), {"i": i}, ttl_s=3600)
    ts = []
    for i in range(0, n, n // 2000):
        b = body(i)
        s = time.perf_counter()
        r = lru.get(exact_key("team:a", "chat", b))
        ts.append(time.perf_counter() - s)
        assert r.hit
    print(f"exact key: {per_key:.1f} µs/key; exact hit (key + LRU get, {n:,} entries): "
          f"p50 {pct(ts, .5):.3f} ms, p99 {pct(ts, .99):.3f} ms")


def bench_embedders(kinds: list[str]) -> None:
    from seawall.vector.embedder import load_embedder

    for kind in kinds:
        e = load_embedder(kind, cache_entries=0)
        e.embed(["warm up"])
        ts = []
        for i in range(100):
            s = time.perf_counter()
            e.embed([f"what is the weather in city number {i} today?"])
            ts.append(time.perf_counter() - s)
        print(f"embedder {kind}: 1 short prompt p50 {pct(ts, .5):.2f} ms, p90 {pct(ts, .9):.2f} ms")


def bench_semantic(n: int) -> None:
    from seawall.vector.embedder import load_embedder
    from seawall.cache.semantic import SemanticCache

    emb = load_embedder("onnx-int8")
    cache = SemanticCache(emb, threshold=0.86)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, emb.dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = "How do I reset my password on the billing portal?"
    fp = cache.view(body(0)).fingerprint
    # n-1 random entries plus the real one, all in the namespace the queries look up
    cache.add_vectors("team:a", "chat", fp, x[:-1], [f"q{i}" for i in range(n - 1)], [None] * (n - 1), 3600)
    b = body(0)
    b["messages"][-1]["content"] = q
    cache.store("team:a", "chat", b, {"answer": "reset"}, ttl_s=3600)
    variants = [f"How can I reset my password on the billing portal{'?' * (1 + i % 3)}{' ' * (i // 3)}"
                for i in range(200)]
    ts, hits = [], 0
    for v in variants:
        b["messages"][-1]["content"] = v
        s = time.perf_counter()
        h = cache.lookup("team:a", "chat", b)
        ts.append(time.perf_counter() - s)
        hits += h is not None
    print(f"semantic hit ({n:,} entries, embedding + search + verify, new text each time): "
          f"p50 {pct(ts, .5):.2f} ms, p99 {pct(ts, .99):.2f} ms, hits {hits}/{len(variants)}")


def bench_index(sizes: list[int]) -> None:
    from seawall.vector.index import NamespaceIndex

    rng = np.random.default_rng(1)
    for n in sizes:
        ix = NamespaceIndex(384)
        t = time.time()
        for s in range(0, n, 50_000):
            x = rng.standard_normal((min(50_000, n - s), 384)).astype(np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            if s == 0:
                probe = x[:200].copy()
            if ix.kind == "hnsw":
                ix._ix.add(range(s, s + len(x)), x, threads=2)  # bulk load on both cores
            else:
                ix.add(range(s, s + len(x)), x)
        build = time.time() - t
        noise = rng.standard_normal(probe.shape).astype(np.float32) * 0.01
        qs = probe + noise
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
        ts, found = [], 0
        for i, qv in enumerate(qs):
            s = time.perf_counter()
            r = ix.search(qv, 4)
            ts.append(time.perf_counter() - s)
            found += r[0][0] == i
        print(f"index {n:>9,} ({ix.kind}): search p50 {pct(ts, .5):.3f} ms, p99 {pct(ts, .99):.3f} ms, "
              f"near-duplicate recall@1 {found / len(qs):.2f}, build {build:.0f}s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--embedders", default="onnx-int8,onnx-fp32,static,torch")
    ap.add_argument("--skip-embedders", action="store_true")
    ap.add_argument("--semantic-entries", type=int, default=100_000)
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}")
    bench_exact()
    if not args.skip_embedders:
        bench_embedders(args.embedders.split(","))
        bench_semantic(args.semantic_entries)
    bench_index([int(s) for s in args.sizes.split(",") if s])
    return 0


if __name__ == "__main__":
    sys.exit(main())
