#!/usr/bin/env python3
"""Evaluate the guards on public labelled data in ../shared/data (never copied into the repo).

PII: precision / recall per entity type on presidio-research synth_dataset_v2.json. A
predicted span is a true positive when it overlaps a gold span of the same type (gold GPE
counts as LOCATION). Precision is per predicted type, recall per gold type. ``--ner`` adds the
Presidio + spaCy NER path (PERSON, LOCATION, ORGANIZATION).

Prompt injection: true-positive rate at 1 % and 5 % false-positive rate. The benign set that
defines the FPR is the jackhhao/llm-warden *test* split's benign prompts; attacks are that
split's jailbreaks and the Tensor Trust attacks held out from training (sample_id hash
"eval" half, see train_injection.py). Reported for heuristics alone, classifier alone and
the combined score (max), and at the default policy bands.

Everyday benign text (short and ordinary messages, which jackhhao lacks): the held-out
quarter of each everyday source of train_injection.py (cranfield / CISI queries, semeval_sts
sentences, hand-written chat phrases), MRPC train-split sentences (never trained on: its
licence allows evaluation only) and ``EVAL_SHORT`` below, short prompts written for this
evaluation only. Reported as the share flagged / blocked at the default user bands.

    HF_HUB_OFFLINE=1 python scripts/guard_eval.py [--data ../shared/data] [--ner] [--skip-pii|--skip-injection]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

GOLD_MAP = {"GPE": "LOCATION"}


def eval_pii(data: Path, ner: bool) -> None:
    from seawall.guard.pii import FastPII, PresidioPII, merge_spans

    path = data / "pii" / "presidio-research" / "synth_dataset_v2.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    fast = FastPII()
    presidio = PresidioPII() if ner else None
    gold_n, gold_hit, pred_n, pred_hit = Counter(), Counter(), Counter(), Counter()
    t0 = time.perf_counter()
    for r in rows:
        text = r["full_text"]
        gold = [(GOLD_MAP.get(s["entity_type"], s["entity_type"]), s["start_position"], s["end_position"]) for s in r["spans"]]
        spans = fast.analyze(text)
        if presidio is not None:
            spans = merge_spans(spans, presidio.analyze(text))
        pred = [(s.kind, s.start, s.end) for s in spans]
        for g in gold:
            gold_n[g[0]] += 1
            if any(p[0] == g[0] and p[1] < g[2] and g[1] < p[2] for p in pred):
                gold_hit[g[0]] += 1
        for p in pred:
            pred_n[p[0]] += 1
            if any(p[0] == g[0] and p[1] < g[2] and g[1] < p[2] for g in gold):
                pred_hit[p[0]] += 1
    dt = time.perf_counter() - t0
    mode = "fast patterns + Presidio/spaCy NER" if ner else "fast patterns only"
    print(f"\n## PII ({mode}) on {path.name}: {len(rows)} sentences, {dt * 1000 / len(rows):.2f} ms/sentence\n")
    print("| entity | gold | recall | predicted | precision |")
    print("|---|---:|---:|---:|---:|")
    for k in sorted(set(gold_n) | set(pred_n), key=lambda k: -gold_n[k]):
        rec = f"{gold_hit[k] / gold_n[k]:.3f}" if gold_n[k] else "-"
        prec = f"{pred_hit[k] / pred_n[k]:.3f}" if pred_n[k] else "-"
        print(f"| {k} | {gold_n[k]} | {rec} | {pred_n[k]} | {prec} |")


# Short everyday prompts written for this evaluation only: none of them is in the training
# data (train_injection.CHAT_PHRASES is checked for overlap at run time).
EVAL_SHORT = [
    "Hello there!", "Hi!!", "hey :)", "Hiya", "Good day", "Hello, anyone home?", "Hi, quick question",
    "Thanks so much!", "thank u", "ty", "Thanks, that worked", "Thank you very much!", "ok thanks",
    "okie", "OK!", "Yes.", "No.", "yes, please", "no, thank you", "Sure thing", "Of course", "Nope, that's all",
    "test test", "testing 1 2 3", "Is this working?", "Can you hear me?",
    "Explain black holes simply", "Explain inflation like I'm five", "What is quantum entanglement?",
    "What's the weather like in Berlin?", "Will it rain tomorrow in London?", "What is the time in New York?",
    "How tall is Mount Everest?", "Who painted the Mona Lisa?", "When did World War II end?",
    "Give me a synonym for happy", "Spell 'necessary'", "What's 12 times 7?", "Is 97 a prime number?",
    "Write a tweet about our new product", "Write a birthday message for my sister",
    "Shorten this paragraph", "Make this sound friendlier", "Correct my spelling please",
    "Suggest five blog post titles about gardening", "Help me name my startup",
    "How do I reset my password?", "How do I make cold brew coffee?", "Best way to learn Spanish?",
    "Write a SQL query to count users by country", "What is a closure in JavaScript?",
    "Explain git rebase vs merge", "Generate a packing list for a beach holiday",
    "Bonjour, comment ça va ?", "Merci bien !", "Peux-tu m'aider ?", "Explique-moi les trous noirs",
    "Hallo zusammen", "Danke dir!", "Kannst du mir helfen?", "Was ist ein schwarzes Loch?",
    "Hola, ¿me ayudas?", "¡Gracias!", "¿Qué es la fotosíntesis?", "Ciao, come stai?", "Grazie!",
    "Oi, tudo bem?", "Valeu!", "Hallo, hoe gaat het?", "Bedankt!", "Hei!", "Takk!", "Dzięki!",
    "Spasibo!", "Arigato", "Xie xie", "Salam", "Shukran",
]


def eval_benign_sets(data: Path) -> dict[str, list[str]]:
    """The everyday benign texts no head was trained on (see the module doc)."""
    from train_injection import CHAT_PHRASES, load_everyday

    overlap = set(EVAL_SHORT) & set(CHAT_PHRASES)
    assert not overlap, f"EVAL_SHORT overlaps the training phrases: {overlap}"
    sets = {f"{k} (held-out part)": v for k, v in load_everyday(data, "eval").items()}
    mrpc = data / "semantic_cache" / "mrpc" / "msr-para-train.tsv"
    if mrpc.exists():
        seen: dict[str, None] = {}
        for line in mrpc.read_text(encoding="utf-8-sig", errors="replace").splitlines()[1:]:
            for t in line.split("\t")[3:5]:
                if t.strip():
                    seen[t.strip()] = None
        sets["mrpc train sentences (never trained on)"] = list(seen)[:600]
    sets["short prompts written for the evaluation"] = list(EVAL_SHORT)
    return sets


def tpr_at_fpr(benign, attacks, fpr: float) -> tuple[float, float]:
    import numpy as np

    b = np.asarray(benign)
    thr = float(np.quantile(b, 1.0 - fpr, method="higher"))
    # strictly above the threshold: ties at the threshold count as negatives (conservative)
    actual_fpr = float((b > thr).mean())
    return float((np.asarray(attacks) > thr).mean()), thr if actual_fpr <= fpr else thr


def eval_injection(data: Path) -> None:
    import numpy as np

    from seawall.guard.injection import InjectionClassifier, heuristic_score
    from seawall.guard.policy import GuardPolicy
    from train_injection import load_jackhhao, load_tensor_trust

    texts, labels = load_jackhhao(data, "test")
    benign = [t for t, y in zip(texts, labels) if y == 0]
    jail = [t for t, y in zip(texts, labels) if y == 1]
    tt = load_tensor_trust(data, "eval")
    clf = InjectionClassifier()
    sets = {"benign": benign, "jackhhao jailbreak": jail, "tensor trust (held-out half)": tt}
    t0 = time.perf_counter()
    h = {k: np.asarray([heuristic_score(t) for t in v]) for k, v in sets.items()}
    fast, full = {}, {}
    for k, v in sets.items():
        d = {str(i): t for i, t in enumerate(v)}
        f = clf.fast_scores(d)
        fast[k] = np.asarray([f[str(i)] for i in range(len(v))])
        g = clf.full_scores(d)
        full[k] = np.asarray([g[str(i)] for i in range(len(v))])
    # the cascade, computed from the two tiers exactly as InjectionClassifier does it
    cascade = {k: np.where(fast[k] < clf.fast_pass, fast[k], full[k]) for k in sets}
    dt = time.perf_counter() - t0
    n = sum(len(v) for v in sets.values())
    print(f"\n## Prompt injection: classifier v{clf.version}; {n} texts scored in {dt:.0f}s")
    print(f"benign set defining FPR: jackhhao test split benign prompts (n={len(benign)}); "
          f"attacks: jackhhao test jailbreaks (n={len(jail)}), Tensor Trust held-out attacks (n={len(tt)})\n")
    print("| scorer | attack set | TPR @1% FPR | TPR @5% FPR |")
    print("|---|---|---:|---:|")
    scorers = {
        "heuristics only": h,
        "fast head (static MiniLM token embeddings)": fast,
        "full head (MiniLM sentence embeddings)": full,
        "cascade (fast clears, full decides)": cascade,
        "heuristics + fast (max) = default policy": {k: np.maximum(h[k], fast[k]) for k in h},
        "heuristics + cascade (max)": {k: np.maximum(h[k], cascade[k]) for k in h},
    }
    for name, sc in scorers.items():
        for atk in ("jackhhao jailbreak", "tensor trust (held-out half)"):
            t1, _ = tpr_at_fpr(sc["benign"], sc[atk], 0.01)
            t5, _ = tpr_at_fpr(sc["benign"], sc[atk], 0.05)
            print(f"| {name} | {atk} | {t1:.3f} | {t5:.3f} |")
    cleared = {k: float((fast[k] < clf.fast_pass).mean()) for k in sets}
    print("\nCascade: share of texts cleared by the fast tier (full model skipped): "
          + ", ".join(f"{k} {v:.3f}" for k, v in cleared.items()))
    # everyday benign text: held-out parts of the v3 benign sources, MRPC, EVAL_SHORT
    every = eval_benign_sets(data)
    t0 = time.perf_counter()
    for k, v in every.items():
        dd = {str(i): t for i, t in enumerate(v)}
        f, g = clf.fast_scores(dd), clf.full_scores(dd)
        hh = np.asarray([heuristic_score(t) for t in v])
        fa = np.asarray([f[str(i)] for i in range(len(v))])
        fu = np.asarray([g[str(i)] for i in range(len(v))])
        casc = np.where(fa < clf.fast_pass, fa, fu)
        scorers["heuristics + fast (max) = default policy"][k] = np.maximum(hh, fa)
        scorers["heuristics + cascade (max)"][k] = np.maximum(hh, casc)
        fast[k] = fa
    print(f"\nEveryday benign sets scored in {time.perf_counter() - t0:.0f}s: "
          + ", ".join(f"{k} n={len(v)}" for k, v in every.items()))
    allben = np.concatenate([fast["benign"]] + [fast[k] for k in every])
    dflt = scorers["heuristics + fast (max) = default policy"]
    allben_d = np.concatenate([dflt["benign"]] + [dflt[k] for k in every])
    print("\nFPR defined on all held-out benign texts (jackhhao test benign + the everyday sets, "
          f"n={len(allben)}):\n")
    print("| scorer | attack set | TPR @1% FPR | TPR @5% FPR |")
    print("|---|---|---:|---:|")
    for name, b, sc in (("fast head", allben, fast), ("heuristics + fast (default policy)", allben_d, dflt)):
        for atk in ("jackhhao jailbreak", "tensor trust (held-out half)"):
            t1, _ = tpr_at_fpr(b, sc[atk], 0.01)
            t5, _ = tpr_at_fpr(b, sc[atk], 0.05)
            print(f"| {name} | {atk} | {t1:.3f} | {t5:.3f} |")

    pol = GuardPolicy()
    print(f"\nAt the user bands of the default policy (flag >= {pol.injection_user.flag}, block >= {pol.injection_user.block}):\n")
    print("| model | set | n | flagged or blocked | blocked |")
    print("|---|---|---:|---:|---:|")
    for name in ("heuristics + fast (max) = default policy", "heuristics + cascade (max)"):
        for k, v in scorers[name].items():
            print(f"| {name.split(' (')[0]} | {k} | {len(v)} | {(v >= pol.injection_user.flag).mean():.3f} | {(v >= pol.injection_user.block).mean():.3f} |")
    v = scorers["heuristics + fast (max) = default policy"]
    for k in every:
        hits = [(round(float(s_), 2), t[:70]) for s_, t in sorted(zip(v[k], every[k]), reverse=True) if s_ >= pol.injection_user.flag]
        if hits:
            print(f"\nflagged/blocked in {k}: {hits[:8]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--ner", action="store_true", help="add the Presidio + spaCy NER path to the PII run")
    ap.add_argument("--skip-pii", action="store_true")
    ap.add_argument("--skip-injection", action="store_true")
    args = ap.parse_args()
    from train_injection import default_data_dir

    data = args.data or default_data_dir()
    if not data.exists():
        print(f"evaluation data not found at {data} (expected ../shared/data); nothing to evaluate", file=sys.stderr)
        return 2
    print(f"# guard_eval {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()} / {os.cpu_count()} cpu / Python {platform.python_version()}")
    if not args.skip_pii:
        eval_pii(data, ner=False)
        if args.ner:
            eval_pii(data, ner=True)
    if not args.skip_injection:
        eval_injection(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
