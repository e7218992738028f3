#!/usr/bin/env python3
"""PII evaluation over every PII set in ../shared/data (read in place, never copied).

Per set (and split / lane):

* **recall per gold type**: a gold span counts as found when a span of the guard's default
  PII detection (FastPII, the always-on path) overlaps it, whatever kind it was given;
* **precision per predicted kind**: a predicted span is right when it overlaps any gold span;
* **places and dates, typed**: the place / date gold labels (GPE, LOC, TERRITORIO, FECHAS, ...)
  also counted only when a LOCATION (or street address) / DATE_TIME (or date of birth) span overlaps;
* **Polish look-alike negatives**: how many of the declared decoys a predicted span touches,
  and the precision over the negative documents (every prediction there is a false positive);
* **kept back, end to end**: each document goes through the real ``Guard.check_input`` with
  the default ``GuardPolicy`` as one user message; a gold string is kept back when it no
  longer occurs in the forwarded text (a blocked request forwards nothing).

Tuning vs held out (the recognizers, lists and thresholds were written looking only at the
tuning sets): presidio-research; MEDDOCAN train; pl-pii-bench core / identifiers / address /
pdf / negative lanes. Held out: MEDDOCAN test, pl-pii-bench robustness lane and inflection
sentences, LifeBench (all of it).

    HF_HUB_OFFLINE=1 python scripts/pii_eval.py [--data ../shared/data] [--limit N] [--no-e2e]
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import gzip
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# gold label -> group used for the goals (structured ids >= 0.95, names >= 0.7)
STRUCTURED = {
    "CREDIT_CARD", "IBAN_CODE", "US_SSN", "PHONE_NUMBER", "EMAIL_ADDRESS", "IP_ADDRESS", "US_DRIVER_LICENSE",
    "PESEL", "NIP", "REGON", "DOWOD", "PASSPORT", "DRIVING_LICENSE", "IBAN", "PAYMENT_CARD", "VIN", "PHONE", "EMAIL",
    "ID_SUJETO_ASISTENCIA", "ID_ASEGURAMIENTO", "ID_TITULACION_PERSONAL_SANITARIO", "ID_CONTACTO_ASISTENCIAL",
    "CORREO_ELECTRONICO", "NUMERO_TELEFONO", "NUMERO_FAX",
}
# LifeBench's silver "ID" mixes personal IDs with order / flight / reservation numbers, which the
# guard must *not* mask (issue 14): reported in its table, kept out of the structured-ID goal.
NAMES = {"PERSON", "NOMBRE_SUJETO_ASISTENCIA", "NOMBRE_PERSONAL_SANITARIO"}
ADDRESSES = {"STREET_ADDRESS", "CALLE"}
PROTECTED = STRUCTURED | NAMES | ADDRESSES  # what the default policy is meant to keep back
# places and dates are reported but allowed by default (pii_places.py); their groups are also
# scored *typed*: a gold span counts only when a span of the matching kind overlaps it
PLACES = {"GPE", "LOCATION", "LOC", "TERRITORIO", "PAIS"}
DATES = {"DATE_TIME", "FECHAS", "DOB"}
TYPED = {**{k: {"LOCATION", "STREET_ADDRESS"} for k in PLACES}, **{k: {"DATE_TIME", "DATE_OF_BIRTH"} for k in DATES}}


SHOW_MISSES: set[str] = set()


class Doc:
    __slots__ = ("text", "gold", "decoys")

    def __init__(self, text, gold, decoys=()):
        self.text, self.gold, self.decoys = text, gold, list(decoys)


def load_presidio(data: Path):
    rows = json.loads((data / "pii/presidio-research/synth_dataset_v2.json").read_text(encoding="utf-8"))
    docs = [Doc(r["full_text"], [(s["entity_type"], s["start_position"], s["end_position"]) for s in r["spans"]]) for r in rows]
    return [("presidio-research", "tuning", docs)]


def load_meddocan(data: Path):
    out = []
    for split, role in (("train", "tuning"), ("test", "held out")):
        docs = []
        for txt in sorted(glob.glob(str(data / f"pii/meddocan/{split}/brat/*.txt"))):
            text = Path(txt).read_text(encoding="utf-8")
            gold = []
            for line in Path(txt[:-4] + ".ann").read_text(encoding="utf-8").splitlines():
                if not line.startswith("T"):
                    continue
                label, s, e = line.split("\t")[1].split(" ")[:3]
                gold.append((label, int(s), int(e)))
            docs.append(Doc(text, gold))
        out.append((f"meddocan/{split}", role, docs))
    return out


def load_pl(data: Path):
    base = data / "pii/pl_pii_bench/corpus"
    out = []
    for lane in ("core", "identifiers", "address", "pdf", "negative", "robustness"):
        docs = []
        for f in sorted(glob.glob(str(base / lane / "*.json"))):
            d = json.loads(Path(f).read_text(encoding="utf-8"))
            docs.append(Doc(d["text"], [(e["label"], e["start"], e["end"]) for e in d.get("entities", [])], d.get("decoys") or []))
        out.append((f"pl-pii-bench/{lane}", "held out" if lane == "robustness" else "tuning", docs))
    docs = []
    for line in (base / "inflection/inflection.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        docs.append(Doc(r["text"], [(r["label"], r["start"], r["end"])]))
    out.append(("pl-pii-bench/inflection", "held out", docs))
    return out


def load_lifebench(data: Path):
    docs = []
    for f in sorted(glob.glob(str(data / "pii/lifebench_pii/data/*.jsonl.gz"))):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                docs.append(Doc(r["data_to_answer"], [(s["type"], s["start"], s["end"]) for s in r["pii_spans"]]))
    return [("lifebench", "held out", docs)]


def _allowed(kind: str) -> bool:
    from seawall.guard.policy import DEFAULT_PII_ACTIONS

    return DEFAULT_PII_ACTIONS.get(kind, "allow") == "allow"


def _overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


def evaluate(name, role, docs, fast, guard, policy, e2e: bool) -> dict:
    from seawall.guard import GuardPolicy  # noqa: F401  (imported for the reader: the default policy)

    gold_n, gold_hit, typed_hit = Counter(), Counter(), Counter()
    pred_n, pred_ok = Counter(), Counter()
    kept_n, kept = Counter(), Counter()
    decoys_n = decoys_hit = decoys_allowed = 0
    blocked = 0
    fp_examples: dict[str, list[str]] = defaultdict(list)
    t_detect = 0.0
    chars = 0
    for doc in docs:
        t0 = time.perf_counter()
        spans = fast.analyze(doc.text)
        t_detect += time.perf_counter() - t0
        chars += len(doc.text)
        for label, s, e in doc.gold:
            gold_n[label] += 1
            if any(_overlaps(s, e, p.start, p.end) for p in spans):
                gold_hit[label] += 1
                if label in TYPED and any(p.kind in TYPED[label] and _overlaps(s, e, p.start, p.end) for p in spans):
                    typed_hit[label] += 1
            elif label in SHOW_MISSES:
                print(f"  miss {name} {label}: {doc.text[max(0, s - 40):s]!r} [[{doc.text[s:e]!r}]] {doc.text[e:e + 20]!r}")
        for p in spans:
            pred_n[p.kind] += 1
            if any(_overlaps(s, e, p.start, p.end) for _, s, e in doc.gold):
                pred_ok[p.kind] += 1
            elif len(fp_examples[p.kind]) < 3:
                fp_examples[p.kind].append(doc.text[p.start : p.end])
        for decoy in doc.decoys:
            i = doc.text.find(decoy)
            if i < 0:
                continue
            decoys_n += 1
            if any(_overlaps(i, i + len(decoy), p.start, p.end) for p in spans):
                decoys_hit += 1
                # a decoy that is a plain date is rightly reported as DATE_TIME, which is allowed
                if all(_allowed(p.kind) for p in spans if _overlaps(i, i + len(decoy), p.start, p.end)):
                    decoys_allowed += 1
        if e2e:
            req = {"model": "m", "messages": [{"role": "user", "content": doc.text}]}
            dec = asyncio.run(guard.check_input(req, policy))
            forwarded = "" if not dec.allowed else dec.request["messages"][0]["content"]
            blocked += not dec.allowed
            for label, s, e in doc.gold:
                kept_n[label] += 1
                if doc.text[s:e] not in forwarded:
                    kept[label] += 1
    return dict(name=name, role=role, docs=len(docs), gold_n=gold_n, gold_hit=gold_hit, typed_hit=typed_hit, pred_n=pred_n, pred_ok=pred_ok,
                kept_n=kept_n, kept=kept, decoys_n=decoys_n, decoys_hit=decoys_hit, decoys_allowed=decoys_allowed, blocked=blocked,
                fp=fp_examples, ms_per_kb=1000 * t_detect / max(1, chars / 1024))


def _ratio(a, b) -> str:
    return f"{a / b:.3f}" if b else "–"


def report(r: dict) -> None:
    print(f"\n### {r['name']} ({r['role']}; {r['docs']} documents; detection {r['ms_per_kb']:.2f} ms/KB)\n")
    g, h = r["gold_n"], r["gold_hit"]
    groups = {"structured ids": STRUCTURED, "names": NAMES, "street addresses": ADDRESSES}
    for gname, members in groups.items():
        n = sum(g[k] for k in members)
        if n:
            print(f"- recall, {gname}: {_ratio(sum(h[k] for k in members), n)} (n={n})")
    for gname, members in (("places", PLACES), ("dates", DATES)):
        n = sum(g[k] for k in members)
        if n:
            print(f"- recall, {gname}: {_ratio(sum(h[k] for k in members), n)}, typed "
                  f"({' / '.join(sorted(TYPED[next(iter(members))]))}): {_ratio(sum(r['typed_hit'][k] for k in members), n)} (n={n})")
    pn, po = r["pred_n"], r["pred_ok"]
    if pn["PERSON"]:
        print(f"- precision, PERSON predictions: {_ratio(po['PERSON'], pn['PERSON'])} (n={pn['PERSON']})")
    if r["decoys_n"]:
        print(f"- look-alike decoys flagged: {r['decoys_hit']} / {r['decoys_n']} (precision on them: "
              f"{_ratio(r['decoys_n'] - r['decoys_hit'], r['decoys_n'])} of decoys left alone; "
              f"{r['decoys_allowed']} of the flagged only by kinds the default policy allows)")
    kn, kk = r["kept_n"], r["kept"]
    if kn:
        n = sum(kn[k] for k in PROTECTED)
        print(f"- kept back end to end (default policy), protected types: {_ratio(sum(kk[k] for k in PROTECTED), n)} "
              f"(n={n}); all gold types: {_ratio(sum(kk.values()), sum(kn.values()))}; requests blocked: {r['blocked']}")
    print("\n| gold type | n | recall | kept back e2e |\n|---|---:|---:|---:|")
    for k in sorted(g, key=lambda k: -g[k]):
        print(f"| {k}{' *' if k in PROTECTED else ''} | {g[k]} | {_ratio(h[k], g[k])} | {_ratio(kk[k], kn[k]) if kn else '–'} |")
    print("\n| predicted kind | n | precision | false-positive examples |\n|---|---:|---:|---|")
    for k in sorted(pn, key=lambda k: -pn[k]):
        ex = "; ".join(repr(x)[:40] for x in r["fp"].get(k, []))
        print(f"| {k} | {pn[k]} | {_ratio(po[k], pn[k])} | {ex} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    # ../shared/data next to the repo (a git worktree one level deeper finds it too)
    default = next((p for p in (ROOT.parent / "shared/data", ROOT.parent.parent / "shared/data") if p.is_dir()), ROOT.parent / "shared/data")
    ap.add_argument("--data", default=str(default))
    ap.add_argument("--limit", type=int, default=0, help="at most N documents per set (quick runs)")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end Guard.check_input run")
    ap.add_argument("--sets", default="presidio,meddocan,pl,lifebench")
    ap.add_argument("--misses", default="", help="comma-separated gold labels whose misses are printed (debugging)")
    args = ap.parse_args()
    SHOW_MISSES.update(x for x in args.misses.split(",") if x)
    data = Path(args.data)
    if not (data / "pii").is_dir():
        sys.exit(f"no PII data under {data}/pii: nothing to evaluate (the sets live outside the repo)")
    from seawall.guard import Guard, GuardPolicy
    from seawall.guard.pii import FastPII

    fast, guard, policy = FastPII(), Guard(), GuardPolicy()
    loaders = {"presidio": load_presidio, "meddocan": load_meddocan, "pl": load_pl, "lifebench": load_lifebench}
    print(f"# pii_eval {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC — {platform.machine()}, "
          f"{os.cpu_count()} CPU, Python {platform.python_version()}; command: {' '.join(sys.argv)}")
    for key in args.sets.split(","):
        for name, role, docs in loaders[key](data):
            if args.limit:
                docs = docs[: args.limit]
            report(evaluate(name, role, docs, fast, guard, policy, not args.no_e2e))


if __name__ == "__main__":
    main()
