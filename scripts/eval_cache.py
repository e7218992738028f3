#!/usr/bin/env python
"""The semantic cache's default operating point, measured dataset by dataset, leave-one-out.

    make eval-cache            # = OMP_NUM_THREADS=1 nice -n 10 python scripts/eval_cache.py
    python scripts/eval_cache.py [--data DIR] [--pos 800] [--neg 1500] [--out FILE.md] [--embedder onnx-int8]

Pairs (cached prompt a, new prompt b, label) come from every pair set in
../shared/data/semantic_cache (read in place; scripts/cache_pairs.py builds them, test splits
only): SemEval STS, MRPC, Twitter URL, SICK (contradictions are the look-alikes), and the
banking77 / clinc150 intent sets (each question with its nearest same-intent question, a
duplicate, and its nearest other-intent question, a sibling that must not be served). A bounded
random sample per set (--pos duplicates, --neg look-alikes) keeps the run to a few minutes.

Every pair is decided by the real cache (seawall.cache.eval.run, the code of `seawall eval
cache`): `a` stored in a fresh namespace, `b` looked up. With one stored entry the cache
serves iff the cosine is at or above the threshold and the verifier accepts, so one run at
threshold 0 gives each pair's cosine and verdict, and the decision at any threshold t is
"verdict and cosine >= t". The shipped default is then run through the cache as is, to
check that decomposition and to report it.

Protocol, leave-one-dataset-out: for each set, the cosine threshold is chosen on the *other*
sets only: the lowest threshold keeping false hits <= SELECT (0.75 %, a margin under the 1 %
promised, since 1 % of 1,500 look-alikes is 15 pairs) on each of them; the held-out set is then
measured at that point. With the token-alignment gate (the default; vector/align.py) the pair
(cosine threshold t, alignment floor t - margin) is chosen so: for each margin of a fixed grid
the lowest safe t on the other sets, and the margin that serves the most of their duplicates on
average; the table also shows the cosine alone chosen the same way. The verifier runs as shipped; its issue-14 look-alike rules
(question word, added qualifier) are a gateway choice made from the issue's independent
examples, and the report shows what they cost held out (hit with them off, same threshold).
The baseline, plain all-MiniLM-L6-v2 cosine (fp32, the unmodified model), gets the same
procedure, and also its best point at 1 % false hits chosen on the held-out set itself (an
upper bound, generous to it). The shipped threshold is the same procedure over all sets, so
it is at least as strict as every fold's.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "scripts"))

import numpy as np  # noqa: E402
import orjson  # noqa: E402

import cache_pairs  # noqa: E402
import seawall.vector.verifier as _vmod  # noqa: E402
from seawall.cache import eval as cache_eval  # noqa: E402
from seawall.cache.semantic import SemanticCache  # noqa: E402
from seawall.vector.align import alignment  # noqa: E402
from seawall.vector.embedder import (CachedEmbedder, OnnxEmbedder, default_aligned, default_threshold,  # noqa: E402
                                     load_embedder)
from seawall.vector.verifier import Verifier, VerifierConfig  # noqa: E402

# The gateway memoises 4,096 prompts' slots; the evaluation re-verifies ~30k texts per rule set.
_vmod.extract = lru_cache(maxsize=None)(_vmod.extract.__wrapped__)

# ../shared/data beside the repository (or beside the directory of worktrees), or $SEAWALL_DATA
_DATA = [Path(os.environ["SEAWALL_DATA"])] if os.environ.get("SEAWALL_DATA") else [
    HERE.parent / "shared" / "data", HERE.parent.parent / "shared" / "data"]
DEFAULT_DATA = next((d for d in _DATA if d.exists()), _DATA[0]) / "semantic_cache"
KIND = "onnx-int8-l3"
TARGET = 0.01    # promised: false hits at or under this on every held-out set
SELECT = 0.0075  # the budget a threshold is chosen for on the other sets
GRID = np.round(np.arange(0.70, 1.0001, 0.0025), 4)
MARGINS = np.round(np.arange(-0.10, 0.3001, 0.01), 3)  # alignment floor = cosine threshold - margin
# The look-alike rules added for issue 14 (VerifierConfig switches), reported on and off.
RULES = ("question_word", "added_qualifier")
Pair = tuple[str, str, int]


def _test_pairs(root: Path, embed) -> dict[str, list[Pair]]:
    """Each set's test split (the intent sets' neighbours by plain MiniLM, as a cache meets them)."""
    import csv
    import json

    sts = root / "semeval_sts"
    out = {"sts": [x for y in ("2015", "2016") for f in sorted((sts / y).glob("*.tsv")) for x in cache_pairs._sts(f)],
           "mrpc": cache_pairs._mrpc(root / "mrpc" / "msr-para-test.tsv"),
           "twitter": cache_pairs._twitter_test(root / "twitter_url_corpus" / "Twitter_URL_Corpus_testNew.larger.txt"),
           "sick": cache_pairs._sick(root / "sick" / "SICK_test_annotated.txt")}
    with open(root / "banking77" / "test.csv", encoding="utf-8") as f:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
    out["banking77"] = cache_pairs._intent_pairs([t for t, _ in rows], [c for _, c in rows], embed)
    c = json.load(open(root / "clinc150" / "data_full.json", encoding="utf-8"))["test"]
    out["clinc150"] = cache_pairs._intent_pairs([t for t, _ in c], [i for _, i in c], embed)
    return out


def sample(pairs: list[Pair], n_pos: int, n_neg: int, seed: int = 14) -> list[Pair]:
    rng = random.Random(seed)
    pos = [p for p in pairs if p[2] == 1]
    neg = [p for p in pairs if p[2] == 0]
    return rng.sample(pos, min(n_pos, len(pos))) + rng.sample(neg, min(n_neg, len(neg)))


class Memo:
    """An embedder memoised on disk (--memo): the same vectors, computed once across runs."""

    def __init__(self, inner, path: Path | None) -> None:
        self.inner, self.path, self.dim, self.name = inner, path, inner.dim, inner.name
        self.d: dict[str, np.ndarray] = {}
        if path and path.exists():
            z = np.load(path, allow_pickle=True)
            self.d = dict(zip(z["texts"].tolist(), z["vecs"]))

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.d))
        for i in range(0, len(todo), 256):
            for t, v in zip(todo[i:i + 256], self.inner.embed(todo[i:i + 256])):
                self.d[t] = v
        if todo and self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, texts=np.array(list(self.d), dtype=object), vecs=np.stack(list(self.d.values())))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.d[t] for t in texts])

    def embed_tokens(self, texts: list[str]) -> tuple[np.ndarray, list]:
        """As embed, with each text's content-token vectors (kept in memory only)."""
        if not hasattr(self, "tok"):
            self.tok: dict = {}
        todo = list(dict.fromkeys(t for t in texts if t not in self.tok))
        for i in range(0, len(todo), 256):
            _, toks = self.inner.embed_tokens(todo[i:i + 256])
            self.tok.update(zip(todo[i:i + 256], toks))
        return self.embed(texts), [self.tok[t] for t in texts]


