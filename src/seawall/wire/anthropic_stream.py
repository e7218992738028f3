"""Anthropic Messages, inbound, streamed: internal chat.completion.chunk dicts -> Anthropic
stream events for a client of Seawall's `POST /v1/messages` (the request and complete-answer
translations are in anthropic_inbound)."""
from __future__ import annotations

from typing import Any

import orjson

from seawall.wire.anthropic_inbound import _message_id, _new_id, _stop_reason, _usage


def sse_event(name: str, data: dict) -> bytes:
    """One server-sent event as Anthropic sends it: `event: <name>\\ndata: <json>\\n\\n`."""
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class ChatStreamToMessages:
    """Turns internal `chat.completion.chunk` dicts into Anthropic stream events.

    Event order follows Anthropic's documented flow: `message_start`, then for each content
    block `content_block_start`, `content_block_delta`*, `content_block_stop`, then one
    `message_delta` (stop reason and usage) and `message_stop`. Only one block is open at a
    time: text turning into a tool call (or back) closes the open block first. Tool-call JSON
    fragments are forwarded as they come (`input_json_delta`); nothing is buffered.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = _new_id("msg_")
        self._started = False
        self._finished = False
        self._next_index = 0
        self._open: tuple[str, Any] | None = None  # ("text", None) | ("tool", chat index)
        self._open_index = -1
        self._tool_blocks: dict[int, int] = {}  # chat tool_call index -> block index
        self._finish_reason: Any = None
        self._matched_stop: Any = None
        self._usage: dict | None = None

    def _start(self, chunk: dict | None) -> list[tuple[str, dict]]:
        self._started = True
        if chunk and isinstance(chunk.get("id"), str) and chunk["id"]:
            self.id = _message_id(chunk["id"])
        usage = _usage(chunk.get("usage") if chunk else None)
        usage["output_tokens"] = 0
        message = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return [("message_start", {"type": "message_start", "message": message})]

    def _close(self) -> list[tuple[str, dict]]:
        if self._open is None:
            return []
        self._open = None
        return [("content_block_stop", {"type": "content_block_stop", "index": self._open_index})]

    def _open_block(self, kind: tuple[str, Any], block: dict) -> list[tuple[str, dict]]:
        events = self._close()
        self._open = kind
        self._open_index = self._next_index
        self._next_index += 1
        events.append(("content_block_start", {
            "type": "content_block_start", "index": self._open_index, "content_block": block,
        }))
        return events

    def _text(self, text: str) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        if self._open is None or self._open[0] != "text":
            events += self._open_block(("text", None), {"type": "text", "text": ""})
        events.append(("content_block_delta", {
            "type": "content_block_delta", "index": self._open_index,
            "delta": {"type": "text_delta", "text": text},
        }))
        return events

    def _tool_call(self, tc: dict) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        idx = tc.get("index", 0)
        fn = tc.get("function") or {}
        if idx not in self._tool_blocks:
            events += self._open_block(("tool", idx), {
                "type": "tool_use", "id": tc.get("id") or _new_id("toolu_"),
                "name": fn.get("name") or "", "input": {},
            })
            self._tool_blocks[idx] = self._open_index
        elif self._open != ("tool", idx):
            # A fragment for a tool call whose block was already closed (providers that
            # interleave calls). Its index still names the right block, so forward it.
            pass
        args = fn.get("arguments")
        if isinstance(args, str) and args:
            events.append(("content_block_delta", {
                "type": "content_block_delta", "index": self._tool_blocks[idx],
                "delta": {"type": "input_json_delta", "partial_json": args},
            }))
        return events

    def feed(self, chunk: dict) -> list[tuple[str, dict]]:
        """Events for one chat chunk (the first call also yields `message_start`)."""
        if self._finished:
            return []
        events = [] if self._started else self._start(chunk)
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            for key in ("content", "refusal"):
                text = delta.get(key)
                if isinstance(text, str) and text:
                    events += self._text(text)
            for tc in delta.get("tool_calls") or []:
                if isinstance(tc, dict):
                    events += self._tool_call(tc)
            if isinstance(delta.get("function_call"), dict):  # legacy single function call
                events += self._tool_call({"index": 0, "function": delta["function_call"]})
            if choice.get("finish_reason") is not None:
                self._finish_reason = choice["finish_reason"]
                self._matched_stop = choice.get("stop_reason")
        return events

    def finish(self) -> list[tuple[str, dict]]:
        """Close the open block and end the message. Safe to call once the chunks ran out."""
        if self._finished:
            return []
        events = [] if self._started else self._start(None)
        self._finished = True
        events += self._close()
        stop_reason, stop_sequence = _stop_reason(self._finish_reason, bool(self._tool_blocks), self._matched_stop)
        usage: dict = {"output_tokens": 0}
        if self._usage is not None:
            usage = _usage(self._usage)
        events.append(("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": usage,
        }))
        events.append(("message_stop", {"type": "message_stop"}))
        return events


