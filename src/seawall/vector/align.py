"""Token alignment of two prompts: a second gate on a semantic-cache candidate.

The embedder's ONNX graph outputs every token's contextual vector before it mean-pools them
into the sentence vector. Alignment keeps the vectors of content-word tokens (function
words, one-letter words and punctuation dropped, by the verifier's word lists), matches
each token of one prompt to its most similar token of the other (cosine), averages, and
keeps the weaker of the two directions: a content word of either side that nothing on the
other side means costs, however close the sentence vectors are. A candidate is served only
if its sentence cosine and its alignment both pass (``embedder.ALIGNED``, chosen
leave-one-dataset-out by scripts/cache_rank_eval.py; docs/caching.md).

Token vectors are kept int8 with one scale per token (~390 bytes a content token, ~2.8 KB
for a 7-content-word prompt): what an entry and the embedding cache hold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .verifier import _FUNCTION_WORDS


@dataclass(frozen=True, slots=True)
class Tokens:
    """A prompt's content-token vectors, unit length before int8 quantisation."""

    q: np.ndarray      # int8 (n, dim)
    scale: np.ndarray  # float32 (n,)

    def vectors(self) -> np.ndarray:
        v = self.q.astype(np.float32) * self.scale[:, None]
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.maximum(n, 1e-9)


def content_rows(text: str, word_ids: list, offsets: list) -> list[int]:
    """Positions of the tokens that belong to content words."""
    spans: dict[int, list[int]] = {}
    for wi, (s, e) in zip(word_ids, offsets):
        if wi is not None:
            sp = spans.setdefault(wi, [s, e])
            sp[1] = max(sp[1], e)
    content = {wi for wi, (s, e) in spans.items() if _is_content(text[s:e])}
    return [i for i, wi in enumerate(word_ids) if wi in content]


def _is_content(word: str) -> bool:
    w = word.lower()
    return len(w) > 1 and any(c.isalnum() for c in w) and w not in _FUNCTION_WORDS


def pack(h: np.ndarray) -> Tokens:
    """int8 rows with a per-row scale, from float token vectors (any norm)."""
    h = np.asarray(h, np.float32)
    h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-9)
    scale = np.maximum(np.abs(h).max(1), 1e-9) / 127.0 if len(h) else np.zeros(0, np.float32)
    q = np.round(h / scale[:, None]).astype(np.int8) if len(h) else np.zeros((0, h.shape[1]), np.int8)
    return Tokens(q, scale.astype(np.float32))


def alignment(a: Tokens, b: Tokens) -> float:
    """Mean best-match cosine of each content token to the other side, the weaker direction.
    1.0 when neither side has a content word, 0.0 when only one has."""
    if len(a.q) == 0 or len(b.q) == 0:
        return 1.0 if len(a.q) == len(b.q) else 0.0
    s = a.vectors() @ b.vectors().T
    return float(min(s.max(1).mean(), s.max(0).mean()))
