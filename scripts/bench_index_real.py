#!/usr/bin/env python
"""Index lookup on real-text embeddings with real paraphrase queries (100k-1M entries).

Step 1, build a corpus once (vectors go to --dir, outside the repository):

    python scripts/bench_index_real.py corpus --embedder onnx-int8 --n 1000000 --budget 900
    python scripts/bench_index_real.py corpus --embedder static --n 1000000

Texts come from ../shared/data (read, never copied): every sentence of STS, MRPC, the
Cranfield and CISI abstracts, the jailbreak / Tensor Trust prompts and the Presidio PII
sentences, plus prompt-like variants of them (word windows of 6-30 words of the longer texts,
a sentence behind an instruction prefix such as "Summarize:" / "Can you explain", two
sentences joined, word drop-out), shuffled. Queries: 1,000 real paraphrase pairs (MRPC
label 1 and STS score >= 4); side A is stored in the corpus (at a random position), side B is
the query, and neither side nor its variants is otherwise in the corpus. The texts are
embedded in batches of 64 (sorted by length per chunk); with --budget the corpus is cut at
what was embedded by then.

Step 2, measure a method on the first --n vectors:

    python scripts/bench_index_real.py run --embedder onnx-int8 --n 100000 --method hnswlib --m 16 --ef-construction 100
    python scripts/bench_index_real.py run --embedder static --n 1000000 --method ivf --nprobe 8,16,32
    python scripts/bench_index_real.py run --embedder static --n 1000000 --method seawall

``seawall`` is ``NamespaceIndex`` itself, fed in batches of 1,000 adds (so it grows through
its tiers as in service; the p99/max of one add is reported), then 5,000 single adds and
removes; ``--ivf-above 4096`` measures its IVF tier alone (flat, then IVF). recall@1 = the method's top-1
equals the exact float32 brute-force top-1 over the first n vectors; "partner" = how often the
exact top-1 is the stored paraphrase (a property of the data, not of the method). Search:
one query at a time, one thread, k=4, wall clock.
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one-thread numpy: measured as a request would run it

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_index_1m import pct, rss_mb  # noqa: E402  (the same measuring helpers)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PREFIXES = ["Summarize: ", "Can you explain ", "Explain this: ", "What does this mean: ", "Translate to French: ",
            "Please rewrite: ", "Tell me about ", "Is it true that ", "Give an example: ", "Answer briefly: ",
            "Write a short note on ", "Why ", "How do I know whether ", "Fact check: ", ""]


def read_texts() -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(sentences, long texts, paraphrase pairs)."""
    sents, longs, pairs = [], [], []
    for f in sorted(glob.glob(str(DATA / "semantic_cache/semeval_sts/*/*.tsv"))):
        for line in open(f, encoding="utf-8", errors="replace"):
            p = line.rstrip("\n").split("\t")
            if len(p) >= 3 and p[1].strip() and p[2].strip():
                sents += [p[1].strip(), p[2].strip()]
                try:
                    if float(p[0]) >= 4.0:
                        pairs.append((p[1].strip(), p[2].strip()))
                except ValueError:
                    pass
    for f in sorted(glob.glob(str(DATA / "semantic_cache/mrpc/*.tsv"))):
        for i, line in enumerate(open(f, encoding="utf-8-sig", errors="replace")):
            p = line.rstrip("\n").split("\t")
            if i == 0 or len(p) < 5:
                continue
            sents += [p[3], p[4]]
            if p[0] == "1":
                pairs.append((p[3], p[4]))
    for f in ("rag/cisi/CISI.ALL", "rag/cranfield/cran.all.1400"):
        body = open(DATA / f, encoding="utf-8", errors="replace").read()
        for doc in re.split(r"\n\.I ", body):
            w = doc.split("\n.W\n", 1)
            if len(w) == 2:
                txt = " ".join(w[1].split("\n.X")[0].split())
                longs.append(txt)
                sents += [s.strip() for s in re.split(r"(?<=[.?!])\s+", txt) if len(s.split()) >= 4]
    with open(DATA / "prompt_injection/jackhhao_llm-warden/jailbreak_dataset_full.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            longs.append(" ".join(row["prompt"].split()))
    for f in glob.glob(str(DATA / "prompt_injection/tensor_trust/*.jsonl")):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            for k in ("pre_prompt", "attack", "post_prompt", "access_code"):
                if isinstance(r.get(k), str) and r[k].strip():
                    longs.append(" ".join(r[k].split()))
    for r in json.load(open(DATA / "pii/presidio-research/synth_dataset_v2.json", encoding="utf-8")):
        sents.append(" ".join(r["full_text"].split()))
    return sents, longs, pairs


def make_corpus(n: int, rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """n texts (planted side-A at random positions), 1,000 query texts, the planted positions."""
    sents, longs, pairs = read_texts()
    pairs = list(dict.fromkeys(pairs))
    pick = rng.choice(len(pairs), 1000, replace=False)
    qa = [pairs[i][0] for i in pick]
    qb = [pairs[i][1] for i in pick]
    held = set(qa) | set(qb) | {a for a, b in pairs} | {b for a, b in pairs}  # every paraphrase side out of the bulk
    sents = [s for s in dict.fromkeys(sents) if s not in held]
    longs = [t for t in dict.fromkeys(longs) if t not in held]
    words = [t.split() for t in longs + sents if len(t.split()) >= 12]
    out: set[str] = set(sents) | set(longs)
    out -= held
    while len(out) < n + 1000:
        r = rng.random()
        if r < 0.45:  # a window of a longer text
            w = words[rng.integers(len(words))]
            ln = int(rng.integers(6, 31))
            s = int(rng.integers(0, max(1, len(w) - ln)))
            t = " ".join(w[s:s + ln])
        elif r < 0.75:  # a sentence behind a prompt prefix
            t = PREFIXES[rng.integers(len(PREFIXES))] + sents[rng.integers(len(sents))]
        elif r < 0.9:  # two sentences joined
            t = sents[rng.integers(len(sents))] + " " + sents[rng.integers(len(sents))]
        else:  # word drop-out
            w = sents[rng.integers(len(sents))].split()
            keep = rng.random(len(w)) > 0.2
            t = " ".join(x for x, k in zip(w, keep) if k)
        if t and t not in held:
            out.add(t)
    texts = sorted(out)
    rng.shuffle(texts)
    texts = texts[:n]
    planted = rng.choice(min(n, 100_000), 1000, replace=False)  # inside the 100k prefix: valid at every n
    for p, a in zip(planted, qa):
        texts[p] = a
    return texts, qb, planted


def cmd_corpus(a) -> int:
    from seawall.vector.embedder import load_embedder

    d = Path(a.dir) / a.embedder
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    t0 = time.time()
    texts, queries, planted = make_corpus(a.n, rng)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} corpus {len(texts):,} texts in {time.time() - t0:.0f}s, "
          f"median {np.median([len(t.split()) for t in texts[:10000]]):.0f} words", flush=True)
    emb = load_embedder(a.embedder, cache_entries=0, threads=1)
    chunk = 6400
    start = int((d / "n.txt").read_text()) if a.resume and (d / "n.txt").exists() else 0
    if start:  # the same seed gives the same texts: carry on where the last budget stopped
        x = np.load(d / "x.npy", mmap_mode="r+")
    else:
        np.save(d / "queries.npy", emb.embed(queries).astype(np.float32))
        np.save(d / "planted.npy", planted)
        x = np.lib.format.open_memmap(d / "x.npy", mode="w+", dtype=np.float32, shape=(len(texts), emb.dim))
    t0 = time.time()
    done = start
    for s in range(start, len(texts), chunk):
        part = texts[s:s + chunk]
        order = np.argsort([len(t) for t in part])
        out = np.empty((len(part), emb.dim), np.float32)
        for b in range(0, len(part), 64):
            idx = order[b:b + 64]
            out[idx] = emb.embed([part[i] for i in idx])
        x[s:s + len(part)] = out
        done = s + len(part)
        (d / "n.txt").write_text(str(done))
        if s // chunk % 5 == 0:
            print(f"{done:,} embedded, {(done - start) / (time.time() - t0):,.0f}/s", flush=True)
        if time.time() - t0 > a.budget:
            break
    x.flush()
    (d / "n.txt").write_text(str(done))
    print(f"RESULT corpus {a.embedder}: {done:,} vectors, {done - start:,} in {time.time() - t0:.0f}s "
          f"({(done - start) / (time.time() - t0):,.0f}/s, batches of 64, 1 thread)", flush=True)
    return 0


