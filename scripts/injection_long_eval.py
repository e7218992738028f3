#!/usr/bin/env python3
"""False blocks of the injection rules on LONG benign user messages: our generated documents
(injection_long_corpus.py) and local corpora read in place (never copied): presidio-research,
MEDDOCAN, pl-pii-bench, the four IR collections, Code Alpaca; each wrapped as a user message in
several forms (injection_long_corpus.WRAPPERS). LifeBench is held out: only its block count, the
rule and ~60 characters around the match are printed.

    PYTHONPATH=src python scripts/injection_long_eval.py [--data ../shared/data] [--show 5] [--json OUT]
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from injection_long_corpus import documents, wrap  # noqa: E402

BLOCK = 0.9


def _ir(path: Path) -> list[str]:
    """The abstracts of an SMART-format IR collection (``.I`` records, ``.W`` body)."""
    body = path.read_text(encoding="utf-8", errors="replace")
    out = []
    for doc in re.split(r"\n?\.I ", body):
        w = doc.split("\n.W\n", 1)
        if len(w) == 2:
            txt = re.split(r"\n\.[A-Z]\n", w[1])[0].strip()
            if len(txt) >= 200:
                out.append(txt)
    return out


def corpora(data: Path) -> dict[str, list[str]]:
    from injection_data import _codealpaca_rows

    c: dict[str, list[str]] = {"generated (own)": [t for _, t in documents()],
                               "generated, held-out sentences": [t for _, t in documents(heldout=True)]}
    rows = json.loads((data / "pii/presidio-research/synth_dataset_v2.json").read_text(encoding="utf-8"))
    c["presidio-research"] = [r["full_text"] for r in rows if len(r["full_text"]) >= 200]
    c["meddocan"] = [p.read_text(encoding="utf-8") for p in sorted((data / "pii/meddocan").glob("*/brat/*.txt"))]
    c["pl-pii-bench"] = [json.loads(Path(p).read_text(encoding="utf-8"))["text"]
                         for p in sorted(glob.glob(str(data / "pii/pl_pii_bench/corpus/*/*.json")))]
    for name, f in (("rag/cranfield", "cranfield/cran.all.1400"), ("rag/cisi", "cisi/CISI.ALL"),
                    ("rag/cacm", "cacm/cacm.all"), ("rag/medline", "medline/MED.ALL")):
        p = data / "rag" / f
        if p.exists():
            c[name] = _ir(p)
    ca = []
    for r in _codealpaca_rows(data):
        t = "\n\n".join(x for x in (r.get("instruction"), r.get("input"), r.get("output")) if x)
        if len(t) >= 200:
            ca.append(t)
    c["code alpaca (instr+input+output)"] = ca
    return c


def lifebench(data: Path) -> list[str]:
    out = []
    for f in sorted(glob.glob(str(data / "pii/lifebench_pii/data/*.jsonl.gz"))):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            out += [json.loads(line)["data_to_answer"] for line in fh if line.strip()]
    return out


def attribute(text: str) -> tuple[str, int]:
    from seawall.guard import injection_hijack as hj, injection_jailbreak as jb, injection_pasted as ip
    from seawall.guard.evasion import plain
    from seawall.guard.injection import _unquote_mentions
    from seawall.guard.injection_rules import _HEURISTIC_RX, _ML_TOOL, _ML_USER
    from seawall.guard.injection_tool import TOOL_RULES

    text = plain(text)
    text = _unquote_mentions(text, text.lower())
    for i, (w, rx) in enumerate(_HEURISTIC_RX):
        if w >= BLOCK and (m := rx.search(text)):
            return f"user_rx[{i}]", m.start()
    for i, r in enumerate(_ML_USER):
        if r.weight >= BLOCK and r.match(text):
            return f"ml_user[{i}]", r.anchor.search(text).start() if r.anchor.search(text) else -1
    if jb.score(text) >= BLOCK:
        return "jailbreak", -1
    if hj.score(text) >= BLOCK:
        return "hijack", -1
    span = ip.pasted_span(text)
    if span:
        part = text[span[0]:span[1]]
        for r in TOOL_RULES:
            if r.weight >= BLOCK and ip._matches(r, part, None):
                m = next(iter(r.finditer(part)), None)
                return f"pasted:{r.name}", span[0] + (m.start() if m else 0)
        if "<!--" in part and ip._HIDDEN_ORDER.search(part):
            return "pasted:hidden_order", span[0] + ip._HIDDEN_ORDER.search(part).start()
        for i, r in enumerate(_ML_TOOL):
            if r.weight >= BLOCK and r.match(part):
                return f"pasted:ml_tool[{i}]", span[0]
    return "?", -1


def main() -> int:
    from seawall.guard.injection import heuristic_score

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--show", type=int, default=3, help="examples per (corpus, rule), tuning corpora only")
    ap.add_argument("--only", help="only the corpora whose name contains this")
    ap.add_argument("--json", type=Path, help="write {corpus: {wrapper: blocks}} here")
    a = ap.parse_args()
    table: dict[str, dict[str, int]] = {}
    for name, docs in list(corpora(a.data).items()) + [("lifebench (held out)", lifebench(a.data))]:
        if a.only and a.only not in name:
            continue
        held = "held out" in name
        per_wrap: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        shown: Counter[str] = Counter()
        for d in docs:
            for w, msg in wrap(d):
                if heuristic_score(msg, "user") < BLOCK:
                    continue
                per_wrap[w] += 1
                rule, at = attribute(msg)
                rules[rule] += 1
                if shown[rule] < (1 if held else a.show):
                    shown[rule] += 1
                    ctx = msg[max(0, at - 30): at + 30] if at >= 0 else ("" if held else msg[:120])
                    print(f"  [{name} / {w}] {rule}: {ctx!r}")
        n = len(docs)
        table[name] = dict(per_wrap, docs=n)
        print(f"| {name} | {n} docs | " + " | ".join(f"{w} {per_wrap[w]}" for w, _ in wrap("x"))
              + f" | rules {dict(rules)} |", flush=True)
    if a.json:
        a.json.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
