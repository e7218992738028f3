"""An OpenAI-style requests-per-minute limit for the simulator (`--rpm`).

A token bucket that refills at rpm/60 per second and holds at most `burst` requests (default a
full minute's worth, as OpenAI's limits do; a smaller burst makes the limit bite within
seconds, which short tests need). Every answer carries `x-ratelimit-limit-requests`,
`x-ratelimit-remaining-requests` and `x-ratelimit-reset-requests` (time until the bucket is
full again, in OpenAI's `1m2.5s` form); a request beyond the limit is answered 429 with
Retry-After. The stats say how many were admitted and limited, and when."""

from __future__ import annotations

import time


def duration(seconds: float) -> str:
    """OpenAI's reset format: `250ms`, `1.5s`, `2m3.25s`."""
    if seconds < 1:
        return f"{int(seconds * 1000)}ms"
    m, s = divmod(seconds, 60)
    s = f"{s:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(m)}m{s}" if m else s


class RateLimit:
    def __init__(self, rpm: int, burst: int | None = None) -> None:
        if rpm < 1:
            raise ValueError("rpm must be at least 1")
        self.rpm = rpm
        self.burst = max(1, min(burst or rpm, rpm))
        self.rate = rpm / 60.0  # requests per second
        self.tokens = float(self.burst)
        self.at = time.monotonic()
        self.admitted = self.limited = 0
        self.first_admitted: float | None = None
        self.last_admitted: float | None = None
        self.last_limited: float | None = None

    def take(self, now: float | None = None) -> tuple[bool, dict[str, str], float]:
        """(admitted, headers, seconds until a request would be admitted)."""
        now = time.monotonic() if now is None else now
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        ok = self.tokens >= 1.0
        if ok:
            self.tokens -= 1.0
            self.admitted += 1
            self.first_admitted = self.first_admitted or now
            self.last_admitted = now
        else:
            self.limited += 1
            self.last_limited = now
        wait = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
        headers = {"x-ratelimit-limit-requests": str(self.rpm),
                   "x-ratelimit-remaining-requests": str(int(self.tokens)),
                   "x-ratelimit-reset-requests": duration((self.burst - self.tokens) / self.rate)}
        return ok, headers, wait

    def stats(self, t0: float) -> dict:
        rel = lambda t: None if t is None else round(t - t0, 3)  # noqa: E731 - seconds since start
        return {"rpm": self.rpm, "burst": self.burst, "admitted": self.admitted, "limited": self.limited,
                "first_admitted_s": rel(self.first_admitted), "last_admitted_s": rel(self.last_admitted),
                "last_limited_s": rel(self.last_limited)}