def decide(cache: SemanticCache, pairs: list[Pair], threshold: float | None,
           judge_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """(cosine, served, reasons) of each pair, decided by `seawall eval cache`'s code."""
    src = io.BytesIO(b"".join(orjson.dumps({"a": a, "b": b}) + b"\n" for a, b, _ in pairs))
    out = io.BytesIO()
    settings = SimpleNamespace(threshold=threshold, candidates=4, verify=True, judge_threshold=judge_threshold)
    cache_eval.run(src, out, io.StringIO(), kind=KIND, settings=settings, cache=cache)
    recs = [orjson.loads(x) for x in out.getvalue().splitlines()]
    score = np.array([r["score"] if r["score"] is not None else -1.0 for r in recs], np.float32)
    return score, np.array([r["served"] for r in recs]), [r["reason"] for r in recs]


def rates(served: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(hit rate on duplicates, false-hit rate on look-alikes)."""
    return float(served[y == 1].mean()), float(served[y == 0].mean())


def lowest_safe(curves: list[tuple[np.ndarray, np.ndarray, np.ndarray]], target: float = SELECT) -> float:
    """The lowest grid threshold with false hits <= target on every (cosine, verdict, label)."""
    for t in GRID:
        if all(rates(ok & (s >= t), y)[1] <= target for s, ok, y in curves):
            return float(t)
    return 1.0001


def best_at_budget(s: np.ndarray, y: np.ndarray, budget: float = TARGET) -> tuple[float, float]:
    """Most duplicates served at <= budget false hits, threshold chosen on these very pairs."""
    neg = np.sort(s[y == 0])[::-1]
    k = int(np.floor(budget * len(neg)))
    t = float(np.nextafter(neg[k], np.inf)) if k < len(neg) else -1.0
    return float((s[y == 1] >= t).mean()), t


@dataclass
class Fold:
    threshold: float
    hit: float
    false_hit: float
    hit_rules_off: float
    floor: float = 0.0  # the alignment floor (gate), 0 for the cosine alone


def choose_gated(others: list[str], cos, A, ok, Y) -> tuple[float, float]:
    """(cosine threshold, alignment floor) on the sets ``others``: for each margin the lowest safe
    threshold of min(cos, align + margin), and the margin serving the most duplicates on average."""
    best = None
    for m in MARGINS:
        sc = {n: np.minimum(cos[n], A[n] + m) for n in others}
        t = lowest_safe([(sc[n], ok[n], Y[n]) for n in others])
        served = float(np.mean([rates(ok[n] & (sc[n] >= t), Y[n])[0] for n in others]))
        if best is None or served > best[0] + 1e-9:
            best = (served, t, round(t - float(m), 4))
    return best[1], best[2]


def main() -> None:
    global KIND
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--pos", type=int, default=800, help="duplicates sampled per set")
    ap.add_argument("--neg", type=int, default=1500, help="look-alikes sampled per set")
    ap.add_argument("--out", help="also write the Markdown report here")
    ap.add_argument("--memo", help="directory to memoise embeddings in across runs (speed only)")
    ap.add_argument("--embedder", default=KIND, help="cache.embedder kind to measure (default: the shipped one)")
    args = ap.parse_args()
    KIND = args.embedder
    root = Path(args.data)
    if not root.exists():
        sys.exit(f"eval_cache: no pair data at {root} (../shared/data/semantic_cache); nothing measured")
    t0 = time.time()
    memo = Path(args.memo) if args.memo else None
    plain = Memo(OnnxEmbedder(quantized=False, threads=1), memo and memo / "minilm-fp32.npz")
    student = Memo(load_embedder(KIND, cache_entries=0), memo and memo / f"{KIND}.npz")
    sets = {k: sample(v, args.pos, args.neg) for k, v in _test_pairs(root, plain.embed).items()}
    for k, v in sets.items():
        print(f"{k}: {sum(y for *_, y in v)} duplicates, {sum(1 - y for *_, y in v)} look-alikes", file=sys.stderr)
    Y = {k: np.array([y for *_, y in v]) for k, v in sets.items()}

    def run_rules(cfg: VerifierConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each pair's cosine and verdict, from the cache at threshold 0 (judge off: the default)."""
        cache = SemanticCache(CachedEmbedder(student, max_entries=1 << 20), Verifier(cfg))
        return {k: decide(cache, v, 0.0)[:2] for k, v in sets.items()}

    on = run_rules(VerifierConfig())
    off = run_rules(replace(VerifierConfig(), **dict.fromkeys(RULES, False)))
    print(f"decided in {time.time() - t0:.0f} s", file=sys.stderr)
    tok_emb = CachedEmbedder(student, max_entries=1 << 20)
    A = {}
    for k, v in sets.items():
        ta, tb = tok_emb.tokens([a for a, _, _ in v]), tok_emb.tokens([b for _, b, _ in v])
        A[k] = np.array([alignment(x, y) if x is not None and y is not None else 1.0 for x, y in zip(ta, tb)],
                        np.float32)
    gated = tok_emb.has_tokens and default_aligned(KIND) is not None  # a gate the cache applies
    P = {k: np.einsum("ij,ij->i", plain.embed([a for a, _, _ in v]), plain.embed([b for _, b, _ in v]))
         for k, v in sets.items()}
    ones = {k: np.ones(len(v), bool) for k, v in sets.items()}
    names = list(sets)
    folds, base, cos_only = {}, {}, {}
    cos = {n: on[n][0] for n in names}
    ok = {n: on[n][1] for n in names}
    for d in names:
        others = [n for n in names if n != d]
        t = lowest_safe([(on[n][0], on[n][1], Y[n]) for n in others])
        hit, fh = rates(on[d][1] & (on[d][0] >= t), Y[d])
        cos_only[d] = Fold(t, hit, fh, rates(off[d][1] & (off[d][0] >= t), Y[d])[0])
        if gated:
            t, fl = choose_gated(others, cos, A, ok, Y)
            serve = lambda r, n: r[n][1] & (r[n][0] >= t) & (A[n] >= fl)  # noqa: E731
            hit, fh = rates(serve(on, d), Y[d])
            folds[d] = Fold(t, hit, fh, rates(serve(off, d), Y[d])[0], fl)
        else:
            folds[d] = cos_only[d]
        tb = lowest_safe([(P[n], ones[n], Y[n]) for n in others])
        bh, bf = rates(P[d] >= tb, Y[d])
        oracle, _ = best_at_budget(P[d], Y[d])
        base[d] = (tb, bh, bf, oracle)
    ship_t = lowest_safe([(on[n][0], on[n][1], Y[n]) for n in names])
    ship_gate = choose_gated(names, cos, A, ok, Y) if gated else None
    # The shipped default, decided by the cache exactly as configured (no decomposition).
    default_cache = cache_eval.build_cache(KIND)
    default_cache.embedder = CachedEmbedder(student, max_entries=1 << 20)
    shipped = {d: decide(default_cache, v, None) for d, v in sets.items()}
    # the decomposition the folds rely on: served at t == verdict at 0 and cosine >= t
    t_def, fl_def = default_aligned(KIND) or (default_threshold(KIND), 0.0)
    odd = sum(int(((on[d][1] & (on[d][0] >= t_def) & (A[d] >= fl_def)) != shipped[d][1]).sum()) for d in sets)
    report = render(sets, Y, folds, base, ship_t, shipped, args, time.time() - t0, cos_only, ship_gate)
    report += f"\nDecomposition check at the shipped threshold: {odd} pair(s) decided differently.\n"
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)


def render(sets, Y, folds, base, ship_t, shipped, args, took: float, cos_only=None, ship_gate=None) -> str:
    lines = [
        f"Semantic cache, leave-one-dataset-out ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, {took:.0f} s; "
        f"`make eval-cache`, up to {args.pos} duplicates + {args.neg} look-alikes per test split).",
        "",
        f"Embedder `{KIND}` + rule verifier as shipped (+ the token-alignment gate where calibrated). Held "
        f"out: each row's threshold (and alignment floor) was chosen on the other five sets only (lowest "
        f"with <= {SELECT:.2%} false hits on each); promised: <= {TARGET:.0%} on the held-out set.",
        "",
        "| held-out set | dup / look-alike | threshold / alignment floor (chosen on others) | hit | false hits "
        "| hit, issue-14 rules off | cosine alone + rules, chosen on others: threshold, hit, false hits "
        "| plain MiniLM-L6 cosine, chosen on others: threshold, hit, false hits | plain MiniLM-L6 best hit @ 1 % (chosen on this set) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d, f in folds.items():
        tb, bh, bf, oracle = base[d]
        ok = "" if f.false_hit <= TARGET else " **over**"
        c = (cos_only or folds)[d]
        lines.append(f"| {d} | {int(Y[d].sum())} / {int((Y[d] == 0).sum())} | {f.threshold:.4f} / {f.floor:.4f} "
                     f"| {f.hit:.1%} | {f.false_hit:.2%}{ok} | {f.hit_rules_off:.1%} "
                     f"| {c.threshold:.4f}, {c.hit:.1%}, {c.false_hit:.2%} "
                     f"| {tb:.4f}, {bh:.1%}, {bf:.2%} | {oracle:.1%} |")
    gate = f"; with the alignment gate: threshold {ship_gate[0]:.4f}, floor {ship_gate[1]:.4f}" if ship_gate else ""
    shipped_gate = default_aligned(KIND)
    lines += ["", f"Chosen on all six sets by the same procedure: cosine alone, threshold {ship_t:.4f}{gate}. "
              f"Shipped: `embedder.THRESHOLDS` {default_threshold(KIND):.4f}"
              + (f", `embedder.ALIGNED` {shipped_gate[0]:.4f} / {shipped_gate[1]:.4f}" if shipped_gate else "")
              + "; decided by the cache as shipped "
              "(`seawall eval cache` defaults; not a held-out figure: the shipped point was chosen with every set):", "",
              "| set | hit | false hits | false-hit examples (cached → new) |", "|---|---|---|---|"]
    for d, (s, served, _) in shipped.items():
        hit, fh = rates(served, Y[d])
        ex = [f"{a[:60]!r} → {b[:60]!r}" for (a, b, y), sv in zip(sets[d], served) if sv and not y][:2]
        lines.append(f"| {d} | {hit:.1%} | {fh:.2%} | {'; '.join(ex) or '-'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
