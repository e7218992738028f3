#!/usr/bin/env python
"""Train and evaluate the semantic cache's pair judge (seawall/vector/judge.py).

    OMP_NUM_THREADS=1 python scripts/train_cache_judge.py [--data ../shared/data/semantic_cache]
        [--spaces l3,l6] [--lodo] [--write]

Pairs: scripts/cache_pairs.py (STS, MRPC, Twitter URL, SICK, banking77 and clinc150 intent
pairs). The shipped judge trains on every dataset's train split; its threshold is the lowest
that keeps false hits <= TARGET on every dataset's train+dev splits (never a test split). Reported:
each test split at that threshold, against plain 6-layer MiniLM cosine at the same 1 % budget
(its best threshold chosen on the test split itself: generous to the baseline). --lodo adds
the generalisation figures: for each dataset, a judge trained and calibrated without it at
all, measured on its test split. --write saves src/seawall/vector/models/judge-<space>.npz.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "scripts"))

import numpy as np  # noqa: E402

import cache_pairs  # noqa: E402
from seawall.vector.judge import features  # noqa: E402
from seawall.vector.verifier import Verifier  # noqa: E402

TARGET = 0.006   # train+dev false-hit budget per dataset (a margin under the promised 1 %)
FLOOR = {"l3": 0.70, "l6": 0.65}
CACHE = Path(os.environ.get("JUDGE_CACHE", "/tmp/cachejudge"))


def embedder(tag: str):
    from seawall.vector.embedder import OnnxEmbedder
    return OnnxEmbedder(quantized=True, threads=1, layers=3 if tag == "l3" else 6)


class Emb:
    """Embeddings memoised on disk per space (the evaluation re-reads ~100k texts)."""

    def __init__(self, tag: str) -> None:
        self.tag, self.path = tag, CACHE / f"emb-{tag}.npz"
        self.d: dict[str, np.ndarray] = {}
        if self.path.exists():
            z = np.load(self.path, allow_pickle=True)
            self.d = dict(zip(z["texts"].tolist(), z["vecs"]))
        self.m = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.d))
        if todo:
            self.m = self.m or embedder(self.tag)
            t0 = time.time()
            for i in range(0, len(todo), 64):
                for t, v in zip(todo[i:i + 64], self.m.embed(todo[i:i + 64])):
                    self.d[t] = v
            print(f"  embedded {len(todo)} texts ({self.tag}) in {time.time() - t0:.0f} s", file=sys.stderr)
            self.save()
        return np.stack([self.d[t] for t in texts])

    def save(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, texts=np.array(list(self.d), dtype=object), vecs=np.stack(list(self.d.values())))


def featurize(pairs, emb: Emb, ver: Verifier):
    if not pairs:
        return np.zeros((0, 1)), np.zeros(0), np.zeros(0)
    U, V = emb([a for a, _, _ in pairs]), emb([b for _, b, _ in pairs])
    cos = np.einsum("ij,ij->i", U, V)
    X = np.stack([features(c, a, b, ver) for c, (a, b, _) in zip(cos, pairs)])
    return X, np.array([y for *_, y in pairs]), cos


def fit(X, y, groups, seed=0):
    """One hidden layer of 16; every dataset weighs the same, whatever its size."""
    from sklearn.neural_network import MLPClassifier
    mean, scale = X.mean(0), X.std(0) + 1e-6
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inv]
    clf = MLPClassifier(hidden_layer_sizes=(16,), alpha=1e-3, max_iter=80, early_stopping=True,
                        random_state=seed, batch_size=256)
    clf.fit((X - mean) / scale, y, sample_weight=w * len(w) / w.sum())
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "w1": clf.coefs_[0].astype(np.float32), "b1": clf.intercepts_[0].astype(np.float32),
            "w2": clf.coefs_[1].astype(np.float32), "b2": clf.intercepts_[1].astype(np.float32)}


def prob(w, X):
    h = np.maximum(((X - w["mean"]) / w["scale"]) @ w["w1"] + w["b1"], 0.0)
    return 1.0 / (1.0 + np.exp(-(h @ w["w2"] + w["b2"]).ravel()))


def scores(w, X, cos, floor):
    return np.where(cos >= floor, prob(w, X), 0.0)


def rate(s, y, t):
    served = s >= t
    neg, pos = (y == 0).sum() or 1, (y == 1).sum() or 1
    return float((served & (y == 0)).sum() / neg), float((served & (y == 1)).sum() / pos)


def calibrate(sets, target=TARGET):
    """Lowest threshold with false hits <= target on every given (scores, labels)."""
    grid = np.unique(np.concatenate([s[s > 0] for s, _ in sets] + [np.array([0.5])]))
    for t in np.sort(grid):
        if all(rate(s, y, t)[0] <= target for s, y in sets):
            return float(t)
    return 1.01


def tpr_at(s, y, budget=0.01):
    """Best duplicates served with false hits <= budget, threshold chosen on these pairs."""
    neg = np.sort(s[y == 0])[::-1]
    k = int(np.floor(budget * len(neg)))
    t = np.nextafter(neg[k], np.inf) if k < len(neg) else -np.inf
    return float((s[y == 1] >= t).mean()), float(t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path("/work/shared/data/semantic_cache")))
    ap.add_argument("--spaces", default="l3,l6")
    ap.add_argument("--lodo", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    root = Path(args.data)
    if not root.exists():
        sys.exit(f"no data at {root}")
    l6 = Emb("l6")
    data = cache_pairs.load(root, l6)
    ver = Verifier()
    report: dict = {"date": time.strftime("%Y-%m-%d"), "sets": {}}
    for ds, sp in data.items():
        print(ds, {k: (len(v), sum(y for *_, y in v)) for k, v in sp.items()}, file=sys.stderr)
    base = {}
    for ds in data:
        _, y, c6 = featurize(data[ds]["test"], l6, ver)
        base[ds] = tpr_at(c6, y)
    for tag in args.spaces.split(","):
        emb = l6 if tag == "l6" else Emb(tag)
        F = {ds: {k: featurize(v, emb, ver) for k, v in sp.items()} for ds, sp in data.items()}
        floor = FLOOR[tag]

        def train_on(names, seed=0, F=F, floor=floor):  # bound now: called within this loop turn
            X = np.concatenate([F[d]["train"][0] for d in names])
            y = np.concatenate([F[d]["train"][1] for d in names])
            g = np.concatenate([np.full(len(F[d]["train"][1]), i) for i, d in enumerate(names)])
            w = fit(X, y, g, seed)
            # train + dev: the dev splits alone are too small (SICK's has 74 contradictions) to
            # see a 1 % rate; the network is small enough that its training scores are honest.
            t = calibrate([(scores(w, np.concatenate([F[d][k][0] for k in ("train", "dev")]),
                                   np.concatenate([F[d][k][2] for k in ("train", "dev")]), floor),
                            np.concatenate([F[d][k][1] for k in ("train", "dev")])) for d in names])
            return w, t

        w, t = train_on(list(data))
        # The baseline by the same procedure: one plain cosine threshold (6-layer MiniLM) that
        # keeps false hits <= TARGET on every train+dev split.
        G6 = {ds: {k: featurize(v, l6, ver) for k, v in sp.items()} for ds, sp in data.items()} if tag != "l6" else F
        tc = calibrate([(np.concatenate([G6[d][k][2] for k in ("train", "dev")]),
                         np.concatenate([G6[d][k][1] for k in ("train", "dev")])) for d in data])
        report["cosine_l6_threshold"] = tc
        rows = {}
        for ds in data:
            X, y, c = F[ds]["test"]
            s = scores(w, X, c, floor)
            fp, tp = rate(s, y, t)
            cos_tp = tpr_at(c, y)[0]
            rows[ds] = {"n_pos": int(y.sum()), "n_neg": int((y == 0).sum()), "false_hits": fp, "served": tp,
                        "judge_tpr_at_1pct": tpr_at(s, y)[0], f"cosine_{tag}_tpr_at_1pct": cos_tp,
                        "minilm_l6_cosine_tpr_at_1pct": base[ds][0],
                        "minilm_l6_cosine_at_safe_point": rate(G6[ds]["test"][2], G6[ds]["test"][1], tc),
                        "false_hit_examples": [data[ds]["test"][i][:2] for i in np.where((s >= t) & (y == 0))[0][:3]]}
        if args.lodo:
            for ds in data:
                wo, to = train_on([d for d in data if d != ds])
                X, y, c = F[ds]["test"]
                fp, tp = rate(scores(wo, X, c, floor), y, to)
                rows[ds].update({"heldout_false_hits": fp, "heldout_served": tp, "heldout_threshold": to})
        report["sets"][tag] = {"threshold": t, "floor": floor, "rows": rows}
        print(json.dumps(report["sets"][tag], indent=1))
        if args.write:
            out = HERE / "src/seawall/vector/models" / f"judge-{tag}.npz"
            np.savez(out, threshold=np.float32(t), floor=np.float32(floor), space=np.array(tag), **w)
            print("wrote", out, file=sys.stderr)
    (CACHE / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
