"""Look-alike question pairs from ../shared/data/semantic_cache, per dataset and split.

A pair is (cached prompt a, new prompt b, label): 1 = a duplicate that may be served a's
answer, 0 = a look-alike that asks something else (a false hit if served). Splits: the
datasets' own train / dev / test; only test splits are ever reported.

- sts: SemEval STS, score >= 4 duplicate, <= 2 different; train 2012+2013, dev 2014, test 2015+2016.
- mrpc: label as given; train / val / test.
- twitter: Twitter URL corpus; train 6,000 sampled pairs of the train file (dev: 1,500 more);
  test = the test file, >= 4 of 6 votes duplicate, <= 2 not.
- sick: ENTAILMENT with relatedness >= 4.5 duplicate (near-paraphrases), CONTRADICTION not
  (negation and antonym swaps); train / trial / test.
- banking77, clinc150: intent sets. For each question, its nearest other question of the same
  intent is a duplicate pair, its nearest question of another intent a sibling pair (not). The
  nearest is by the 6-layer MiniLM cosine, as a cache would meet them. clinc150 uses its own
  train / val / test; banking77 splits its train file 85/15 into train/dev and keeps test.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Callable

import numpy as np

Pair = tuple[str, str, int]
DATASETS = ("sts", "mrpc", "twitter", "sick", "banking77", "clinc150")


def _sts(path: Path) -> list[Pair]:
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        p = line.rstrip("\n").split("\t")
        if len(p) < 3 or not p[0].strip():
            continue
        try:
            s = float(p[0])
        except ValueError:
            continue
        if s >= 4.0:
            out.append((p[1], p[2], 1))
        elif s <= 2.0:
            out.append((p[1], p[2], 0))
    return out


def _mrpc(path: Path) -> list[Pair]:
    out = []
    with open(path, encoding="utf-8-sig") as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 5 and p[0] in ("0", "1"):
                out.append((p[3], p[4], int(p[0])))
    return out


def _sick(path: Path) -> list[Pair]:
    out = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            if p[4] == "CONTRADICTION":
                out.append((p[1], p[2], 0))
            elif p[4] == "ENTAILMENT" and float(p[3]) >= 4.5:
                out.append((p[1], p[2], 1))
    return out


def _twitter_test(path: Path) -> list[Pair]:
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        p = line.rstrip("\n").split("\t")
        if len(p) < 3:
            continue
        n = int(p[2].strip("()").split(",")[0])
        if n >= 4:
            out.append((p[0].strip(), p[1].strip(), 1))
        elif n <= 2:
            out.append((p[0].strip(), p[1].strip(), 0))
    return out


def _twitter_train(d: Path) -> tuple[list[Pair], list[Pair]]:
    a = open(d / "a.toks", encoding="utf-8").read().splitlines()
    b = open(d / "b.toks", encoding="utf-8").read().splitlines()
    s = open(d / "sim.txt", encoding="utf-8").read().splitlines()
    pairs = [(x, y, int(z)) for x, y, z in zip(a, b, s) if z.strip() in ("0", "1")]
    random.Random(14).shuffle(pairs)
    return pairs[:6000], pairs[6000:7500]


def _intent_pairs(texts: list[str], labels: list[str], embed: Callable[[list[str]], np.ndarray]) -> list[Pair]:
    if len(texts) > 5000:  # the similarity matrix is n^2: a fixed sample of 5,000 questions
        keep = sorted(random.Random(150).sample(range(len(texts)), 5000))
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    v = embed(texts)
    sim = v @ v.T
    np.fill_diagonal(sim, -2.0)
    lab = np.array(labels)
    same = lab[:, None] == lab[None, :]
    out, seen = [], set()
    for i in range(len(texts)):
        for mask, y in ((same[i], 1), (~same[i], 0)):
            row = np.where(mask, sim[i], -2.0)
            j = int(row.argmax())
            if row[j] <= -2.0 or (min(i, j), max(i, j), y) in seen or texts[i].lower() == texts[j].lower():
                continue
            seen.add((min(i, j), max(i, j), y))
            out.append((texts[j], texts[i], y))
    return out


def load(root: Path, embed: Callable[[list[str]], np.ndarray]) -> dict[str, dict[str, list[Pair]]]:
    """{dataset: {"train"|"dev"|"test": pairs}}. ``embed`` (6-layer MiniLM) picks intent neighbours."""
    r = root
    sts = r / "semeval_sts"
    data: dict[str, dict[str, list[Pair]]] = {}
    data["sts"] = {
        "train": [x for y in ("2012", "2013") for f in sorted((sts / y).glob("*.tsv")) for x in _sts(f)],
        "dev": [x for f in sorted((sts / "2014").glob("*.tsv")) for x in _sts(f)],
        "test": [x for y in ("2015", "2016") for f in sorted((sts / y).glob("*.tsv")) for x in _sts(f)],
    }
    m = r / "mrpc"
    data["mrpc"] = {k: _mrpc(m / f"msr-para-{f}.tsv") for k, f in (("train", "train"), ("dev", "val"), ("test", "test"))}
    tw = r / "twitter_url_corpus"
    tr, dv = _twitter_train(tw / "train")
    data["twitter"] = {"train": tr, "dev": dv, "test": _twitter_test(tw / "Twitter_URL_Corpus_testNew.larger.txt")}
    s = r / "sick"
    data["sick"] = {"train": _sick(s / "SICK_train.txt"), "dev": _sick(s / "SICK_trial.txt"),
                    "test": _sick(s / "SICK_test_annotated.txt")}

    def rows(path: Path) -> list[tuple[str, str]]:
        with open(path, encoding="utf-8") as f:
            return [(row["text"], row["category"]) for row in csv.DictReader(f)]

    b = r / "banking77"
    btrain = rows(b / "train.csv")
    random.Random(77).shuffle(btrain)
    cut = int(len(btrain) * 0.85)
    data["banking77"] = {k: _intent_pairs([t for t, _ in part], [c for _, c in part], embed)
                         for k, part in (("train", btrain[:cut]), ("dev", btrain[cut:]), ("test", rows(b / "test.csv")))}
    c = json.load(open(r / "clinc150" / "data_full.json", encoding="utf-8"))
    data["clinc150"] = {k: _intent_pairs([t for t, _ in c[src]], [i for _, i in c[src]], embed)
                        for k, src in (("train", "train"), ("dev", "val"), ("test", "test"))}
    return data
