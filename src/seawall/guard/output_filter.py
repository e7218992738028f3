"""The output side of the guard, per request: the leakage scan (secrets, configured PII),
the JSON-schema check of structured answers, and restoring reversible tokens, for complete
answers and for streams chunk by chunk. Made by `Guard.output_filter`."""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..core.errors import GatewayError
from .output import StreamScanner, validate_json_output
from .pii import merge_spans
from .policy import GuardPolicy
from .types import Findings, Span
from .vault import StreamRestorer, TokenVault, inside_placeholder

if TYPE_CHECKING:
    from .engine import Guard


class OutputFilter:
    """Per-request output side: leakage scan, JSON-schema check, token restoration.

    Complete responses: ``filter_response``. Streams: ``filter_chunk`` per chunk (returns the
    chunk with safe, restored deltas; held-back text is flushed on the choice's
    ``finish_reason``), then ``finish()`` for anything left when the stream ends without one.
    A block raises ``GatewayError("guard_blocked")``.
    """

    def __init__(self, guard: Guard, policy: GuardPolicy, vault: TokenVault, request: dict | None) -> None:
        self.guard = guard
        self.policy = policy
        self.vault = vault
        self.findings = Findings()
        self.response_format = (request or {}).get("response_format")
        self._streams: dict[tuple, tuple[StreamScanner | None, StreamRestorer]] = {}
        self._json_text: dict[int, list[str]] = {}
        self.schema_errors: dict[int, list[str]] = {}

    # detection used on the way out: secrets always; PII only for kinds with an output action
    def _detect(self, text: str) -> list[Span]:
        spans = self.guard.secrets.analyze(text) if self.policy.output_secrets_action != "allow" else []
        if self.policy.output_pii_actions:
            pii = [s for s in self.guard.pii.analyze(text) if s.kind in self.policy.output_pii_actions]
            spans = merge_spans(spans, [s for s in pii if not inside_placeholder(text, s)])
        return spans

    def _actions(self) -> dict[str, str]:
        from .secrets import KINDS

        acts = {k: self.policy.output_secrets_action for k in KINDS}
        for k, a in self.policy.output_pii_actions.items():
            acts[k] = "redact" if a == "tokenize" else a
        return acts

    def _scanner(self) -> StreamScanner | None:
        if not self.policy.enabled or not self.policy.output_enabled:
            return None
        return StreamScanner(
            self._detect,
            self._actions(),
            holdback=self.policy.output_holdback_chars,
            max_hold=self.policy.output_max_hold_chars,
            findings=self.findings,
            mask_char=self.policy.mask_char,
        )

    def _pipe(self, key: tuple, json_mode: bool):
        p = self._streams.get(key)
        if p is None:
            p = self._streams[key] = (self._scanner(), StreamRestorer(self.vault, json_mode=json_mode))
        return p

    # -- complete responses
    def filter_text(self, text: str, json_mode: bool = False) -> str:
        sc = self._scanner()
        if sc is not None:
            text = sc.scan_complete(text)
        return self.vault.restore_json(text) if json_mode else self.vault.restore(text)

    def filter_response(self, response: dict) -> dict:
        out = copy.deepcopy(response)
        for ch in out.get("choices") or []:
            msg = ch.get("message")
            if isinstance(msg, dict):
                if isinstance(msg.get("content"), str):
                    raw = msg["content"]
                    self._check_schema(ch.get("index", 0), raw)
                    msg["content"] = self.filter_text(raw)
                for tc in msg.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    if isinstance(fn.get("arguments"), str):
                        fn["arguments"] = self.filter_text(fn["arguments"], json_mode=True)
            elif isinstance(ch.get("text"), str):  # legacy completions
                ch["text"] = self.filter_text(ch["text"])
        return out

    def _check_schema(self, index: int, raw: str) -> None:
        if not self.policy.validate_json_schema or not self.response_format:
            return
        errors = validate_json_output(raw, self.response_format)
        if errors:
            self.schema_errors[index] = errors
            self.findings.add("schema", "json_schema", "block" if self.policy.on_invalid_json == "error" else "flag", "output")
            if self.policy.on_invalid_json == "error":
                raise GatewayError(
                    "guard_blocked",
                    "The response did not match the requested JSON schema: " + "; ".join(errors[:3]),
                    param="response_format",
                )

    # -- streams
    def _feed(self, key: tuple, text: str, json_mode: bool, final: bool) -> str:
        sc, rs = self._pipe(key, json_mode)
        safe = text if sc is None else sc.feed(text)
        if final:
            safe += "" if sc is None else sc.finish()
            return rs.feed(safe) + rs.finish()
        return rs.feed(safe)

    def filter_chunk(self, chunk: dict) -> dict:
        out = _copy_chunk(chunk)
        for ch in out.get("choices") or []:
            idx = ch.get("index", 0)
            final = ch.get("finish_reason") is not None
            delta = ch.get("delta")
            if not isinstance(delta, dict):
                if not final:
                    continue
                delta = ch["delta"] = {}
            text = delta.get("content")
            if isinstance(text, str) or (final and (idx, "c") in self._streams):
                raw = text if isinstance(text, str) else ""
                if self.response_format:
                    self._json_text.setdefault(idx, []).append(raw)
                delta["content"] = self._feed((idx, "c"), raw, False, final)
            for tc in delta.get("tool_calls") or []:
                fn = tc.get("function") or {}
                if isinstance(fn.get("arguments"), str):
                    fn["arguments"] = self._feed((idx, "t", tc.get("index", 0)), fn["arguments"], True, False)
            if final:
                for key in [k for k in self._streams if k[0] == idx and k[1] == "t"]:
                    tail = self._feed(key, "", True, True)
                    if tail:
                        delta.setdefault("tool_calls", []).append({"index": key[2], "function": {"arguments": tail}})
                    del self._streams[key]
                self._streams.pop((idx, "c"), None)
                if self.response_format and idx in self._json_text:
                    self._check_schema(idx, "".join(self._json_text.pop(idx)))
        return out

    def finish(self) -> list[dict]:
        """Flush what is still held back when a stream ended without finish_reason."""
        chunks = []
        for key in list(self._streams):
            tail = self._feed(key, "", key[1] == "t", True)
            del self._streams[key]
            if not tail:
                continue
            if key[1] == "c":
                delta = {"content": tail}
            else:
                delta = {"tool_calls": [{"index": key[2], "function": {"arguments": tail}}]}
            chunks.append({"object": "chat.completion.chunk", "choices": [{"index": key[0], "delta": delta, "finish_reason": None}]})
        return chunks


def _copy_chunk(chunk: dict) -> dict:
    """A copy of the parts of a chunk that filter_chunk changes (choices, deltas, tool-call
    functions): a deepcopy per streamed chunk cost as much as the leak scan itself."""
    out = dict(chunk)
    choices = chunk.get("choices")
    if isinstance(choices, list):
        out["choices"] = copied = []
        for ch in choices:
            if isinstance(ch, dict):
                ch = dict(ch)
                delta = ch.get("delta")
                if isinstance(delta, dict):
                    delta = ch["delta"] = dict(delta)
                    tcs = delta.get("tool_calls")
                    if isinstance(tcs, list):
                        delta["tool_calls"] = [
                            {**tc, "function": dict(tc["function"])}
                            if isinstance(tc, dict) and isinstance(tc.get("function"), dict) else tc
                            for tc in tcs
                        ]
            copied.append(ch)
    return out
