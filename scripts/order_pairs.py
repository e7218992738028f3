#!/usr/bin/env python
"""Word-order look-alike pairs for the semantic cache (PAWS-style), written to a scratch folder.

    python scripts/order_pairs.py [--data ../shared/data/semantic_cache] [--out /tmp/cache-order]

Two texts with the same words in another order: "flights from Boston to Denver" vs "flights
from Denver to Boston" asks something else (label 0, a false hit if served), "Boston and
Denver weather" vs "Denver and Boston weather" does not (label 1). Writes, one JSON object a
line ({"a", "b", "label", "kind", "src"}):

- templates.jsonl: pairs made from templates written for this project (entities, relations:
  from/to, than, X bought Y, X beat Y, per, before/after, convert A to B ...), plus
  meaning-preserving reorders (coordination, fronted clauses, passives, "to Y from X").
- derived.jsonl: pairs made by swapping two words of real questions and sentences (banking77,
  clinc150, STS, MRPC, read in place) around a relational word ("from X to Y", "X than Y",
  "convert X to Y", two names around "beat"/"bought"/...), and meaning-preserving reorders of
  them ("X and Y" swapped, "can you tell me" moved to the end).

Both are a tuning set for the verifier's order rule: report them as such, not as held out.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CITIES = ["New York", "Florida", "Boston", "Chicago", "Denver", "Seattle", "Paris", "London", "Berlin", "Madrid",
          "Tokyo", "Dallas", "Toronto", "Rome", "Miami", "Atlanta"]
COMPANIES = ["Apple", "Beats", "Google", "Microsoft", "Amazon", "Oracle", "Intel", "Nokia", "Disney", "Adobe"]
TEAMS = ["the Lakers", "the Celtics", "Arsenal", "Chelsea", "the Yankees", "the Red Sox", "Barcelona", "Real Madrid"]
PEOPLE = ["Alice", "Bob", "Maria", "John", "Priya", "Tom", "Chen", "Sara"]
ANIMALS = ["lion", "tiger", "bear", "gorilla", "wolf", "shark", "crocodile", "eagle"]
CURRENCIES = ["euros", "dollars", "pounds", "yen", "rupees", "pesos"]
LANGS = ["English", "Spanish", "French", "German", "Italian", "Japanese"]
FORMATS = ["PDF", "Word", "Excel", "CSV", "JPEG", "PNG"]
ACCOUNTS = ["savings", "checking", "credit card", "brokerage"]

# (template with {x} {y}, pool): swapping x and y changes what is asked
ASYMMETRIC = [
    ("flights from {x} to {y}", CITIES), ("How long is the flight from {x} to {y}?", CITIES),
    ("cheapest train from {x} to {y} tomorrow", CITIES), ("Is there a direct bus from {x} to {y}?", CITIES),
    ("How do I get from {x} to {y} by car?", CITIES), ("Is {x} bigger than {y}?", CITIES),
    ("Is {x} north of {y}?", CITIES), ("directions from {x} to {y}", CITIES),
    ("Is a {x} stronger than a {y}?", ANIMALS), ("Can a {x} beat a {y} in a fight?", ANIMALS),
    ("Did {x} buy {y}?", COMPANIES), ("When did {x} acquire {y}?", COMPANIES), ("Why did {x} sue {y}?", COMPANIES),
    ("Is {x} worth more than {y}?", COMPANIES), ("How much did {x} pay for {y}?", COMPANIES),
    ("Did {x} beat {y} last season?", TEAMS), ("How many times have {x} beaten {y}?", TEAMS),
    ("Are {x} better than {y}?", TEAMS),
    ("convert {x} to {y}", CURRENCIES), ("What is the exchange rate from {x} to {y}?", CURRENCIES),
    ("How many {x} do I get for 100 {y}?", CURRENCIES),
    ("translate this sentence from {x} to {y}", LANGS), ("Is {x} harder to learn than {y}?", LANGS),
    ("How do I convert a {x} file to {y}?", FORMATS), ("export {x} to {y}", FORMATS),
    ("Move 200 dollars from my {x} account to my {y} account", ACCOUNTS),
    ("transfer money from {x} to {y}", ACCOUNTS),
    ("Did {x} send the invoice to {y}?", PEOPLE), ("Does {x} owe {y} money?", PEOPLE),
    ("Is {x} older than {y}?", PEOPLE), ("Did {x} call {y} yesterday?", PEOPLE),
    ("Should I eat before I {x}?", ["swim", "run", "sleep", "study"]),
]
# written one by one: units, rates, order of steps, and ones no rule of ours may see
ASYMMETRIC_PAIRS = [
    ("How many miles per gallon?", "How many gallons per mile?"),
    ("dollars per euro today", "euros per dollar today"),
    ("How many cups are in a gallon?", "How many gallons are in a cup?"),
    ("Is a square a rectangle?", "Is a rectangle a square?"),
    ("Should I wash my hair before I shave?", "Should I shave before I wash my hair?"),
    ("Do I apply serum before moisturizer?", "Do I apply moisturizer before serum?"),
    ("What time is it in Tokyo when it is noon in London?", "What time is it in London when it is noon in Tokyo?"),
    ("Why is the dog chasing the cat?", "Why is the cat chasing the dog?"),
    ("Can I transfer money from my card to my account?", "Can I transfer money from my account to my card?"),
    ("send money from my account to your account", "send money from your account to my account"),
    ("Can a US citizen work in Canada?", "Can a Canadian citizen work in the US?"),
    ("Who taught Plato?", "Who did Plato teach?"),
    ("What comes after Tuesday?", "What comes before Tuesday?"),
    ("Does Python run faster than Java?", "Does Java run faster than Python?"),
    ("Is coffee worse for you than tea?", "Is tea worse for you than coffee?"),
    ("Do cats eat mice?", "Do mice eat cats?"),
    ("Why did the employee fire the manager?", "Why did the manager fire the employee?"),
    ("Is 5 pm Eastern time 2 pm Pacific time?", "Is 5 pm Pacific time 2 pm Eastern time?"),
]
# meaning-preserving reorders (a miss here is a cost, not a safety issue)
SYMMETRIC = [
    ("{x} and {y} weather", CITIES), ("What is the difference between {x} and {y}?", LANGS),
    ("{x} vs {y}: which one should I learn first?", LANGS), ("Is {x} or {y} bigger?", CITIES),
    ("time difference between {x} and {y}", CITIES), ("Compare {x} and {y} stock", COMPANIES),
    ("Are {x} and {y} in the same time zone?", CITIES), ("What is the distance from {x} to {y}?", CITIES),
]
SYMMETRIC_PAIRS = [
    ("flights from Boston to Denver", "flights to Denver from Boston"),
    ("Send money to my savings account from my checking account",
     "Send money from my checking account to my savings account"),
    ("Can you tell me the exchange rate from euros to dollars?", "The exchange rate from euros to dollars, can you tell me?"),
    ("Can you tell me how to convert a PDF to Word?", "How to convert a PDF to Word, can you tell me?"),
    ("In Python, how do I sort a list?", "How do I sort a list in Python?"),
    ("Tomorrow, what is the weather in Paris?", "What is the weather in Paris tomorrow?"),
    ("Did Apple buy Beats?", "Was Beats bought by Apple?"),
    ("Did Google acquire YouTube?", "Was YouTube acquired by Google?"),
    ("Is Boston bigger than Denver?", "Is Denver smaller than Boston?"),
    ("Please convert 100 dollars to euros", "Convert 100 dollars to euros please"),
    ("How long does the flight from Paris to Rome take?", "From Paris to Rome, how long does the flight take?"),
    ("Which is stronger, a lion or a tiger?", "Which is stronger, a tiger or a lion?"),
    ("my card was declined at the store yesterday", "yesterday at the store my card was declined"),
    ("What should I do if my card is lost?", "If my card is lost, what should I do?"),
    ("Did Arsenal beat Chelsea?", "Did Chelsea lose to Arsenal?"),
    ("To get a refund, what do I do?", "What do I do to get a refund?"),
]


def templates(rng: random.Random) -> list[dict]:
    out = []
    # swaps that change the meaning (label 0), then reorders that keep it (label 1)
    for label, tpls, written in ((0, ASYMMETRIC, ASYMMETRIC_PAIRS), (1, SYMMETRIC, SYMMETRIC_PAIRS)):
        for tpl, pool in tpls:
            for x, y in rng.sample([(x, y) for x in pool for y in pool if x != y], 5):
                out.append({"a": _cap(tpl.format(x=x, y=y)), "b": _cap(tpl.format(x=y, y=x)), "label": label,
                            "kind": "template", "src": tpl})
        for a, b in written:
            out.append({"a": a, "b": b, "label": label, "kind": "template", "src": "written"})
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# --- derived from the data sets --------------------------------------------------------------

def texts(root: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    b = root / "banking77"
    if b.is_dir():
        out["banking77"] = [r[0] for f in ("train.csv", "test.csv") for r in csv.reader(open(b / f))][1:]
    c = root / "clinc150" / "data_full.json"
    if c.is_file():
        d = json.load(open(c))
        out["clinc150"] = [t for k, rows in d.items() for t, _ in rows]
    s = root / "semeval_sts"
    if s.is_dir():
        out["sts"] = [p for f in sorted(s.rglob("*")) if f.is_file() and not f.name.startswith(("README", "LICENSE"))
                      for line in open(f, encoding="utf-8", errors="replace")
                      for p in line.rstrip("\n").split("\t")[1:3] if len(line.split("\t")) >= 3]
    m = root / "mrpc"
    if m.is_dir():
        out["mrpc"] = [p for f in sorted(m.glob("*.tsv")) for line in list(open(f, encoding="utf-8-sig"))[1:]
                       for p in line.rstrip("\n").split("\t")[3:5]]
    return out


_SWAP_WORDS = frozenset(w.lower() for w in CURRENCIES + LANGS + FORMATS) | frozenset(
    "usd eur gbp euro dollar pound savings checking account card wallet bank paypal celsius fahrenheit miles "
    "kilometers km meters feet inches pounds kilograms kg ounces grams cups liters gallons".split())
_NAME = r"(?:[A-Z][a-z]+|[A-Z]{2,5})(?: [A-Z][a-z]+)?"
_NOUN = r"[A-Za-z]{3,}"
# (pattern, group names to swap); each swap changes what is asked or said
_RULES = [
    re.compile(rf"\bfrom (?:my |the |a )?(?P<x>{_NOUN}) to (?:my |the |a )?(?P<y>{_NOUN})\b"),
    re.compile(rf"\b(?P<x>{_NOUN}) (?:to|into) (?P<y>{_NOUN})\b"),
    re.compile(rf"\b(?P<x>{_NAME}) (?:beat|beats|defeated|bought|acquired|sued|paid|sent|told|called|"
               rf"hired|fired|replaced|attacked|invaded|criticized|succeeded) (?P<y>{_NAME})\b"),
    re.compile(rf"\b(?P<x>{_NAME}) (?:is|are|was|were) (?:\w+er|more \w+|less \w+) than (?P<y>{_NAME})\b"),
]
_AND = re.compile(rf"\b(?P<x>{_NAME}|{_NOUN}) and (?P<y>{_NAME}|{_NOUN})\b")
_DAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday gov mr mrs ms dr sen rep he she it we they i "
                  "the a an this that".split())


def _whole(t: str, m: re.Match) -> bool:
    """x and y are whole names or words: no capitalised word or initial right before x or
    right after y ("Joseph P Kennedy", "Gov. Jeb Bush"), no day names or titles."""
    before, after = t[:m.start("x")].rstrip(), t[m.end("y"):]
    if before and re.search(r"(?:\b[A-Z][\w.]*|[A-Z]\.)$", before):
        return False
    if re.match(r"(?:'|’|\.\w| [A-Z]|\.? [A-Z]\.)", after):
        return False
    return m.group("x").lower() not in _DAYS and m.group("y").lower() not in _DAYS
_STOP = frozenset("the and for with from into that this what how can you your my our have has was were will "
                  "would could should when where which there their them they then than been being".split())


def _swap(text: str, m: re.Match) -> str:
    x, y = m.group("x"), m.group("y")
    seg = text[m.start():m.end()]
    seg = seg[:m.start("x") - m.start()] + y + seg[m.end("x") - m.start():m.start("y") - m.start()] + x + \
        seg[m.end("y") - m.start():]
    return text[:m.start()] + seg + text[m.end():]


def derived(corpora: dict[str, list[str]], rng: random.Random, per_set: int = 40) -> list[dict]:
    out = []
    for name, ts in corpora.items():
        ts = sorted(set(t.strip() for t in ts if 3 <= len(t.split()) <= 40))
        rng.shuffle(ts)
        neg, pos = [], []
        for t in ts:
            for i, rule in enumerate(_RULES):
                m = rule.search(t)
                if not m:
                    continue
                x, y = m.group("x"), m.group("y")
                if x.lower() == y.lower() or x.lower() in _STOP or y.lower() in _STOP or not _whole(t, m):
                    continue
                # a noun around "to" must be one whose swap reads (currencies, formats, accounts ...)
                if i == 1 and not (x.lower() in _SWAP_WORDS and y.lower() in _SWAP_WORDS):
                    continue
                if i == 0 and not (x.lower() in _SWAP_WORDS | _names(t) and y.lower() in _SWAP_WORDS | _names(t)):
                    continue
                neg.append({"a": t, "b": _swap(t, m), "label": 0, "kind": "derived", "src": f"{name}:rule{i}"})
                break
            m = _AND.search(t)
            # two names, or two of the nouns whose swap reads ("Visa and MasterCard", "USD and EUR")
            if m and _whole(t, m) and "between" not in t.lower() and all(
                    m.group(g)[0].isupper() and m.start(g) > 0 or m.group(g).lower() in _SWAP_WORDS for g in "xy"):
                pos.append({"a": t, "b": _swap(t, m), "label": 1, "kind": "derived", "src": f"{name}:and"})
            lo = t.lower()
            for lead in ("can you tell me ", "could you tell me ", "please "):
                if lo.startswith(lead) and len(t) > len(lead) + 10:
                    rest = t[len(lead):].rstrip("?.! ")
                    pos.append({"a": t, "b": f"{rest[:1].upper()}{rest[1:]}, {lead.strip()}?", "label": 1,
                                "kind": "derived", "src": f"{name}:fronted"})
        out += neg[:per_set] + pos[:per_set // 2]
    return out


def _names(t: str) -> set[str]:
    return {w.lower() for w in re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", t)}


def main() -> None:
    ap = argparse.ArgumentParser()
    # ../shared/data beside the repository (or beside the directory of worktrees)
    data = next((d for d in (HERE.parent / "shared", HERE.parent.parent / "shared") if d.is_dir()), HERE.parent)
    ap.add_argument("--data", default=str(data / "data" / "semantic_cache"))
    ap.add_argument("--out", default="/tmp/cache-order")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for fname, rows in (("templates.jsonl", templates(rng)), ("derived.jsonl", derived(texts(Path(args.data)), rng))):
        with open(out / fname, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        n0 = sum(r["label"] == 0 for r in rows)
        print(f"{fname}: {len(rows)} pairs ({n0} swaps that change meaning, {len(rows) - n0} that do not)")


if __name__ == "__main__":
    main()
