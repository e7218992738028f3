"""Negation, for the verifier: how many times a prompt negates, and what a negating prefix negates.

Counted, not taken by parity: "is not smiling and not wearing ..." is no paraphrase of "is
smiling and wearing ...". One negation said two ways counts once on each side ("I can't use my
card" / "I'm unable to use my card", "I haven't received" / "I have yet to receive"); a negation
that only frames a question is not one ("I don't understand why I was charged" asks "Why was I
charged?"), nor is a question's alternative ("Should I learn Go? If not, why?").
"""
from __future__ import annotations

from .verifier_vocab import NEGATED_STEM_MIN, NEGATING_PREFIXES, NEGATIONS

_ALTERNATIVE = frozenset({"if", "or", "whether"})
_HAVE = frozenset({"have", "has", "had", "am", "is", "are", "was", "were"})
_NOT_KNOWING = frozenset({"know", "understand", "sure", "see", "get"})
_ASKED = frozenset({"why", "how", "what", "where", "when", "who", "which", "if", "whether"})


def count_negations(words: list[str]) -> int:
    """Negating words and n't contractions in ``words`` (lower-cased), as explained above."""
    neg = 0
    for i, w in enumerate(words):
        if w in NEGATIONS or w.endswith("n't"):
            # "If not, why?", "... or not", a closing "why not?": the alternative of a question
            if w == "not" and (i and words[i - 1] in _ALTERNATIVE or i + 1 == len(words)):
                continue
            if _asks_through(words, i):
                continue
            neg += 1
        elif w == "yet" and 0 < i < len(words) - 1 and words[i - 1] in _HAVE and words[i + 1] == "to":
            neg += 1  # "I have yet to receive my card" = "I haven't received my card"
    return neg


def _asks_through(words: list[str], i: int) -> bool:
    """A negation that only frames a question: "I don't know why my card was declined" asks
    "Why was my card declined?", as "not sure how", "unsure whether", "don't understand what" do."""
    j = i + 1
    if words[i] != "unsure":
        if j < len(words) and words[j] in ("really", "quite"):
            j += 1
        if j >= len(words) or words[j] not in _NOT_KNOWING:
            return False
        j += 1
    return j < len(words) and words[j] in _ASKED


def negated_stem(word: str) -> str | None:
    """``damaged`` for ``undamaged``: the word a negating prefix was put in front of."""
    for p in NEGATING_PREFIXES:
        if word.startswith(p) and len(word) - len(p) >= NEGATED_STEM_MIN:
            return word[len(p):]
    return None
