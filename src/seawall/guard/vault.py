"""Reversible tokenization: placeholders go upstream, originals come back to the caller.

A ``TokenVault`` lives for one request. ``tokenize`` hands out ``<KIND_n>`` placeholders (the
same value always gets the same placeholder, so the model can refer to it consistently);
``restore`` puts originals back into complete text, ``restore_json`` into tool-call argument
JSON (values are JSON-escaped), and ``StreamRestorer`` does it across streamed chunks, holding
back only a tail that could be the start of a split placeholder.
"""
from __future__ import annotations

import json
import re
from typing import Any

PLACEHOLDER_RE = re.compile(r"<([A-Z][A-Z_]{1,40})_(\d{1,6})>")
# A possibly unfinished placeholder at the very end of a chunk
_PARTIAL_TAIL_RE = re.compile(r"<(?:[A-Z][A-Z_]{0,40}(?:_\d{0,6})?)?$")
MAX_PLACEHOLDER_LEN = 50


class TokenVault:
    def __init__(self) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_token: dict[str, str] = {}
        self._counters: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._by_token)

    def __bool__(self) -> bool:  # an empty vault is still a vault
        return True

    def tokenize(self, kind: str, value: str) -> str:
        key = (kind, value)
        tok = self._by_value.get(key)
        if tok is None:
            n = self._counters.get(kind, 0) + 1
            self._counters[kind] = n
            tok = f"<{kind}_{n}>"
            self._by_value[key] = tok
            self._by_token[tok] = value
        return tok

    def original(self, token: str) -> str | None:
        return self._by_token.get(token)

    def restore(self, text: str) -> str:
        if not self._by_token or "<" not in text:
            return text
        return PLACEHOLDER_RE.sub(lambda m: self._by_token.get(m.group(0), m.group(0)), text)

    def restore_json_fragment(self, text: str) -> str:
        """Restore inside raw JSON text: originals are escaped as JSON string content."""
        if not self._by_token or "<" not in text:
            return text

        def sub(m: re.Match[str]) -> str:
            v = self._by_token.get(m.group(0))
            return m.group(0) if v is None else json.dumps(v, ensure_ascii=False)[1:-1]

        return PLACEHOLDER_RE.sub(sub, text)

    def restore_obj(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.restore(obj)
        if isinstance(obj, list):
            return [self.restore_obj(x) for x in obj]
        if isinstance(obj, dict):
            return {self.restore(k) if isinstance(k, str) else k: self.restore_obj(v) for k, v in obj.items()}
        return obj

    def restore_json(self, arguments: str) -> str:
        """Tool-call arguments: parse, restore every string, re-serialise; raw fallback if not JSON."""
        if not self._by_token or "<" not in arguments:
            return arguments
        try:
            obj = json.loads(arguments)
        except ValueError:
            return self.restore_json_fragment(arguments)
        return json.dumps(self.restore_obj(obj), ensure_ascii=False)


class StreamRestorer:
    """Restores placeholders in a stream of text pieces; a placeholder split between pieces is
    held back (at most ``MAX_PLACEHOLDER_LEN`` characters) until it is complete."""

    def __init__(self, vault: TokenVault, json_mode: bool = False) -> None:
        self.vault = vault
        self.json_mode = json_mode
        self._pending = ""

    def feed(self, text: str) -> str:
        buf = self._pending + text
        self._pending = ""
        if not buf:
            return ""
        m = _PARTIAL_TAIL_RE.search(buf, max(0, len(buf) - MAX_PLACEHOLDER_LEN))
        if m is not None:
            self._pending = buf[m.start():]
            buf = buf[: m.start()]
        return self._restore(buf)

    def finish(self) -> str:
        tail, self._pending = self._pending, ""
        return self._restore(tail)

    def _restore(self, s: str) -> str:
        return self.vault.restore_json_fragment(s) if self.json_mode else self.vault.restore(s)


def inside_placeholder(text: str, s) -> bool:
    """True when the span lies inside one of our own ``<KIND_n>`` placeholders. Brackets alone
    are not enough: ``Jane Doe <jane@example.com>`` is an address to mask, not a placeholder."""
    lo = text.rfind("<", max(0, s.start - MAX_PLACEHOLDER_LEN), s.start + 1)
    if lo < 0:
        return False
    m = PLACEHOLDER_RE.match(text, lo)
    return m is not None and m.end() >= s.end
