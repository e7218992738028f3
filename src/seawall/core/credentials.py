"""The one reading of a client's credentials: the bearer token (or x-api-key / api-key header)
and a constant-time comparison against a set of keys."""
from __future__ import annotations

import hmac


def presented_key(headers) -> str | None:
    if headers is None:
        return None
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-api-key") or headers.get("api-key")


def check_key(presented: str | None, allowed: list[str]) -> bool:
    if not presented:
        return False
    ok = False
    for key in allowed:  # compare against every key: no timing hint about which one is close
        ok |= hmac.compare_digest(presented.encode(), key.encode())
    return ok
