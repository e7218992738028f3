"""Risk scoring, 0-100, with one reason per point source so every decision can be explained.

The declared effect comes from the config (trusted). An MCP server's annotations are the
server's own claims: they may raise the effect (a destructive hint makes it a delete) but never
lower it (a read-only hint on a tool the config calls a write changes nothing).
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Any

from .config import RiskConfig

_ORDER = {"read": 0, "unknown": 1, "write": 2, "delete": 3}
_AMOUNT_NAMES = ("amount", "total", "price", "sum", "value", "quantity")
_COUNT_NAMES = ("count", "limit", "ids", "records", "rows", "n")


def effect_of(declared: str | None, name: str, hints: dict | None) -> tuple[str, list[str]]:
    why = []
    effect = declared or "unknown"
    if declared is None:
        lowered = name.rsplit(".", 1)[-1].lower()
        if lowered.startswith(("delete", "drop", "remove", "purge", "destroy")):
            effect, _ = "delete", why.append("the name says delete")
    hints = hints or {}
    if hints.get("destructiveHint") and _ORDER[effect] < _ORDER["delete"]:
        effect = "delete"
        why.append("the server hints destructive (raises, never lowers)")
    elif hints.get("readOnlyHint") is False and _ORDER[effect] < _ORDER["write"]:
        effect = "write"
        why.append("the server hints not read-only")
    return effect, why


def numbers(arguments: dict) -> tuple[float, int, bool]:
    """(largest amount-like number, largest record count, any wildcard) found in the arguments."""
    amount, count, wildcard = 0.0, 0, False
    stack: list[tuple[str, Any]] = list(arguments.items())
    while stack:
        key, value = stack.pop()
        k = key.lower()
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            if any(n in k for n in _AMOUNT_NAMES):
                amount = max(amount, float(value))
            if any(k == n or k.endswith("_" + n) for n in _COUNT_NAMES):
                count = max(count, int(value))
        elif isinstance(value, str):
            if value.strip() == "*" or "*" in value or "%" in value:
                wildcard = True
        elif isinstance(value, list):
            count = max(count, len(value))
            stack.extend((key, v) for v in value if not isinstance(v, (dict, list)))
        elif isinstance(value, dict):
            stack.extend(value.items())
    return amount, count, wildcard


class RateTracker:
    """Similar actions (same principal, same tool) in a sliding window, in this process."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.seen: dict[tuple[str, str], deque] = defaultdict(deque)

    def hit(self, who: str, tool: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        q = self.seen[(who, tool)]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        q.append(now)
        if len(self.seen) > 100_000:  # bounded: forget the quiet ones
            for k in [k for k, v in self.seen.items() if not v or v[-1] <= now - self.window_s]:
                del self.seen[k]
        return len(q) - 1  # the others, not this one


def score(cfg: RiskConfig, effect: str, amount: float, count: int, wildcard: bool, recent: int,
          injection: float) -> tuple[int, list[dict]]:
    factors = [{"factor": "effect", "value": effect, "points": cfg.base.get(effect, cfg.base.get("unknown", 40))}]
    if amount > cfg.amount_over:
        factors.append({"factor": "amount", "value": amount, "points": cfg.amount_points})
    if count > cfg.count_over:
        factors.append({"factor": "count", "value": count, "points": cfg.count_points})
    if wildcard:
        factors.append({"factor": "wildcard", "value": True, "points": cfg.wildcard_points})
    if recent > cfg.rate_over:
        factors.append({"factor": "rate", "value": recent, "points": cfg.rate_points})
    if injection > 0:
        factors.append({"factor": "injection", "value": round(injection, 3),
                        "points": round(cfg.injection_points * min(1.0, injection))})
    return min(100, sum(f["points"] for f in factors)), factors
