"""Optional packages: which a feature imports and which extra of pyproject.toml brings them.

`pip install seawall` serves with no extras: the features that need the ML packages say at
start-up what is off, or refuse to start when the configuration asked for them explicitly.
Each feature package reports for itself (guard/stage.py, cache/stage.py); `assembly` gathers.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here (found, not imported: cheap)."""
    out = []
    for m in modules:
        try:
            found = importlib.util.find_spec(m) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(m)
    return out


@dataclass
class Report:
    """What the configuration would use but this install lacks. ``errors`` stop a start
    (the operator asked for the feature); ``notices`` say what runs without it."""

    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def extend(self, other: "Report") -> "Report":
        self.errors += other.errors
        self.notices += other.notices
        return self
