#!/usr/bin/env python3
"""Pasted material inside a user message (guard/injection_pasted.py), measured on data nobody tuned on.

``--dump OUT``: the rules' score (``heuristic_score``, role as each set says) of every text of every
set in injection_data.SETS, of our own probes (injection_pasted_probes.py) and of the tool sets
wrapped as a user message ("Summarise the following:\\n\\n<text>"), as JSON. ``--diff A B``: every
text whose verdict (block >= 0.9 for user content, 0.8 for tool content) changed, and the counts.
``--guard``: the probes through the real guard (default policy, PII rewriting first).

    PYTHONPATH=src python scripts/injection_pasted_eval.py --dump /tmp/after.json
    PYTHONPATH=src python scripts/injection_pasted_eval.py --diff /tmp/before.json /tmp/after.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

WRAP = "Summarise the following:\n\n{}"
BLOCK = {"user": 0.9, "tool": 0.8}
FLAG = {"user": 0.5, "tool": 0.4}


def dump(data: Path, out: Path) -> None:
    from injection_data import SETS, dedup
    from injection_pasted_probes import ATTACKS, BENIGN, HELDOUT_ATTACKS, HELDOUT_BENIGN

    from seawall.guard.injection import heuristic_score

    res: dict[str, dict] = {}

    def add(name: str, label: int, role: str, texts: list[str]) -> None:
        res[name] = {"label": label, "role": role, "texts": texts, "scores": [heuristic_score(t, role) for t in texts]}

    for s in SETS:
        try:
            texts = dedup(s.load(data))
        except FileNotFoundError:
            print(f"missing: {s.name}", file=sys.stderr)
            continue
        add(s.name, s.label, s.role, texts)
        if s.role == "tool":  # the same material pasted into a user message
            add("wrapped: " + s.name, s.label, "user", [WRAP.format(t) for t in texts])
    add("probes: pasted attacks", 1, "user", ATTACKS)
    add("probes: pasted benign", 0, "user", BENIGN)
    add("held-out probes: pasted attacks", 1, "user", HELDOUT_ATTACKS)
    add("held-out probes: pasted benign", 0, "user", HELDOUT_BENIGN)
    out.write_text(json.dumps(res))


def summary(res: dict) -> None:
    for name, r in res.items():
        sc, role = r["scores"], r["role"]
        n = len(sc)
        b = sum(x >= BLOCK[role] for x in sc)
        f = sum(FLAG[role] <= x < BLOCK[role] for x in sc)
        kind = "recall" if r["label"] else "false"
        print(f"| {name} | {role} | {n} | {kind} block {b} ({100 * b / max(n, 1):.1f} %) | flag only {f} ({100 * f / max(n, 1):.1f} %) |")


def diff(a: dict, b: dict) -> None:
    moved = total = 0  # any score that moved, verdict or not (a pure refactor must give 0)
    for name, ra in a.items():
        rb = b.get(name)
        if rb is None:
            continue
        total += len(ra["scores"])
        moved += sum(x != y for x, y in zip(ra["scores"], rb["scores"]))
        role = ra["role"]
        changed = [(t, x, y) for t, x, y in zip(ra["texts"], ra["scores"], rb["scores"])
                   if (x >= BLOCK[role]) != (y >= BLOCK[role]) or (x >= FLAG[role]) != (y >= FLAG[role])]
        if changed:
            print(f"## {name}: {len(changed)} verdicts changed")
            for t, x, y in changed:
                print(f"  {x:.2f} -> {y:.2f}  {t[:160]!r}")
    print(f"{moved} of {total} per-text scores changed")


async def _guard_probes(classifier: bool) -> None:
    from injection_pasted_probes import ATTACKS, BENIGN, HELDOUT_ATTACKS, HELDOUT_BENIGN

    from seawall.guard import Guard, GuardPolicy

    guard, policy = Guard(), GuardPolicy(injection_classifier=classifier)
    for name, texts in (("attacks", ATTACKS), ("benign", BENIGN), ("held-out attacks", HELDOUT_ATTACKS),
                        ("held-out benign", HELDOUT_BENIGN)):
        blocked = flagged = 0
        for t in texts:
            d = await guard.check_input({"model": "m", "messages": [{"role": "user", "content": t}]}, policy)
            blocked += not d.allowed and "injection" in (d.reason or "")
            flagged += d.allowed and d.flagged
        what = "default policy" if classifier else "rules only, default bands"
        print(f"guard ({what}) {name}: {len(texts)} texts, blocked {blocked}, flagged only {flagged}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--diff", nargs=2, type=Path)
    ap.add_argument("--summary", type=Path)
    ap.add_argument("--guard", action="store_true")
    ap.add_argument("--classifier", action="store_true", help="with --guard: the default policy (the fast head flags)")
    a = ap.parse_args()
    if a.dump:
        dump(a.data, a.dump)
        summary(json.loads(a.dump.read_text()))
    if a.summary:
        summary(json.loads(a.summary.read_text()))
    if a.diff:
        diff(json.loads(a.diff[0].read_text()), json.loads(a.diff[1].read_text()))
    if a.guard:
        import asyncio

        asyncio.run(_guard_probes(a.classifier))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
