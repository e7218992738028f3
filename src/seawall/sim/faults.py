"""Fault settings of the simulator and the per-request decisions drawn from them.

Determinism: the simulator owns one ``random.Random(seed)``. Every counted request draws the
same fixed number of values from it (see ``Draw``) whatever the current faults are, so the
n-th request of a run always gets the same draws; changing a rate at runtime changes which
draws count as a fault, never the sequence itself.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field, fields
from statistics import NormalDist
from typing import Any

# z-score of the 99th percentile of a standard normal: fits a lognormal to (p50, p99).
_Z99 = NormalDist().inv_cdf(0.99)
_STD_NORMAL = NormalDist()
# A lognormal has an unbounded tail; cap a single draw so one request cannot sleep for hours.
_TAIL_CAP = 10.0


class FaultError(ValueError):
    """A bad fault setting; ``field`` names it (None when the whole object is wrong)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Faults:
    latency_ms: float = 0.0  # fixed delay before answering, or the p50 when latency_p99_ms is set
    latency_p99_ms: float | None = None  # heavy tail: lognormal fitted to (latency_ms, this)
    error_rate: float = 0.0  # share of requests answered with error_status
    error_status: int = 500
    retry_after_s: float = 1.0  # Retry-After on 429 (and on outage answers)
    hang: bool = False  # accept every request and never answer
    reset_rate: float = 0.0  # share of requests whose connection is aborted without a response
    stall_after_chunks: int | None = None  # streams stop sending after N events and hang
    malformed_rate: float = 0.0  # share answered 200 with a body that is not valid JSON
    error_body_rate: float = 0.0  # share answered 200 with an error object as the body
    ttft_ms: float = 0.0  # streams: delay between the headers and the first event
    chunk_ms: float = 0.0  # streams: delay between events
    outage: list[list[float]] = field(default_factory=list)  # [[start_s, end_s], ...] since start
    flap_period_s: float = 0.0  # >0: down for flap_down_s at the start of every period
    flap_down_s: float = 0.0
    outage_status: int = 503

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Faults":
        """Build validated faults; raises ValueError naming the offending field."""
        if not isinstance(d, dict):
            raise FaultError("faults must be a JSON object")
        known = {f.name for f in fields(cls)}
        for name in d:
            if name not in known:
                raise FaultError(f"unknown fault field '{name}'", name)
        faults = cls(**{k: _coerce(k, v) for k, v in d.items()})
        faults.validate()
        return faults

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, patch: dict[str, Any]) -> "Faults":
        """A copy with ``patch`` applied, validated as a whole."""
        if not isinstance(patch, dict):
            raise FaultError("faults must be a JSON object")
        return Faults.from_dict({**self.to_dict(), **patch})

    def validate(self) -> None:
        for name in ("error_rate", "reset_rate", "malformed_rate", "error_body_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise FaultError(f"{name} must be between 0 and 1, got {v}", name)
        for name in ("latency_ms", "retry_after_s", "ttft_ms", "chunk_ms", "flap_period_s",
                     "flap_down_s"):
            if getattr(self, name) < 0:
                raise FaultError(f"{name} must be >= 0", name)
        for name in ("error_status", "outage_status"):
            v = getattr(self, name)
            if not 400 <= v <= 599:
                raise FaultError(f"{name} must be an HTTP error status (400-599), got {v}", name)
        if self.latency_p99_ms is not None:
            if self.latency_ms <= 0:
                raise FaultError("latency_p99_ms needs latency_ms (the p50) > 0", "latency_p99_ms")
            if self.latency_p99_ms < self.latency_ms:
                raise FaultError("latency_p99_ms must be >= latency_ms", "latency_p99_ms")
        if self.stall_after_chunks is not None and self.stall_after_chunks < 0:
            raise FaultError("stall_after_chunks must be >= 0", "stall_after_chunks")
        if self.flap_period_s and self.flap_down_s > self.flap_period_s:
            raise FaultError("flap_down_s must be <= flap_period_s", "flap_down_s")

    def is_down(self, t: float) -> bool:
        """True when ``t`` seconds after start falls in an outage window or a flap's down phase."""
        for start, end in self.outage:
            if start <= t < end:
                return True
        return bool(self.flap_period_s) and (t % self.flap_period_s) < self.flap_down_s

    def latency_s(self, u: float) -> float:
        """Latency for one request from a uniform draw ``u``."""
        if self.latency_p99_ms is None or self.latency_p99_ms == self.latency_ms:
            return self.latency_ms / 1000.0
        mu = math.log(self.latency_ms)
        sigma = (math.log(self.latency_p99_ms) - mu) / _Z99
        z = _STD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        ms = min(math.exp(mu + sigma * z), self.latency_p99_ms * _TAIL_CAP)
        return ms / 1000.0


_FLOATS = {"latency_ms", "error_rate", "retry_after_s", "reset_rate", "malformed_rate",
           "error_body_rate", "ttft_ms", "chunk_ms", "flap_period_s", "flap_down_s"}
_INTS = {"error_status", "outage_status"}


def _coerce(name: str, v: Any) -> Any:
    """Check one field's JSON type (bool is not a number here: `true` for a rate is a mistake)."""
    def bad(expected: str) -> FaultError:
        return FaultError(f"fault field '{name}' must be {expected}, got {v!r}", name)

    if name in _FLOATS:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad("a number")
        return float(v)
    if name in _INTS:
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad("an integer")
        return v
    if name == "latency_p99_ms":
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad("a number or null")
        return float(v)
    if name == "stall_after_chunks":
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad("an integer or null")
        return v
    if name == "hang":
        if not isinstance(v, bool):
            raise bad("true or false")
        return v
    if name == "outage":
        if not isinstance(v, list):
            raise bad("a list of [start_s, end_s] pairs")
        out = []
        for w in v:
            if (not isinstance(w, (list, tuple)) or len(w) != 2
                    or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in w)):
                raise bad("a list of [start_s, end_s] pairs")
            if not 0 <= w[0] < w[1]:
                raise FaultError(f"fault field 'outage' window {list(w)} needs 0 <= start < end",
                                 "outage")
            out.append([float(w[0]), float(w[1])])
        return out
    raise FaultError(f"unknown fault field '{name}'", name)


@dataclass(slots=True)
class Draw:
    """The random values one request consumes, always drawn together and in this order."""

    error: float
    reset: float
    malformed: float
    error_body: float
    latency: float
    ident: int  # makes response ids reproducible for a seed and request order

    @classmethod
    def take(cls, rng: random.Random) -> "Draw":
        r = rng.random
        return cls(r(), r(), r(), r(), r(), rng.getrandbits(48))