def ivf_train(x: np.ndarray, nlist: int, rng, rounds: int = 4, sample: int = 64) -> np.ndarray:
    samp = x[rng.choice(len(x), min(len(x), sample * nlist), replace=False)]
    cen = samp[rng.choice(len(samp), nlist, replace=False)].copy()
    for _ in range(rounds):
        lab = np.concatenate([(samp[s:s + 20000] @ cen.T).argmax(1) for s in range(0, len(samp), 20000)])
        sums = np.zeros_like(cen)
        np.add.at(sums, lab, samp)
        cnt = np.bincount(lab, minlength=nlist)
        empty = cnt == 0
        sums[empty] = samp[rng.choice(len(samp), int(empty.sum()))]
        cen = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return cen


def cmd_run(a) -> int:
    d = Path(a.dir) / a.embedder
    nmax = int((d / "n.txt").read_text())
    n = min(a.n, nmax)
    x = np.load(d / "x.npy", mmap_mode="r")[:n]
    x = np.ascontiguousarray(x)
    qs = np.load(d / "queries.npy")
    planted = np.load(d / "planted.npy")
    keep = planted < n  # a corpus cut by its budget: keep the queries whose paraphrase was stored
    qs, planted = qs[keep], planted[keep]
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; "
          f"n={n:,}; {vars(a)}", flush=True)
    exact = np.empty(len(qs), np.int64)
    best = np.full(len(qs), -9.0, np.float32)
    for s in range(0, n, 100_000):
        sc = qs @ x[s:s + 100_000].T
        j = sc.argmax(1)
        v = sc[np.arange(len(qs)), j]
        better = v > best
        best[better], exact[better] = v[better], j[better] + s
    print(f"exact top-1 = the stored paraphrase (partner): {(exact == planted).mean():.3f}; "
          f"cosine query-partner median {np.median((qs * x[planted]).sum(1)):.3f}; "
          f"exact top-1 cosine median {np.median(best):.3f}", flush=True)
    rng = np.random.default_rng(3)
    r0 = rss_mb()
    t0 = time.time()
    add_ts: list[float] = []
    if a.method == "hnswlib":
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=x.shape[1])
        ix.init_index(max_elements=n, M=a.m, ef_construction=a.ef_construction)
        ix.set_num_threads(a.threads)
        built = 0
        for s in range(0, n, 50_000):
            ix.add_items(x[s:s + 50_000], np.arange(s, min(n, s + 50_000)))
            built = min(n, s + 50_000)
            if time.time() - t0 > a.budget:
                break
        ix.set_num_threads(1)
        params = a.ef_search

        def setp(v):
            ix.set_ef(v)

        def search(q):
            return int(ix.knn_query(q.reshape(1, -1), k=4)[0][0][0])
    elif a.method == "ivf":  # batch-trained reference: k-means on a sample, lists as one sorted f32 block
        nlist = a.nlist or max(16, n // 256)
        cen = ivf_train(x, nlist, rng)
        assign = np.concatenate([(x[s:s + 50_000] @ cen.T).argmax(1) for s in range(0, n, 50_000)])
        order = np.argsort(assign, kind="stable")
        xs = x[order]
        bounds = np.searchsorted(assign[order], np.arange(nlist + 1))
        built, params, npr = n, a.nprobe, [8]

        def setp(v):
            npr[0] = v

        def search(q):
            cs = np.argpartition(cen @ q, -npr[0])[-npr[0]:]
            bi, bv = -1, -9.0
            for c in cs:
                lo, hi = bounds[c], bounds[c + 1]
                if hi > lo:
                    sc = xs[lo:hi] @ q
                    j = int(sc.argmax())
                    if sc[j] > bv:
                        bv, bi = float(sc[j]), int(order[lo + j])
            return bi
    else:  # seawall: NamespaceIndex as the cache uses it
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from seawall.vector.index import NamespaceIndex
        kw = {"list_size": a.list_size} if a.list_size else {}
        if a.ivf_above:
            kw["ivf_above"] = a.ivf_above
        ix = NamespaceIndex(x.shape[1], **kw)
        built = 0
        for s in range(0, n, a.batch):
            t = time.perf_counter()
            ix.add(range(s, min(n, s + a.batch)), x[s:s + a.batch])
            add_ts.append(time.perf_counter() - t)
            built = min(n, s + a.batch)
            if time.time() - t0 > a.budget:
                break
        params = a.nprobe if ix.kind == "ivf" else "0"
        print(f"kind {ix.kind}: {ix.stats()}", flush=True)

        def setp(v):
            if ix.kind == "ivf":
                ix.nprobe = v

        def search(q):
            return ix.search(q, 4)[0][0]
    build = time.time() - t0
    r1 = rss_mb()

    def scanned(p) -> str:  # vectors compared per query (machine-independent cost), IVF only
        if a.method == "ivf":
            sizes, cens = np.diff(bounds), cen
        elif a.method == "seawall" and ix.kind == "ivf":
            iv = ix._ix
            sizes, cens = np.asarray(iv._cnt[: iv.nlist]), iv._cen[: iv.nlist]
        else:
            return ""
        top = np.argpartition(qs @ cens.T, -p, axis=1)[:, -p:]
        return f", vectors scanned/query {sizes[top].sum(1).mean() + len(cens):,.0f}"
    if built < n:
        print(f"BUILD STOPPED at {built:,}/{n:,} after {build:.0f}s; recall below is against the exact top-1 "
              f"over those {built:,}", flush=True)
        exact = (qs @ x[:built].T).argmax(1)
    addinfo = (f"; one add() of {a.batch}: p50 {pct(add_ts, .5):.1f} ms, p99 {pct(add_ts, .99):.1f} ms, "
               f"max {max(add_ts) * 1e3:.0f} ms" if add_ts else "")
    for p in [int(v) for v in params.split(",")]:
        setp(p)
        for q in qs[:20]:
            search(q)
        ts, ok = [], 0
        for q, e in zip(qs, exact):
            s = time.perf_counter()
            got = search(q)
            ts.append(time.perf_counter() - s)
            ok += got == e
        print(f"RESULT {a.embedder} {a.method} param={p} n={built:,}: build {build:.0f}s{addinfo}; "
              f"RSS +{r1 - r0:.0f} MB (f32 vectors alone {built * x.shape[1] * 4 / 2**20:.0f} MB); "
              f"search p50 {pct(ts, .5):.3f} ms p99 {pct(ts, .99):.3f} ms; recall@1 {ok / len(qs):.3f}{scanned(p)}; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    if a.method == "seawall":  # the cache's own write path: one add() per new entry, then removes
        new = x[rng.choice(n, 5000)] + rng.standard_normal((5000, x.shape[1])).astype(np.float32) * 0.02
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        ts, rs = [], []
        for j, v in enumerate(new):
            s = time.perf_counter()
            ix.add([n + j], v[None, :])
            ts.append(time.perf_counter() - s)
        for j in range(5000):
            s = time.perf_counter()
            ix.remove(int(rng.integers(n)))
            rs.append(time.perf_counter() - s)
        print(f"RESULT single add() x5000 at n={n:,}: p50 {pct(ts, .5):.3f} ms, p99 {pct(ts, .99):.3f} ms, "
              f"max {max(ts) * 1e3:.1f} ms; single remove() p50 {pct(rs, .5):.3f} ms, p99 {pct(rs, .99):.3f} ms, "
              f"max {max(rs) * 1e3:.1f} ms; {ix.stats()}", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["corpus", "run"])
    ap.add_argument("--embedder", default="onnx-int8", choices=["onnx-int8", "static"])
    ap.add_argument("--dir", default=os.path.expanduser("~/.cache/seawall/bench_index"))
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--budget", type=float, default=900.0, help="stop embedding/building after this many seconds")
    ap.add_argument("--method", default="seawall", choices=["hnswlib", "ivf", "seawall"])
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=100)
    ap.add_argument("--ef-search", default="64,128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nlist", type=int, default=0, help="ivf: lists (default n/256)")
    ap.add_argument("--nprobe", default="8,16,32")
    ap.add_argument("--ivf-above", type=int, default=0, help="seawall: NamespaceIndex ivf_above (default: index.py's)")
    ap.add_argument("--resume", action="store_true", help="corpus: continue an interrupted/budgeted corpus")
    ap.add_argument("--list-size", type=int, default=0, help="seawall: IVF list size (default: index.py's)")
    ap.add_argument("--batch", type=int, default=1000, help="seawall: vectors per add()")
    a = ap.parse_args()
    return cmd_corpus(a) if a.cmd == "corpus" else cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
