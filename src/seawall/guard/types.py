"""Small value types shared by the detectors and the engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """One detected item inside one text. Holds offsets, never the value itself."""

    kind: str  # e.g. EMAIL_ADDRESS, AWS_SECRET_ACCESS_KEY
    start: int
    end: int
    score: float = 1.0
    detector: str = "pattern"


@dataclass(slots=True)
class Finding:
    """An audit/metrics-safe summary line: what kind, where, what was done. No raw values."""

    detector: str  # pii | secrets | injection | size | schema
    kind: str
    action: str  # allow | mask | redact | tokenize | block | flag
    source: str = "user"  # user | system | assistant | tool | tool_call | output
    count: int = 1
    score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "detector": self.detector,
            "kind": self.kind,
            "action": self.action,
            "source": self.source,
            "count": self.count,
        }
        if self.score is not None:
            d["score"] = round(self.score, 4)
        return d


@dataclass(slots=True)
class Findings:
    """Aggregates findings by (detector, kind, action, source)."""

    items: list[Finding] = field(default_factory=list)

    def add(self, detector: str, kind: str, action: str, source: str, score: float | None = None) -> None:
        for f in self.items:
            if (f.detector, f.kind, f.action, f.source) == (detector, kind, action, source):
                f.count += 1
                if score is not None:
                    f.score = max(f.score or 0.0, score)
                return
        self.items.append(Finding(detector, kind, action, source, 1, score))

    def as_list(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.items]
