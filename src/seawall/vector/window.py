"""What an embedder reads of a long text, and whether two texts differ only where it reads.

The embedders read the first ``MAX_TOKENS`` word pieces of a text; what follows is not in the
vector. Two long prompts that share their first page and differ at the end ("Summarise this log
... 03:00 INFO backup finished OK" / "... 03:00 ERROR backup failed: disk full") embed alike, and
a semantic hit between them would answer the wrong one. So a candidate may answer only if all
that either text holds past its window is a suffix the two share (the verifier reads the rest).

A text is also cut at ``EMBED_CHARS`` before it is tokenised: the tokeniser reads a whole text
before truncating it (4 MB took ~4 s) though only its first 256 word pieces are used.
"""
from __future__ import annotations

import re
import threading

from .embedder import MAX_TOKENS, _tokenizer

EMBED_CHARS = 16_384
# A text this short is read whole: every word piece covers at least one character
WHOLE = MAX_TOKENS - 2
_tok = None
_tok_lock = threading.Lock()


def cut(text: str) -> str:
    """The part of ``text`` that is tokenised (and embedded from)."""
    return text if len(text) <= EMBED_CHARS else text[:EMBED_CHARS]


def seen_chars(text: str) -> int:
    """How many leading characters of ``text`` the embedding reads."""
    global _tok
    if len(text) <= WHOLE:
        return len(text)
    if _tok is None:
        with _tok_lock:
            if _tok is None:
                _tok = _tokenizer(MAX_TOKENS)
    part = cut(text)
    enc = _tok.encode(part)
    if len(enc.ids) < MAX_TOKENS:  # not truncated: the whole part was read
        return len(part)
    return enc.offsets[-2][1]  # the end of the last word piece before [SEP]


def read_parts(a: str, seen_a: int, b: str, seen_b: int) -> tuple[str, str] | None:
    """What the rules compare of ``a`` and ``b`` (``seen_*``: ``seen_chars``): the texts up to a
    tail both share that holds all either has past its window; None if there is none (they may
    differ where no embedding read). The shared tail adds the same to both sides, and leaving it
    out bounds the rules' work (they read ~1.4 ms per KB) by the window."""
    k = max(len(a) - seen_a, len(b) - seen_b)
    if k <= 0:
        return a, b
    if k > min(len(a), len(b)) or a[len(a) - k:] != b[len(b) - k:]:
        return None
    return a[:len(a) - k], b[:len(b) - k]


# A long context both prompts share (a pasted document, a log) fills their vectors and the rules'
# word sets alike, so the requests around it hardly count: "Fix the grammar of this text: <doc>"
# and "Write a reply to this text: <doc>" embed at 0.97. Past this much shared text, at least half
# of the shorter prompt, on lines of its own or in three sentences or more (a document, not one
# sentence reworded in its middle), the requests are compared on their own.
SHARED_MIN = 120
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
# ... unless both are small edits ("said on Tuesday" / "said Tuesday"), which the rules read in place
REQUEST_MIN_WORDS = 3


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # slices compare in C: log steps instead of a character loop
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def requests_around(a: str, b: str) -> tuple[str, str] | None:
    """What ``a`` and ``b`` each say around a long context they share, when they share one and
    either says three words or more there; else None (the whole texts are compared as usual)."""
    if a == b or min(len(a), len(b)) < SHARED_MIN:
        return None
    p = _common_prefix(a, b)
    while p and not a[p - 1].isspace() and (p < len(a) and a[p].isalnum() or p < len(b) and b[p].isalnum()):
        p -= 1  # back to a word's start: "the b|oard" / "the s|ales" share "the "
    s = _common_prefix(a[p:][::-1], b[p:][::-1])  # the common suffix of what follows
    while s and not a[len(a) - s].isspace() and (len(a) - s > p and a[len(a) - s - 1].isalnum()
                                                 or len(b) - s > p and b[len(b) - s - 1].isalnum()):
        s -= 1
    if p + s < max(SHARED_MIN, min(len(a), len(b)) / 2):
        return None
    head, tail = a[:p], a[len(a) - s:]
    if "\n" not in head.strip() and "\n" not in tail.strip() and len(_SENTENCE_END.findall(head + " " + tail)) < 3:
        return None
    ra, rb = a[p:len(a) - s].strip(), b[p:len(b) - s].strip()
    if max(len(ra.split()), len(rb.split())) < REQUEST_MIN_WORDS:
        return None
    return ra, rb
