"""Shared by the PII recognizer tests: what the fast pattern path finds in a text."""
from seawall.guard.pii import FastPII


def found(text: str) -> list[tuple[str, str]]:
    """(kind, value) of each span ``FastPII`` finds in ``text``."""
    return [(s.kind, text[s.start : s.end]) for s in FastPII().analyze(text)]
