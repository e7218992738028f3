"""Long texts: the injection rules read them partly in overlapping chunks, under a CPU budget.

Read whole, a long text opens every rule's substring gate (somewhere in 100 KB of prose there
is a "system", an "if you", a "hi"), so every regex then scans all of it: ~2 ms per KB of prose,
and up to ~14 ms per KB of text made of one trigger repeated ("ignore ignore ..."), which the
multilingual near-rules re-examine at every occurrence. Read in ``CHUNK``-character pieces, a
gate opens a regex only for the pieces that hold it.

* Chunked (``injection._long_score``): the passes whose evidence is local, the regex rules,
  the jailbreak and hijack pairs and the multilingual near-rules. Consecutive chunks share at
  least ``OVERLAP`` characters, more than any of their reaches (the jailbreak pair window is 500
  characters, the hijack one 300, the near-rules' 30-70, quoted spans 300). A chunk starts at a
  line start where there is one close by, else at a word start, so ``^`` and ``\\b`` read as
  in the whole text (a chunk cut after a space can only add a line-start match).
* Whole: the tool-content rules (for tool text, and for the material a user message pastes),
  whose exceptions look thousands of characters around a match (the reply after a chat turn,
  the person's turn a line belongs to); they cost little per character.
* The same passes run in the same order as on a short text, so the score is the one the whole
  text gets whenever each match's evidence fits in a chunk.
* ``over()`` is asked before each chunk: the engine passes its pattern budget, and
  ``RulesOverBudget`` lets it fail closed (guard_error).

Texts up to ``LONG_CHARS`` are read whole, exactly as before.
"""
from __future__ import annotations

from typing import Callable

LONG_CHARS = 16_384  # longer texts are read in chunks
CHUNK = 4096
OVERLAP = 1024  # at least: a chunk starts up to _ALIGN characters earlier still
_ALIGN = 256  # how far back a chunk's start may move to a line or word start


_CONTINUED = "\n\n\n"


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


def chunk_max(text: str, score: Callable[[str, float], float], best: float = 0.0,
              over: Callable[[], bool] | None = None) -> float:
    """``best`` raised to the highest ``score(chunk, best)`` over the chunks of ``text``
    (``score`` tries only the rules that would raise ``best``, as on a whole text); identical
    chunks (a repeated filler) are scored once, and the scan stops at the first chunk scoring
    0.95 or more (nothing scores higher). ``over()`` is asked before each chunk."""
    seen: set[str] = set()
    for a, b in chunks(text):
        if over is not None and over():
            raise RulesOverBudget("injection rules over budget")
        # (a chunk after the first is no message start: blank lines keep the rules that look for
        # one, "print the instructions above" with nothing pasted above it, from reading it as one)
        c = text[a:b] if a == 0 else _CONTINUED + text[a:b]
        if c in seen:
            continue
        seen.add(c)
        best = max(best, score(c, best))
        if best >= 0.95:
            break
    return best
