#!/usr/bin/env python3
"""Rules-only check of the injection guard on every set of ``injection_data.SETS`` (seconds).

At the shipped bands the classifier is capped below the block band, so what is *blocked* is
decided by the rules alone (``heuristic_score``); this script measures exactly that, per set,
and the share the rules alone put in the flag band. It is how the jailbreak rules
(``guard/injection_jailbreak.py``) and the hijack / extraction rules (``guard/injection_hijack.py``)
were tuned: ``--show`` prints misses and hits of a *tuning* set only (jackhhao's train split, the
Tensor Trust train half and the benign sets); the held-out attack sets (jackhhao's test split,
the Tensor Trust eval half, CyberSecEval direct) are only counted, never printed.

    PYTHONPATH=src python scripts/injection_jailbreak_eval.py [--json OUT] [--compare BEFORE.json]
        [--show "jackhhao jailbreak (train)" --misses]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from injection_data import SETS, dedup  # noqa: E402

# The Tensor Trust train half was held out for the jailbreak rules; it is the tuning set of the
# hijack / extraction rules (``guard/injection_hijack.py``), so it may be printed now.
HELD_OUT = ("jackhhao jailbreak (test)", "tensor trust (eval half)",
            "cyberseceval direct (en)", "cyberseceval direct (17 languages)")


def main() -> int:
    from train_injection import default_data_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--json", type=Path, help="write per-set results here")
    ap.add_argument("--compare", type=Path, help="a --json file of an earlier run: print before / after")
    ap.add_argument("--show", help="print this tuning set's blocked texts (or misses with --misses)")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--chars", type=int, default=300)
    args = ap.parse_args()
    if args.show in HELD_OUT:
        print(f"{args.show} is held out: counted, never printed", file=sys.stderr)
        return 2
    if not (args.data / "prompt_injection").exists():
        print(f"injection data not found at {args.data}/prompt_injection: skipped", file=sys.stderr)
        return 0
    from seawall.guard.config import GATEWAY_DEFAULTS as pol
    from seawall.guard.injection import heuristic_score

    band = {"user": pol.injection_user, "tool": pol.injection_tool}
    res: dict[str, dict] = {}
    for s in SETS:
        texts = dedup(s.load(args.data))
        h = [heuristic_score(t, s.role) for t in texts]
        b, f = band[s.role].block, band[s.role].flag
        res[s.name] = {"n": len(texts), "label": s.label, "held_out": s.name in HELD_OUT,
                       "blocked": sum(x >= b for x in h) / max(len(h), 1),
                       "flag+": sum(x >= f for x in h) / max(len(h), 1)}
        if s.name == args.show:
            for t, x in zip(texts, h):
                if (x < b) if args.misses else (x >= b):
                    print(f"--- {x:.2f} {' '.join(t.split())[:args.chars]}")
    before = json.loads(args.compare.read_text()) if args.compare else {}
    print(f"{'set':40s} {'n':>5s} {'held':>4s} {'blocked':>8s} {'flag+':>6s}" + ("   before: blocked / flag+" if before else ""))
    for k, v in res.items():
        line = f"{k:40s} {v['n']:5d} {'yes' if v['held_out'] else '':>4s} {v['blocked']:8.3f} {v['flag+']:6.3f}"
        if k in before:
            line += f"   {before[k]['blocked']:.3f} / {before[k]['flag+']:.3f}"
        print(line)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
