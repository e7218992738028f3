#!/usr/bin/env python3
"""Train the prompt-injection classifier heads: logistic regression over MiniLM embeddings.

v4 (``main`` below) retrains the *fast* head only, on every set the project may train on
(scripts/injection_data.py, ``trainable``) plus the v3 everyday texts, with each dataset
weighing the same within its class, and measures it leave-one-group-out (``GROUPS``: a set
and its translations are held out together); ``--heldout-only`` writes those held-out scores
for scripts/injection_eval.py without touching the heads. The *full* head keeps its v3
weights (``fit_head`` / ``embed_texts`` are the v3 code for it; scripts/injection_full_heldout.py
measures a retrained one held out: no better). The v3 description follows.

Data (read from ../shared/data at training time, never copied into the repo):
  * jackhhao/llm-warden train split: benign (0) and jailbreak (1) prompts;
  * Tensor Trust hijacking + extraction attacks (1): the half whose sample_id hashes to
    "train" (see ``tt_split``); the other half is kept for evaluation by guard_eval.py;
  * everyday benign text (0), added in v3 because jackhhao's benign prompts are long
    role-play-style prompts and the heads had never seen a short ordinary message ("Hello",
    "ok", "Explain quantum computing simply" scored ~1.0):
      - the queries of rag/cranfield (cran.qry) and rag/cisi (CISI.QRY): questions;
      - sentences of semantic_cache/semeval_sts (the files in ``SEMEVAL_FILES``: Europarl,
        news headlines, image captions, forum posts, tweets, StackExchange questions);
      - ``CHAT_PHRASES`` below: short chat messages written by the Seawall developers for
        this purpose (greetings, thanks, yes/no, short task requests in a few languages).
    Each of these is split by a hash of its text (``benign_split``): ~25 % is held out for
    the false-positive evaluation in guard_eval.py and never trained on. MRPC sentences are
    *not* trained on (its licence allows evaluation only); guard_eval.py uses them as one
    more held-out everyday set. The semeval MSRpar/MSRvid files (MSR licence) are left out.

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
    StaticEmbedder,
    _windows,
)

VERSION = "4"
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


# semeval_sts files whose sentences are used as everyday benign text (both sentences of a pair)
SEMEVAL_FILES = (
    "2012/SMTeuroparl.train.tsv",
    "2014/headlines.test.tsv",
    "2015/headlines.test.tsv",
    "2015/images.test.tsv",
    "2014/deft-forum.test.tsv",
    "2014/tweet-news.test.tsv",
    "2016/question-question.test.tsv",
)
SEMEVAL_PER_FILE = 400  # sentences per file at most (a deterministic, hash-ordered sample)

# Short benign chat messages, written by hand for this training set (not from any dataset):
# what real users type into a chat box and what the v2 heads scored as attacks. A hash of
# each phrase decides whether it trains or is held out (benign_split).
CHAT_PHRASES = [
    # greetings / small talk
    "Hello", "hello", "Hello!", "Hi", "hi", "hi!", "Hi there", "Hey", "hey there", "Hey, how are you?",
    "Good morning", "Good afternoon", "Good evening", "Good night", "How are you?", "How's it going?",
    "What's up?", "Nice to meet you", "Are you there?", "Anyone there?", "Hello, can you help me?",
    "Hi, I have a question", "yo", "sup", "Greetings", "Morning!", "Howdy",
    "Hallo", "Guten Morgen", "Guten Tag", "Wie geht's?", "Bonjour", "Bonsoir", "Salut", "Ça va ?",
    "Hola", "Buenos días", "¿Qué tal?", "Ciao", "Buongiorno", "Olá", "Bom dia", "Hoi", "Goedemorgen",
    "Hej", "God morgon", "Moi", "Hyvää huomenta", "Cześć", "Dzień dobry", "Merhaba", "Привет",
    "Здравствуйте", "こんにちは", "你好", "안녕하세요", "Namaste",
    # thanks / goodbye
    "Thanks", "Thanks!", "thanks", "thx", "Thank you", "Thank you!", "Thank you so much", "Thanks a lot",
    "Many thanks", "Cheers", "Great, thanks", "Perfect, thank you", "That helps, thanks", "Awesome",
    "Bye", "Goodbye", "See you", "See you later", "Have a nice day", "Danke", "Vielen Dank", "Danke schön",
    "Merci", "Merci beaucoup", "Gracias", "Muchas gracias", "Grazie", "Grazie mille", "Obrigado",
    "Dank je", "Tack", "Kiitos", "Dziękuję", "Спасибо", "ありがとう", "谢谢", "Tschüss", "Au revoir",
    "Adiós", "Arrivederci",
    # yes / no / acknowledgements
    "ok", "OK", "Ok.", "okay", "Okay!", "k", "yes", "Yes", "Yes please", "yep", "yeah", "sure", "Sure!",
    "no", "No", "No thanks", "nope", "maybe", "Not sure", "I don't know", "Got it", "Understood",
    "Sounds good", "Fine", "Alright", "Right", "Correct", "Exactly", "Agreed", "Done", "Next", "Continue",
    "Go on", "More", "Again", "Why?", "How?", "What?", "Really?", "Hmm", "lol", "Cool", "Nice", "Wow",
    "ja", "nein", "oui", "non", "sí", "vale", "d'accord", "genau", "claro", "va bene",
    # tests / meta
    "test", "Test", "testing", "test 123", "ping", "hello world", "Hello world", "asdf", "1", "2", "?", "...",
    # short task requests
    "Explain quantum computing simply", "Explain recursion", "Explain photosynthesis to a child",
    "What is machine learning?", "What's the weather in Paris?", "What time is it in Tokyo?",
    "Summarize this article", "Summarize the text below", "Translate this into French",
    "Translate to Spanish: good morning", "Fix the grammar in this sentence", "Make it shorter",
    "Rewrite this more formally", "Write a haiku about autumn", "Write a short poem about the sea",
    "Tell me a joke", "Give me a recipe for pancakes", "Suggest a name for my cat",
    "Help me write an email to my landlord", "Draft a polite reply declining the meeting",
    "Write a Python function that reverses a string", "How do I center a div in CSS?",
    "What does this error mean?", "Why is the sky blue?", "How far is the moon?",
    "Convert 5 miles to kilometers", "What is 15% of 80?", "Plan a 3-day trip to Rome",
    "Recommend a good book", "List the planets in order", "Who wrote Hamlet?",
    "What is the capital of Australia?", "How do I boil an egg?", "Give me three ideas for dinner",
    "Can you check my code?", "Explain the difference between TCP and UDP", "What is an API?",
    "Create a workout plan for beginners", "Compare Python and Java", "What's a good gift for my mom?",
    "Erkläre mir Photosynthese", "Wie spät ist es?", "Schreib eine kurze E-Mail an meinen Chef",
    "Übersetze das ins Englische", "Fasse diesen Text zusammen", "Explique-moi la relativité",
    "Quelle heure est-il ?", "Traduis ce texte en anglais", "Résume cet article", "Écris un poème sur la mer",
    "¿Qué tiempo hace hoy?", "Explícame qué es la inflación", "Traduce esto al inglés",
    "Escribe un correo para mi jefe", "Resume este texto", "Spiegami la fotosintesi",
    "Traduci in inglese", "Scrivi una poesia sull'estate", "Explique o que é blockchain",
    "Traduza para o inglês", "Leg uit wat een API is", "Vertaal dit naar het Engels",
]


def _h(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def benign_split(text: str) -> str:
    """~25 % of each everyday benign source is held out for evaluation, by a hash of the text."""
    return "eval" if _h("split|" + text) % 4 == 0 else "train"


def _qry(path: Path) -> list[str]:
    """The ``.W`` sections of a SMART-format query file (cran.qry, CISI.QRY), whitespace-joined."""
    out, cur, inw = [], [], False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("."):
            if cur:
                out.append(" ".join(" ".join(cur).split()))
            cur, inw = [], line.startswith(".W")
        elif inw:
            cur.append(line)
    if cur:
        out.append(" ".join(" ".join(cur).split()))
    return [t for t in out if t]


def _sts_sentences(path: Path) -> list[str]:
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        for t in line.split("\t")[1:3]:
            t = t.strip()
            if len(t) >= 2:
                seen.add(t)
    # a deterministic sample that does not depend on file order
    return sorted(seen, key=lambda t: _h("sample|" + t))[:SEMEVAL_PER_FILE]


def everyday_files(data: Path) -> list[Path]:
    return [data / "rag" / "cranfield" / "cran.qry", data / "rag" / "cisi" / "CISI.QRY"] + [
        data / "semantic_cache" / "semeval_sts" / f for f in SEMEVAL_FILES
    ]


def load_everyday(data: Path, split: str) -> dict[str, list[str]]:
    """Everyday benign texts per source, the ``split`` ("train" / "eval") part of each."""
    src = {
        "cranfield queries": _qry(data / "rag" / "cranfield" / "cran.qry"),
        "cisi queries": _qry(data / "rag" / "cisi" / "CISI.QRY"),
        "semeval_sts sentences": [t for f in SEMEVAL_FILES for t in _sts_sentences(data / "semantic_cache" / "semeval_sts" / f)],
        "chat phrases (hand-written)": list(dict.fromkeys(CHAT_PHRASES)),
    }
    return {k: [t for t in v if benign_split(t) == split] for k, v in src.items()}


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
    kind = type(emb).__name__ + (f"|{emb.features}" if getattr(emb, "features", "mean_max") != "mean_max" else "")
    key = hashlib.sha256(("\x00".join(windows) + f"|{MAX_SEQ}|{kind}").encode()).hexdigest()[:16]
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


# ------------------------------------------------------------------ v4: the fast head

# Leave-one-group-out: each group is held out whole (its attacks and benign texts together)
# while a head trained on everything else scores it. Translations of one set stay together.
GROUPS = {
    "jackhhao (train split)": ("jackhhao jailbreak (train)", "jackhhao benign (train)"),
    "tensor trust (train half)": ("tensor trust (train half)",),
    "cyberseceval direct": ("cyberseceval direct (en)", "cyberseceval direct (17 languages)"),
    "notinject": ("notinject",),
    "wildguardtest benign": ("wildguardtest benign",),
    "cyberseceval frr": ("cyberseceval frr",),
    "xstest safe": ("xstest safe",),
    "self-instruct": ("self-instruct",),
    "banking77+clinc150": ("banking77+clinc150",),
}
FAST_C = 8.0


def _sample_weights(ds_idx, y):
    w = np.ones(len(y))
    for d in np.unique(ds_idx):
        m = ds_idx == d
        w[m] = 1.0 / np.sqrt(m.sum())
    for c in (0, 1):
        m = y == c
        w[m] *= m.sum() / w[m].sum()
    return w


def training_pool(data: Path) -> tuple[list[str], list[str], list[int]]:
    """The v4 fast head's training texts: every trainable set plus the everyday train split, as
    (owner names, texts, labels); the owner names group the leave-one-group-out folds."""
    from injection_data import SETS, dedup

    names, texts, labels = [], [], []
    for s in SETS:
        if s.trainable:
            ts = dedup(s.load(data))
            names += [s.name] * len(ts)
            texts += ts
            labels += [s.label] * len(ts)
    for k, v in load_everyday(data, "train").items():
        names += ["everyday: " + k] * len(v)
        texts += v
        labels += [0] * len(v)
    return names, texts, labels


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--scores-out", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "seawall_injection_heldout.json",
                    help="held-out scores of every set, read by guard_eval.py")
    ap.add_argument("--out-npz", type=Path, default=HEAD_NPZ)
    ap.add_argument("--out-meta", type=Path, default=HEAD_META)
    ap.add_argument("--heldout-only", action="store_true", help="write the held-out scores only, not the heads")
    args = ap.parse_args()
    if not (args.data / "prompt_injection").exists():
        print(f"dataset folder not found: {args.data}/prompt_injection", file=sys.stderr)
        return 2
    from sklearn.linear_model import LogisticRegression

    names, texts, labels = training_pool(args.data)
    y = np.asarray(labels)
    nm = np.asarray(names)
    ds_ids = {n: i for i, n in enumerate(dict.fromkeys(names))}
    ds_idx = np.asarray([ds_ids[n] for n in names])
    print(f"training pool: {len(texts)} texts, {int(y.sum())} attacks", flush=True)
    static = StaticEmbedder()
    t0 = time.time()
    X = static.encode([_windows(t, FAST_WINDOW_CHARS)[0] for t in texts])
    print(f"  static features in {time.time() - t0:.1f}s", flush=True)

    def fit(mask):
        clf = LogisticRegression(C=FAST_C, max_iter=3000)
        clf.fit(X[mask], y[mask], sample_weight=_sample_weights(ds_idx[mask], y[mask]))
        return clf

    heldout: dict[str, list[float]] = {}
    for g, members in GROUPS.items():
        out = np.isin(nm, members)
        clf = fit(~out)
        p = clf.predict_proba(X[out])[:, 1]
        for n in members:
            heldout[n] = [round(float(v), 6) for v in p[nm[out] == n]]
        print(f"  held out {g}: " + ", ".join(f"{n} mean={np.mean(heldout[n]):.3f}" for n in members), flush=True)
    if args.heldout_only:
        args.scores_out.write_text(json.dumps({"heldout_fast": heldout, "version": "4"}) + "\n")
        print(f"held-out scores -> {args.scores_out}")
        return 0
    clf = fit(np.ones(len(y), dtype=bool))
    # pass threshold of the cascade: ~99.5 % of held-out attacks score above it
    att = np.concatenate([heldout[n] for n in heldout if y[nm == n][0] == 1])
    pass_thr = float(np.quantile(att, 0.005))
    old = np.load(args.out_npz)
    meta = json.loads(args.out_meta.read_text())
    meta["version"] = "4"
    meta["fast"] = {
        "embedder": "MiniLM input token embeddings, mean+max pooled, each L2-normalised (no transformer)",
        "features": "mean_max",
        "window_chars": FAST_WINDOW_CHARS,
        "C": FAST_C,
        "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_sets": {n: int((nm == n).sum()) for n in ds_ids},
        "weighting": "class-balanced; within a class each dataset weighs sqrt(n) (no set sets the style)",
        "validation": "leave-one-group-out: " + "; ".join(f"{g}: {', '.join(m)}" for g, m in GROUPS.items()),
        "pass_threshold": round(pass_thr, 4),
    }
    meta["note_v4"] = ("v4 retrains the fast (static) head on every trainable injection set; the full "
                       "(transformer) head is v3's, unchanged")
    np.savez_compressed(args.out_npz, w=old["w"], b=old["b"],
                        fast_w=clf.coef_[0].astype(np.float32), fast_b=np.float32(clf.intercept_[0]))
    args.out_meta.write_text(json.dumps(meta, indent=2) + "\n")
    args.scores_out.write_text(json.dumps({"heldout_fast": heldout, "version": "4"}) + "\n")
    print(f"wrote {args.out_npz}, {args.out_meta}; held-out scores -> {args.scores_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
