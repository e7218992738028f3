#!/usr/bin/env python3
"""Prompt-injection evaluation over every injection set in ../shared/data (read in place).

For each set (scripts/injection_data.py) the score is what the guard computes on the default
path: max(rules for the text's role, fast classifier head). The classifier part of a set the
shipped head was trained on comes from a head trained *without* that set (leave-one-group-out,
``train_injection.py --heldout-only``); every other set is scored by the shipped head, which
never saw it. So every classifier figure below is held out. The rules were written by hand;
the tool-content rules were written after reading LLM-PIEval and CyberSecEval examples, so
their figures on those two sets are *not* held out (said in the table).

Bands: the block threshold is the lowest score that keeps false blocks <= 1 % on every gated
benign set (NotInject, WildGuardTest benign, CyberSecEval FRR, self-instruct, Code Alpaca,
XSTest safe), the flag threshold the lowest that keeps flags <= 5 % on each; tool bands the
same on the calibration half of the assembled benign tool content, reported on the other half.

    HF_HUB_OFFLINE=1 python scripts/injection_eval.py [--data ../shared/data] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from injection_data import GATED_BENIGN, SETS, _h, dedup  # noqa: E402

RULES_SEEN = {"llm-pieval", "cyberseceval indirect (en)", "cyberseceval indirect (17 languages)"}
# the multilingual rules read the examples of ten of the seventeen languages (the tuning group
# of injection_multilingual_eval.py, which reports the two groups apart)
RULES_READ_TUNING_LANGUAGES = {"cyberseceval direct (17 languages)"}


def lowest_threshold(score_sets: list[np.ndarray], rate: float) -> float:
    """The lowest t with mean(s >= t) <= rate for every set (candidates: observed scores)."""
    cands = np.unique(np.concatenate(score_sets + [np.asarray([1.0001])]))
    for t in cands:
        if all((s >= t).mean() <= rate for s in score_sets):
            return float(t)
    return 1.0001


def tpr_at_fpr(att: np.ndarray, ben: np.ndarray, fpr: float) -> float:
    thr = lowest_threshold([ben], fpr)
    return float((att >= thr).mean())


def auc(att: np.ndarray, ben: np.ndarray) -> float:
    from scipy.stats import rankdata  # average ranks for ties

    r = rankdata(np.concatenate([att, ben]))
    return float((r[: len(att)].sum() - len(att) * (len(att) + 1) / 2) / (len(att) * len(ben)))


def main() -> int:
    ap = argparse.ArgumentParser()
    from train_injection import default_data_dir

    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown tables here")
    args = ap.parse_args()
    if not (args.data / "prompt_injection").exists():
        print(f"injection data not found at {args.data}/prompt_injection: skipped", file=sys.stderr)
        return 0
    from seawall.guard.injection import InjectionClassifier, heuristic_score

    held = Path(os.environ.get("TMPDIR", "/tmp")) / "seawall_injection_heldout_eval.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_injection.py"), "--data", str(args.data),
                    "--heldout-only", "--scores-out", str(held)], check=True, stdout=subprocess.DEVNULL)
    heldout = json.loads(held.read_text())["heldout_fast"]
    clf = InjectionClassifier()
    clf.warm_up("fast")
    from seawall.guard.config import GATEWAY_DEFAULTS as pol

    ship = {"user": pol.injection_user, "tool": pol.injection_tool}

    rows = {}
    for s in SETS:
        texts = dedup(s.load(args.data))
        if s.name in heldout:
            c = np.asarray(heldout[s.name])
            assert len(c) == len(texts), s.name
        else:
            c = np.asarray(clf.score_many(texts, "fast"))
        lat = []
        for t in texts[:300]:  # the default path per text: rules + fast head, uncached
            clf._cache.clear()
            t0 = time.perf_counter()
            heuristic_score(t, s.role)
            clf.score_many([t], "fast")
            lat.append((time.perf_counter() - t0) * 1000)
        h = np.asarray([heuristic_score(t, s.role) for t in texts])
        b = ship[s.role].block
        rows[s.name] = dict(set=s, texts=texts, score=np.maximum(h, c), lat=float(np.median(lat)),
                            shipped=np.maximum(h, np.minimum(c, b - 1e-3)) if not pol.injection_classifier_blocks else np.maximum(h, c),
                            chars=float(np.median([len(t) for t in texts])))

    # tool benign: hash split into calibration / report halves
    tb = rows["benign tool content"]
    cal = np.asarray([_h("cal|" + t) % 2 == 0 for t in tb["texts"]])
    tool_cal = tb["score"][cal]
    tb["score_report"], tb["texts_report"] = tb["score"][~cal], [t for t, m in zip(tb["texts"], cal) if not m]
    tb["shipped_report"] = tb["shipped"][~cal]

    gated = [rows[n]["score"] for n in GATED_BENIGN]
    user_block = lowest_threshold(gated, 0.01)
    user_flag = lowest_threshold(gated, 0.05)
    tool_block = lowest_threshold([tool_cal], 0.01)
    tool_flag = lowest_threshold([tool_cal], 0.05)
    bands = {"user": (user_flag, user_block), "tool": (tool_flag, tool_block)}
    user_ben = np.concatenate(gated)

    out = []
    w = out.append
    w("## Prompt injection (issue 14)\n")
    w(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, one thread. "
      f"Date: {dt.date.today().isoformat()}. Command: `make eval` "
      f"(`python scripts/injection_eval.py`). Score = max(rules for the role, fast head).\n")
    w(f"Shipped bands: user flag >= {ship['user'].flag}, block >= {ship['user'].block}; tool flag >= "
      f"{ship['tool'].flag}, block >= {ship['tool'].block}; the classifier alone stops just below the block band "
      f"(`injection_classifier_blocks: false`), so the rules block and the classifier flags. "
      f"Why: the thresholds that would keep false blocks <= 1 % on every gated benign set with the classifier "
      f"allowed to block are user >= {user_block:.3f}, tool >= {tool_block:.3f} (flag <= 5 %: user >= {user_flag:.3f}, "
      f"tool >= {tool_flag:.3f}), i.e. held out, the fast head has no usable blocking range. "
      f"Blocked / flagged below are at the shipped bands; TPR at 1 % / 2 % FPR ranks the uncapped score "
      f"against the pooled gated benign sets (user) or the report half of the benign tool content (tool).\n")
    w("| set | role | n | held out | blocked | flagged | TPR@1%FPR | TPR@2%FPR | AUC | p50 ms | median chars |")
    w("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    fps = []
    for name, r in rows.items():
        s = r["set"]
        sc = r.get("score_report", r["score"])
        sh = r.get("shipped_report", r["shipped"])
        fl, bl = ship[s.role].flag, ship[s.role].block
        blocked = float((sh >= bl).mean())
        flagged = float(((sh >= fl) & (sh < bl)).mean())
        ben = user_ben if s.role == "user" else r_tool_report(rows)
        t1 = t2 = a = "-"
        if s.label == 1:
            t1 = f"{tpr_at_fpr(sc, ben, 0.01):.3f}"
            t2 = f"{tpr_at_fpr(sc, ben, 0.02):.3f}"
            if s.role == "tool":
                a = f"{auc(sc, ben):.3f}"
        if s.trainable:
            ho = "classifier: set held out"
            if name in RULES_READ_TUNING_LANGUAGES:
                ho += "; rules read 10 of its 17 languages"
        else:
            ho = "yes" + (" (classifier); rules read it" if name in RULES_SEEN else "")
        if name == "benign tool content":
            ho = "report half (other half calibrates)"
        w(f"| {name} | {s.role} | {len(sc)} | {ho} | {blocked:.3f} | {flagged:.3f} | {t1} | {t2} | {a} | {r['lat']:.3f} | {r['chars']:.0f} |")
        if s.label == 0:
            texts = r.get("texts_report", r["texts"])
            top = np.argsort(-sc)[:2]
            for i in top:
                if sc[i] >= fl:
                    fps.append((name, float(sc[i]), texts[i]))
    w("\nHighest-scoring benign texts at or above the flag band (false-positive examples):\n")
    for name, v, t in fps:
        t = " ".join(t.split())[:110].replace("|", "/")
        w(f"- {name}, {v:.2f}: \"{t}\"")
    md = "\n".join(out) + "\n"
    print(md)
    print(json.dumps({"bands": bands}), file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md)
    return 0


def r_tool_report(rows) -> np.ndarray:
    return rows["benign tool content"]["score_report"]


if __name__ == "__main__":
    raise SystemExit(main())
