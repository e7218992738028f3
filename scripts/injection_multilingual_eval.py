#!/usr/bin/env python3
"""Rules-only check of the injection guard on translated attacks and non-English benign text.

At the shipped bands the classifier is capped below the block band, so what is *blocked* is
decided by the rules alone (``heuristic_score``); this script measures exactly that, per
language, without recomputing the classifier's leave-one-group-out heads (that is
``injection_eval.py``). It also reports the share of texts the rules alone put in the flag band.

Languages of CyberSecEval's machine translations are split in two by a hash of the language
name, fixed before any example was read: the *tuning* group (examples read while writing the
multilingual rules) and the *held-out* group (rules written from knowledge of the language
only; its attack texts never read). Benign sets: every benign set of ``injection_data.SETS``,
plus non-English benign text: MEDDOCAN Spanish clinical reports and pl-pii-bench Polish
documents (read as benign text, in the user and the tool role) and the non-English items of
jackhhao benign and NotInject.

    PYTHONPATH=src python scripts/injection_multilingual_eval.py [--json OUT] [--compare BEFORE.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from injection_data import SETS, dedup  # noqa: E402


def group(language: str) -> str:
    """'tune' or 'held': one bit of a hash of the language name (chosen before reading data)."""
    return "held" if hashlib.sha256(("split|" + language).encode()).digest()[0] % 2 else "tune"


def translated(data: Path) -> list[tuple[str, str, str]]:
    """(language, role, text) of CyberSecEval's translated attacks: direct = user, indirect = tool."""
    p = data / "prompt_injection" / "cyberseceval_prompt_injection" / "prompt_injection_multilingual_machine_translated.json"
    rows = json.loads(p.read_text(encoding="utf-8"))
    return [(r["speaking_language"], "user" if r["injection_type"] == "direct" else "tool", r["user_input"].strip())
            for r in rows if r["user_input"].strip()]


def meddocan(data: Path) -> list[str]:
    return [p.read_text(encoding="utf-8").strip() for p in sorted((data / "pii" / "meddocan").glob("*/brat/*.txt"))]


def pl_pii(data: Path) -> list[str]:
    base = data / "pii" / "pl_pii_bench" / "corpus"
    out = [json.loads(p.read_text(encoding="utf-8"))["text"] for p in sorted(base.glob("**/*.json"))]
    for line in (base / "inflection" / "inflection.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line)["text"])
    return dedup([t for t in out if t.strip()])


_FOREIGN_WORDS = re.compile(r"\b(?:der|die|und|nicht|le|les|des|est|une|el|los|las|que|por|il|di|della|che|não|uma|het|een|ve|bir|ile|dan|yang|ang|mga)\b", re.I)


def non_english(texts: list[str]) -> list[str]:
    """Texts mostly in another language: many non-ASCII letters, or several foreign function words."""
    out = []
    for t in texts:
        letters = [c for c in t if c.isalpha()]
        if not letters:
            continue
        if sum(ord(c) > 127 for c in letters) / len(letters) >= 0.15 or len(_FOREIGN_WORDS.findall(t)) >= 4:
            out.append(t)
    return out


def benign_sets(data: Path) -> list[tuple[str, str, list[str]]]:
    out = [(s.name, s.role, dedup(s.load(data))) for s in SETS if s.label == 0]
    by = {n: t for n, _, t in out}
    med, pl = meddocan(data), pl_pii(data)
    out += [("meddocan (es clinical)", "user", med), ("meddocan (es clinical)", "tool", med),
            ("pl-pii-bench (pl documents)", "user", pl), ("pl-pii-bench (pl documents)", "tool", pl),
            ("jackhhao benign non-English", "user", non_english(by["jackhhao benign (train)"] + by["jackhhao benign (test)"])),
            ("notinject non-English", "user", non_english(by["notinject"]))]
    return out


def main() -> int:
    from train_injection import default_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--json", type=Path, help="write per-row results here")
    ap.add_argument("--compare", type=Path, help="a --json file of an earlier run: print before / after")
    args = ap.parse_args()
    if not (args.data / "prompt_injection").exists():
        print(f"injection data not found at {args.data}/prompt_injection: skipped", file=sys.stderr)
        return 0
    from seawall.guard.config import GATEWAY_DEFAULTS as pol
    from seawall.guard.injection import heuristic_score

    band = {"user": pol.injection_user, "tool": pol.injection_tool}
    res: dict[str, dict] = {}

    def add(key: str, role: str, texts: list[str]) -> None:
        h = [heuristic_score(t, role) for t in texts]
        res[key] = {"n": len(texts), "blocked": sum(s >= band[role].block for s in h) / max(len(h), 1),
                    "flag+": sum(s >= band[role].flag for s in h) / max(len(h), 1),
                    "hits": [t[:160] for t, s in zip(texts, h) if s >= band[role].block][:8]}

    att = translated(args.data)
    for role in ("user", "tool"):
        kind = "direct" if role == "user" else "indirect"
        for g in ("tune", "held"):
            add(f"attack {kind} {g} group", role, [t for lang, r, t in att if r == role and group(lang) == g])
        for lang in sorted({a[0] for a in att}):
            add(f"attack {kind} {group(lang)} {lang}", role, [t for la, r, t in att if r == role and la == lang])
    for name, role, texts in benign_sets(args.data):
        add(f"benign {name} [{role}]", role, texts)

    before = json.loads(args.compare.read_text()) if args.compare else {}
    print(f"{'set':58s} {'n':>5s} {'blocked':>8s} {'rule flag+':>10s}" + ("   before: blocked / flag+" if before else ""))
    for k, v in res.items():
        line = f"{k:58s} {v['n']:5d} {v['blocked']:8.3f} {v['flag+']:10.3f}"
        if k in before:
            line += f"   {before[k]['blocked']:.3f} / {before[k]['flag+']:.3f}"
        print(line)
    print("\nbenign texts blocked (first ones):")
    for k, v in res.items():
        if k.startswith("benign") and v["hits"]:
            for t in v["hits"][:4]:
                print(f"- {k}: {' '.join(t.split())[:150]}")
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
