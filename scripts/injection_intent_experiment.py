#!/usr/bin/env python3
"""Experiment (issue 14): does adding hand-built intent features (guard/injection_intent.py)
to the fast head's pooled token embeddings give it a usable blocking range, held out?

Same data, weighting, C and leave-one-group-out scheme as train_injection.py's v4 ``main``:
each group in ``GROUPS`` is scored by a head trained without it; the sets nobody trains on
(jackhhao test, Tensor Trust eval half, Code Alpaca, tool content) by the head trained on all.
Variants: ``v4`` (embeddings only: reproduces the shipped held-out scores), ``v5`` (embeddings
+ intent features), ``intent`` (intent features only: no style at all).

For each variant: TPR at 1 % / 2 % FPR of the classifier score alone against the pooled gated
benign sets; the block threshold T = the lowest score keeping the classifier's false blocks
<= 1 % on every gated benign set (the same rule as injection_eval.py); the share of every set
at or above T; the share the rules block alone (>= 0.9 user, >= 0.8 tool) and with the
classifier at T; the share of benign texts the classifier flags (>= 0.5). Every figure is held
out in the leave-one-group-out sense; T is chosen on the gated benign sets, which are
therefore *not* held out for T (their shares above T are <= 1 % by construction).

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 nice -n 19 python scripts/injection_intent_experiment.py \
        [--out /tmp/inj-head/experiment.md] [--scores-out /tmp/inj-head/v5.json]

Later tries (each run after reading every set's figures of the runs before; see the docs):
``--intent-scale`` (weight of the intent block), ``--ablation`` (hand-built features vs rule
signals), ``--gate`` (a head may reach the flag band only where an address feature fires),
``--phrases`` (hand-written benign texts with attack words, training only). The v4 variant is
checked against ``/tmp/inj-head/v4.json`` (``train_injection.py --heldout-only --scores-out``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from injection_data import GATED_BENIGN, SETS, dedup  # noqa: E402
from injection_eval import lowest_threshold, tpr_at_fpr  # noqa: E402
from train_injection import FAST_C, GROUPS, _sample_weights, default_data_dir, training_pool  # noqa: E402

from seawall.guard.injection import FAST_WINDOW_CHARS, StaticEmbedder, _placeholder_words, _windows, heuristic_score  # noqa: E402
from injection_intent_features import ADDRESS, HJ_KINDS, JB_KINDS, NAMES, intent_features  # noqa: E402

ADDR = [NAMES.index(k) for k in ADDRESS]
N_HAND = len(NAMES) - len(JB_KINDS) - len(HJ_KINDS)  # the hand-built features come first

CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "inj-head"
BLOCK = {"user": 0.9, "tool": 0.8}


def _cached(tag: str, texts: list[str], fn) -> np.ndarray:
    key = hashlib.sha256(("\x00".join(texts) + tag).encode()).hexdigest()[:16]
    f = CACHE / f"{tag}_{key}.npy"
    if f.exists():
        return np.load(f)
    X = np.asarray(fn(texts), dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(f, X)
    return X


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, default=CACHE / "experiment.md")
    ap.add_argument("--scores-out", type=Path, default=CACHE / "experiment_scores.json")
    ap.add_argument("--intent-scale", type=float, default=1.0)
    ap.add_argument("--phrases", action="store_true", help="also train on injection_intent_phrases.py (never reported)")
    ap.add_argument("--gate", action="store_true", help="also each head capped below 0.5 where no address feature fires")
    ap.add_argument("--ablation", action="store_true", help="v5 with the hand-built features only / the rule signals only")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    static = StaticEmbedder()
    emb = lambda ts: static.encode(ts)  # noqa: E731
    intent = lambda ts: [intent_features(t) for t in ts]  # noqa: E731

    # the training pool train_injection.main uses (first window of each text)
    names, texts, labels = training_pool(args.data)
    if args.phrases:
        from injection_intent_phrases import BENIGN_TRIGGER_PHRASES

        names += ["hand-written benign trigger-word phrases"] * len(BENIGN_TRIGGER_PHRASES)
        texts += BENIGN_TRIGGER_PHRASES
        labels += [0] * len(BENIGN_TRIGGER_PHRASES)
    y, nm = np.asarray(labels), np.asarray(names)
    ds_ids = {n: i for i, n in enumerate(dict.fromkeys(names))}
    ds_idx = np.asarray([ds_ids[n] for n in names])
    first = [_windows(t, FAST_WINDOW_CHARS)[0] for t in texts]
    t0 = time.time()
    XE, XI = _cached("emb", first, emb), _cached("intent", first, intent)
    print(f"training pool {len(texts)} texts; features in {time.time() - t0:.0f}s", flush=True)

    # sets nobody trains on: scored as the guard does (placeholders read as words, max over windows)
    other: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
    for s in SETS:
        if s.trainable:
            continue
        ts = dedup(s.load(args.data))
        wins, owner = [], []
        for i, t in enumerate(ts):
            for w in _windows(_placeholder_words(t), FAST_WINDOW_CHARS):
                wins.append(w)
                owner.append(i)
        other[s.name] = (ts, _cached("emb", wins, emb), _cached("intent", wins, intent), np.asarray(owner))
    rules = {}
    for s in SETS:
        ts = dedup(s.load(args.data))
        rules[s.name] = _cached("rules_" + s.role, ts, lambda xs, r=s.role: [heuristic_score(t, r) for t in xs])
    print(f"all features in {time.time() - t0:.0f}s", flush=True)

    variants = {
        "v4": lambda E, I: E,
        "v5": lambda E, I: np.hstack([E, args.intent_scale * I]),
        "intent": lambda E, I: I,
    }
    if args.gate:
        variants = {"v4": variants["v4"], "v5": variants["v5"]}
    if args.ablation:  # which half of the intent features carries the change
        variants = {"v4": variants["v4"],
                    "v5 hand only": lambda E, I: np.hstack([E, args.intent_scale * I[:, :N_HAND]]),
                    "v5 rule signals only": lambda E, I: np.hstack([E, args.intent_scale * I[:, N_HAND:]])}
    results: dict[str, dict[str, np.ndarray]] = {}
    for v, build in variants.items():
        X = build(XE, XI)

        def fit(mask):
            clf = LogisticRegression(C=FAST_C, max_iter=5000)
            clf.fit(X[mask], y[mask], sample_weight=_sample_weights(ds_idx[mask], y[mask]))
            return clf

        sc: dict[str, np.ndarray] = {}
        for g, members in GROUPS.items():
            out = np.isin(nm, members)
            p = fit(~out).predict_proba(X[out])[:, 1]
            for n in members:
                sc[n] = p[nm[out] == n]
        full = fit(np.ones(len(y), dtype=bool))
        for n, (ts, E, I, owner) in other.items():
            p = full.predict_proba(build(E, I))[:, 1]
            best = np.zeros(len(ts))
            np.maximum.at(best, owner, p)
            sc[n] = best
        results[v] = sc
        if args.gate:  # the same head, allowed to score >= 0.5 only where the text addresses the model
            g = {}
            for gname, members in GROUPS.items():
                for n in members:
                    g[n] = np.where(XI[nm == n][:, ADDR].max(1) > 0, sc[n], np.minimum(sc[n], 0.499))
            for n, (ts, E, I, owner) in other.items():
                p = full.predict_proba(build(E, I))[:, 1]
                p = np.where(I[:, ADDR].max(1) > 0, p, np.minimum(p, 0.499))
                best = np.zeros(len(ts))
                np.maximum.at(best, owner, p)
                g[n] = best
            results[v + " gated"] = g
        print(f"  {v} done", flush=True)

    lines = []
    w = lines.append
    gated_pool = {v: np.concatenate([results[v][n] for n in GATED_BENIGN]) for v in results}
    thr = {v: lowest_threshold([results[v][n] for n in GATED_BENIGN], 0.01) for v in results}
    w("Block threshold T (classifier alone, false blocks <= 1 % on every gated benign set): "
      + ", ".join(f"{v} {thr[v]:.3f}" for v in results) + "\n")
    w("Per gated benign set, the lowest threshold keeping its own false blocks <= 1 %: " + "; ".join(
        f"{v}: " + ", ".join(f"{n} {lowest_threshold([results[v][n]], 0.01):.3f}" for n in GATED_BENIGN) for v in results) + "\n")
    vs = list(results)
    w("| set | label | n | rules block | " + " | ".join(f"{v} TPR@1% | {v} TPR@2% | {v} >=T | {v} rules or >=T | {v} >=0.5"
                                                     for v in vs) + " |")
    w("|---|---|---:|---:|" + "---:|" * (5 * len(vs)))
    for s in SETS:
        r = rules[s.name]
        rb = float((r >= BLOCK[s.role]).mean())
        cells = []
        for v in vs:
            c = results[v][s.name]
            if s.label == 1 and s.role == "user":
                t1, t2 = f"{tpr_at_fpr(c, gated_pool[v], 0.01):.3f}", f"{tpr_at_fpr(c, gated_pool[v], 0.02):.3f}"
            else:
                t1 = t2 = "-"
            cells += [t1, t2, f"{(c >= thr[v]).mean():.3f}", f"{((c >= thr[v]) | (r >= BLOCK[s.role])).mean():.3f}",
                      f"{(c >= 0.5).mean():.3f}"]
        w(f"| {s.name} | {'attack' if s.label else 'benign'} ({s.role}) | {len(r)} | {rb:.3f} | " + " | ".join(cells) + " |")
    md = "\n".join(lines) + "\n"
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    args.scores_out.write_text(json.dumps({v: {n: [round(float(x), 6) for x in a] for n, a in sc.items()}
                                           for v, sc in results.items()}) + "\n")
    # sanity: the v4 variant must reproduce the shipped held-out scores
    ref = CACHE / "v4.json"
    if ref.exists():
        held = json.loads(ref.read_text())["heldout_fast"]
        d = max(float(np.max(np.abs(np.asarray(held[n]) - results["v4"][n]))) for n in held)
        print(f"max |v4 variant - train_injection.py --heldout-only| = {d:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
