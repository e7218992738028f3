"""The one place a presented key is read from headers and compared with the known keys.

Client keys (static and virtual) and the admin key all come in the same way: `Authorization:
Bearer <key>`, or `x-api-key` / `api-key` (Anthropic and Azure clients send those).
"""
from __future__ import annotations

import hmac


def presented_key(headers) -> str | None:
    if headers is None:
        return None
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return headers.get("x-api-key") or headers.get("api-key") or None


def check_key(presented: str | None, allowed: list[str]) -> bool:
    """True when `presented` is one of `allowed`. Every key is compared, so the time taken
    says nothing about which key came close."""
    if not presented:
        return False
    data = presented.encode("utf-8", "surrogatepass")
    ok = False
    for key in allowed:
        ok |= hmac.compare_digest(data, key.encode("utf-8", "surrogatepass"))
    return ok


def key_hint(key: str | None) -> str | None:
    """What logs and audit records may say about a presented key: its first 5 characters (the
    "sw-ab…" the key list shows), and nothing of a key too short for 5 characters to be a small
    part of it. Never enough to use."""
    if not key:
        return None
    if len(key) < 16:
        return "…"
    return key[:5] + "…"
