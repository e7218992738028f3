#!/usr/bin/env python
"""What the token-alignment gate adds to a semantic hit, interleaved with it off.

    OMP_NUM_THREADS=1 python scripts/bench_cache_align.py [--n 400]

Each round stores a question and looks up a paraphrase never seen before (so it is embedded,
as a real hit's prompt is), once with the gate on and once off at the same cosine threshold (so
the rules run on the same candidates), in alternating order; also
timed apart: the embedding with and without the token vectors, and the gate's own check.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from seawall.cache.semantic import SemanticCache  # noqa: E402
from seawall.vector.align import alignment  # noqa: E402
from seawall.vector.embedder import default_aligned, default_threshold, load_embedder  # noqa: E402

KIND = "onnx-int8-l3"
STEMS = ["How do I reset my password", "What is the refund policy for damaged goods",
         "How can I transfer money to another account", "Where can I find my invoice for last month",
         "How do I change the shipping address of my order", "Can I get a card delivered abroad"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    emb = load_embedder(KIND)
    cache = SemanticCache(emb, threshold=default_threshold(KIND), aligned=default_aligned(KIND))
    on, off, e_tok, e_plain, gate = [], [], [], [], []
    for i in range(args.n):
        stem = STEMS[i % len(STEMS)]
        cached = {"messages": [{"role": "user", "content": f"{stem}, case {i}?"}]}
        cache.store("t", f"a{i}", cached, "x", ttl_s=60)
        for k, gate_on in enumerate((True, False) if i % 2 else (False, True)):
            # the two wordings alternate between gate on and off across rounds
            new = {"messages": [{"role": "user", "content": f"{stem} case {i} {('please', 'thanks')[(i // 2 + k) % 2]}"}]}
            t = time.perf_counter()
            d = cache.decide("t", f"a{i}", new, align=gate_on, threshold=0.9375)  # only the gate differs
            (on if gate_on else off).append((time.perf_counter() - t) * 1e3)
            assert d.score is not None
        text = f"{stem}, item {i} of the list?"
        t = time.perf_counter()
        emb.inner.embed_tokens([text])
        e_tok.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        emb.inner.embed([text + " "])
        e_plain.append((time.perf_counter() - t) * 1e3)
        a, b = emb.tokens([text])[0], emb.tokens([f"{stem} case {i} please"])[0]
        t = time.perf_counter()
        emb.tokens([text]), alignment(a, b)
        gate.append((time.perf_counter() - t) * 1e3)
    for name, xs in (("lookup, gate on", on), ("lookup, gate off", off), ("embed + token vectors", e_tok),
                     ("embed alone", e_plain), ("gate check (tokens from cache + alignment)", gate)):
        print(f"{name}: p50 {np.percentile(xs, 50):.3f} ms, p99 {np.percentile(xs, 99):.3f} ms")


if __name__ == "__main__":
    main()
