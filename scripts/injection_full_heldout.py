#!/usr/bin/env python3
"""One-off check: does the *full* head (MiniLM sentence embeddings, the transformer) generalise
across datasets better than the fast head? Leave-one-group-out exactly as train_injection.py
does for the fast head; prints, per set, the held-out score distribution and the share at or
above the lowest threshold that keeps false blocks <= 1 % on every gated benign set.

Embeds ~23k texts with the transformer on one thread (~12 min; cached in $TMPDIR/seawall_inj_full).

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python scripts/injection_full_heldout.py [--C 2.0]
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
from injection_data import GATED_BENIGN, SETS, dedup  # noqa: E402
from train_injection import GROUPS, _sample_weights, default_data_dir, load_everyday  # noqa: E402

from seawall.guard.injection import MiniLMEmbedder, _windows  # noqa: E402


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--C", type=float, default=2.0)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "seawall_inj_full")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    emb = MiniLMEmbedder(max_seq_length=128, threads=1)
    texts = {s.name: dedup(s.load(args.data)) for s in SETS}
    for k, v in load_everyday(args.data, "train").items():
        texts["everyday: " + k] = v
    feats = {}
    for name, ts in texts.items():
        f = args.cache / ("full_" + "".join(c if c.isalnum() else "_" for c in name) + ".npy")
        if not f.exists():
            t0 = time.time()
            np.save(f, emb.encode([_windows(t, 512)[0] for t in ts]))
            print(f"embedded {name}: {len(ts)} in {time.time() - t0:.0f}s", flush=True)
        feats[name] = np.load(f)
    lab = {s.name: s.label for s in SETS}
    names = [s.name for s in SETS if s.trainable] + [n for n in texts if n.startswith("everyday: ")]
    X = np.concatenate([feats[n] for n in names])
    y = np.concatenate([[lab.get(n, 0)] * len(feats[n]) for n in names])
    nm = np.concatenate([[n] * len(feats[n]) for n in names])
    ds = np.asarray([names.index(n) for n in nm])

    def fit(m):
        c = LogisticRegression(C=args.C, max_iter=3000)
        c.fit(X[m], y[m], sample_weight=_sample_weights(ds[m], y[m]))
        return c

    held = {}
    for members in GROUPS.values():
        out = np.isin(nm, members)
        p = fit(~out).predict_proba(X[out])[:, 1]
        for n in members:
            held[n] = p[nm[out] == n]
    full = fit(np.ones(len(y), dtype=bool))
    for s in SETS:
        if s.name not in held:
            held[s.name] = full.predict_proba(feats[s.name])[:, 1]
    ben = [held[n] for n in GATED_BENIGN]
    thr = next(t for t in np.unique(np.concatenate(ben + [np.asarray([1.0001])]))
               if all((b >= t).mean() <= 0.01 for b in ben))
    print(f"full head, C={args.C}: lowest threshold with <= 1 % false blocks on every gated benign set: {thr:.4f}")
    print("| set | n | held-out mean | >= that threshold | >= 0.9 | >= 0.5 |\n|---|---:|---:|---:|---:|---:|")
    for s in SETS:
        p = held[s.name]
        print(f"| {s.name} | {len(p)} | {p.mean():.3f} | {(p >= thr).mean():.3f} | {(p >= 0.9).mean():.3f} | {(p >= 0.5).mean():.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
