"""The learned pair judge of the semantic cache: may this stored prompt's answer serve that one?

A cosine threshold alone cannot separate "Where is X?" from "Who is X?" without refusing most
true paraphrases, and hand rules (verifier.py) catch only what someone thought to write down.
The judge is a small network trained on pairs (scripts/train_cache_judge.py) that reads, beside
the two prompts' cosine, what an embedding blurs:

- lexical signals: word and content-word overlap, words on one side only, the question word
  (where / who / how ...), length ratio, the longest span one side adds;
- the rule verifier's signals, each on its own (negation parity, numbers on one or both sides,
  entities, and the first rule that refuses: antonym, units, dates, format ...), so a rule
  counts exactly as much as the pair data says.

Per-dimension embedding features (product, difference) were tried and left out: they learn
each dataset's style and lose to plain cosine on held-out sets (docs/caching.md).

It runs only on candidates above a cosine floor, costs a few µs past the verifier's slots
(numpy, one hidden layer of 16), and answers a probability; the cache serves at or above the
calibrated ``threshold`` shipped with the weights (chosen on training and dev splits only).
Weights are per embedding space: the file names the embedder it was trained on.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .verifier import Verifier, VerifierConfig, _content, _coverage, _added_span, extract

MODELS = Path(__file__).parent / "models"
_WH = ("what", "where", "who", "whom", "whose", "when", "why", "which", "how")
_WH_RE = re.compile(r"\b(" + "|".join(_WH) + r")\b", re.IGNORECASE)
_REASONS = ("language", "negation", "antonym", "action", "numbers", "dates", "relative", "units", "format",
            "entities", "added", "ok")
N_SIGNALS = 24


@lru_cache(maxsize=8192)
def _wh(text: str) -> frozenset[str]:
    return frozenset(m.lower() for m in _WH_RE.findall(text[:300]))


def signals(a: str, b: str, verifier: Verifier) -> np.ndarray:
    """The lexical and rule signals of a pair (order-free: every signal is symmetric)."""
    sa, sb = extract(a), extract(b)
    wa, wb = sa.wordset, sb.wordset
    ca, cb = _content(wa), _content(wb)
    union, cu = len(wa | wb) or 1, len(ca | cb) or 1
    reason = verifier.verify(a, b).reason.split(" ", 1)[0]
    onehot = [float(reason == r) for r in _REASONS]
    qa, qb = _wh(a), _wh(b)
    la, lb = len(sa.words) or 1, len(sb.words) or 1
    out = [
        len(wa & wb) / union,
        len(ca & cb) / cu,
        min(len(ca - cb), len(cb - ca)) / cu,
        max(len(ca - cb), len(cb - ca)) / cu,
        min(la, lb) / max(la, lb),
        float(bool(qa ^ qb) and bool(qa) and bool(qb)),  # both ask, with different question words
        float((sa.negations % 2) != (sb.negations % 2)),
        float(len(sa.numbers ^ sb.numbers) > 0),
        float(bool(sa.numbers) != bool(sb.numbers)),
        float(len(sa.entities ^ sb.entities) > 0),
        min(_coverage(sa, sb), _coverage(sb, sa)),
        min(max(_added_span(sa.words, wb), _added_span(sb.words, wa)), 12) / 12.0,
    ] + onehot
    return np.asarray(out, np.float32)


def features(cos: float, a: str, b: str, verifier: Verifier) -> np.ndarray:
    """One pair's input row: [cosine, signals]."""
    return np.concatenate([[np.float32(cos)], signals(a, b, verifier)]).astype(np.float32)


class PairJudge:
    """A one-hidden-layer network over pair features, with its calibrated threshold and floor."""

    def __init__(self, path: Path) -> None:
        w = np.load(path)
        self.mean, self.scale = w["mean"], w["scale"]
        self.w1, self.b1, self.w2, self.b2 = w["w1"], w["b1"], w["w2"], w["b2"]
        self.threshold = float(w["threshold"])
        self.floor = float(w["floor"])
        self.space = str(w["space"])
        # the rule signals as the shipped weights were trained on (before issue 14's rules)
        self.verifier = Verifier(VerifierConfig(question_word=False, added_qualifier=False))

    def prob_rows(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(((x - self.mean) / self.scale) @ self.w1 + self.b1, 0.0)
        z = h @ self.w2 + self.b2
        return 1.0 / (1.0 + np.exp(-z.ravel()))

    def prob(self, cos: float, a: str, b: str) -> float:
        """Probability that b may be served a's answer (and vice versa)."""
        f1 = features(cos, a, b, self.verifier)
        return float(self.prob_rows(f1[None, :])[0])


def judge_path(space_tag: str) -> Path:
    return MODELS / f"judge-{space_tag}.npz"


@lru_cache(maxsize=4)
def load_judge(space_tag: str) -> PairJudge | None:
    """The judge trained for an embedder ("l3" student, "l6" model), or None if none is shipped."""
    p = judge_path(space_tag)
    return PairJudge(p) if p.exists() else None


# The judge's weights are tied to the embedding space it was trained in.
_SPACE_OF = {"onnx-int8-l3": "l3", "onnx-int8": "l6", "onnx-fp32": "l6", "torch": "l6"}


def judge_for(embedder_kind: str) -> PairJudge | None:
    """The judge for a configured embedder kind (``cache.embedder``), or None (rules only)."""
    tag = _SPACE_OF.get(embedder_kind)
    return load_judge(tag) if tag else None
