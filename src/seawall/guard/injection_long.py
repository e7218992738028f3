"""Long texts: the injection rules read them in overlapping chunks, under a CPU budget.

Read whole, a long text opens every rule's substring gate (somewhere in 100 KB of prose there
is a "system", an "if you", a "hi"), so every regex then scans all of it: ~2 ms per KB of prose,
and up to ~14 ms per KB of text made of one trigger repeated ("ignore ignore ..."), which the
multilingual near-rules re-examine at every occurrence. Read in ``CHUNK``-character pieces, a
gate opens a regex only for the pieces that hold it.

* A rule sees everything within ``OVERLAP`` characters of a match: consecutive chunks share at
  least that much, more than any rule's reach (the jailbreak pair window is 500 characters,
  the hijack one 300, the near-rules' 30-70, the quoted spans 300). A chunk starts at a line
  start where there is one close by, else at a word start, so ``^`` and ``\\b`` read as in the
  whole text (a chunk cut after a space can only add a line-start match: a stricter reading).
* A user message's pasted material (``injection_pasted``) is located once in the whole text; the
  piece of it each chunk holds gets the tool-content rules.
* The score is the chunks' maximum; identical chunks (a repeated filler) are scored once, and
  the scan stops at the first chunk scoring 0.95 or more (nothing scores higher).
* ``over()`` is asked before each chunk: the engine passes its pattern budget
  (``pattern_budget_s`` of CPU time), and ``RulesOverBudget`` lets it fail closed (guard_error).

Texts up to ``LONG_CHARS`` are read whole, exactly as before.
"""
from __future__ import annotations

from typing import Callable

from .injection_pasted import pasted_part_score, pasted_span

LONG_CHARS = 16_384  # longer texts are read in chunks
CHUNK = 4096
OVERLAP = 1024  # at least: a chunk starts up to _ALIGN characters earlier still
_ALIGN = 256  # how far back a chunk's start may move to a line or word start


class RulesOverBudget(TimeoutError):
    """The injection rules ran out of their time budget on a long text (fail closed)."""


def chunks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each chunk: ``CHUNK`` characters, the next starting at least ``OVERLAP``
    before the end of the previous one, at a line start (else a word start) when one is near."""
    n, out, start = len(text), [], 0
    while True:
        end = min(n, start + CHUNK)
        out.append((start, end))
        if end >= n:
            return out
        at = end - OVERLAP
        i = text.rfind("\n", at - _ALIGN, at)
        if i < 0:
            i = text.rfind(" ", at - _ALIGN, at)
        start = i + 1 if i >= 0 else at


def long_score(text: str, role: str, score_chunk: Callable[..., float],
               over: Callable[[], bool] | None = None) -> float:
    """The rules' score of long ``text`` (already ``plain``, mentions unquoted for a user):
    ``score_chunk(chunk, role)`` per chunk, plus the pasted-material pass of a user message."""
    span = pasted_span(text) if role == "user" else None
    best = 0.0
    seen: dict[tuple[str, int, int], float] = {}
    for a, b in chunks(text):
        if over is not None and over():
            raise RulesOverBudget("injection rules over budget")
        lo, hi = (max(a, span[0]), min(b, span[1])) if span else (a, a)
        if hi - lo < 20:  # no pasted material here (pasted_span's own minimum)
            lo = hi = a
        key = (text[a:b], lo - a, hi - a)
        s = seen.get(key)
        if s is None:
            s = score_chunk(key[0], role)
            if hi > lo and s < 0.9:
                s = pasted_part_score(text[lo:hi], s)
            seen[key] = s
        best = max(best, s)
        if best >= 0.95:
            break
    return best
