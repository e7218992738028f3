"""Output checks: a streaming-safe leakage scan and JSON-schema validation.

``StreamScanner`` sees the answer as it streams. It emits text as soon as it is known to be
safe and holds back only a small tail: the last ``holdback`` characters, widened to the start
of the whitespace-free run they sit in (secrets have no spaces, so a key split across chunks
is held until it is complete, then caught), and capped at ``max_hold`` characters. A short
window of already-emitted text is kept as scan context (``aws_secret_access_key = `` in one
chunk and the key in the next is still recognised).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..core.errors import GatewayError
from .pii import mask_value, redact_label
from .types import Findings, Span

Detect = Callable[[str], list[Span]]


class StreamScanner:
    """``feed(text) -> text safe to emit``; ``finish() -> tail``.

    ``actions`` maps a span kind to allow / mask / redact / block; a kind not listed uses
    ``default_action``. A block raises ``GatewayError("guard_blocked")`` whose message names the
    kind, never the value.
    """

    def __init__(
        self,
        detect: Detect,
        actions: dict[str, str],
        default_action: str = "allow",
        holdback: int = 64,
        max_hold: int = 8192,
        context: int = 64,
        findings: Findings | None = None,
        mask_char: str = "*",
        source: str = "output",
    ) -> None:
        self.detect = detect
        self.actions = actions
        self.default_action = default_action
        self.holdback = holdback
        self.max_hold = max(max_hold, holdback + 1)
        self.context = context
        self.findings = findings if findings is not None else Findings()
        self.mask_char = mask_char
        self.source = source
        self._pending = ""
        self._ctx = ""  # tail of emitted text, scanned again but never re-emitted
        self.blocked: Span | None = None

    def _action(self, kind: str) -> str:
        return self.actions.get(kind, self.default_action)

    def _process(self, final: bool) -> str:
        buf = self._pending
        if not buf:
            return ""
        ctx = self._ctx
        scan = ctx + buf
        off = len(ctx)
        spans = [
            Span(s.kind, s.start - off, s.end - off, s.score, s.detector)
            for s in self.detect(scan)
            if s.end > off
        ]
        for s in spans:
            if self._action(s.kind) == "block":
                self.blocked = s
                self.findings.add(s.detector if s.detector != "pattern" else "pii", s.kind, "block", self.source)
                self._pending = ""
                raise GatewayError(
                    "guard_blocked",
                    f"The response was blocked by the output guard: it contained a {s.kind.lower().replace('_', ' ')}.",
                )
        if final:
            cut = len(buf)
        else:
            cut = len(buf) - self.holdback
            if cut > 0:
                c = cut
                while c > 0 and not buf[c - 1].isspace():
                    c -= 1
                cut = c if c > 0 or len(buf) <= self.max_hold else cut
            if cut <= 0 and len(buf) > self.max_hold:
                cut = len(buf) - self.holdback
            for s in spans:  # never cut through a finding
                if s.start < cut < s.end:
                    cut = max(0, s.start)
        if cut <= 0:
            return ""
        emit_spans = [s for s in spans if s.end <= cut and s.start >= 0]
        out = self._apply(buf[:cut], emit_spans)
        self._pending = buf[cut:]
        self._ctx = (ctx + buf[:cut])[-self.context :] if self.context else ""
        return out

    def _apply(self, text: str, spans: list[Span]) -> str:
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for s in sorted(spans, key=lambda x: x.start):
            if s.start < last:
                continue
            act = self._action(s.kind)
            if act == "allow":
                continue
            det = "secrets" if s.detector in ("secrets", "detect-secrets") else "pii"
            self.findings.add(det, s.kind, act, self.source)
            parts.append(text[last : s.start])
            value = text[s.start : s.end]
            parts.append(mask_value(value, self.mask_char) if act == "mask" else redact_label(s.kind))
            last = s.end
        parts.append(text[last:])
        return "".join(parts)

    def feed(self, text: str) -> str:
        if self.blocked is not None:
            raise GatewayError("guard_blocked", "The response was blocked by the output guard.")
        self._pending += text
        return self._process(final=False)

    def finish(self) -> str:
        if self.blocked is not None:
            raise GatewayError("guard_blocked", "The response was blocked by the output guard.")
        return self._process(final=True)

    def scan_complete(self, text: str) -> str:
        """Whole-text variant for non-streamed responses."""
        self._pending = text
        return self._process(final=True)


# ---------------------------------------------------------------- JSON schema


def json_schema_of(response_format: Any) -> tuple[bool, dict | None]:
    """(wants_json, schema or None) from an OpenAI ``response_format``."""
    if not isinstance(response_format, dict):
        return False, None
    t = response_format.get("type")
    if t == "json_object":
        return True, {"type": "object"}
    if t == "json_schema":
        js = response_format.get("json_schema") or {}
        schema = js.get("schema") if isinstance(js, dict) else None
        return True, schema if isinstance(schema, dict) else {}
    return False, None


def validate_json_output(text: str, response_format: Any) -> list[str]:
    """Errors (empty list = valid) of ``text`` against what ``response_format`` asks for."""
    wants, schema = json_schema_of(response_format)
    if not wants:
        return []
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [f"not valid JSON: {e.msg} at position {e.pos}"]
    if not schema:
        return []
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    errors = []
    for err in validator.iter_errors(doc):
        path = "/".join(str(p) for p in err.absolute_path) or "(root)"
        errors.append(f"{path}: {err.message}")
        if len(errors) >= 10:
            break
    return errors
