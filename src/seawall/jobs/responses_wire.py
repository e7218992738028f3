"""OpenAI's Responses API <-> chat completions, both directions, and the streamed events.

The pipeline speaks chat completions; a Responses request is translated at the edge (input items,
instructions, function tools and their results, text.format, limits) and its answer translated
back into output items. Conversation state for `previous_response_id` is kept as the chat
messages that produced a response plus its output (jobs/responses.py stores them).
"""
from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

from ..core.errors import GatewayError

PASSED = ("temperature", "top_p", "user", "parallel_tool_calls", "seed", "service_tier", "prompt_cache_key",
          "safety_identifier")


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _text_of(content: Any, n: int) -> Any:
    """A message item's content -> chat content (a string, or parts for images)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise GatewayError("invalid_request", f"input[{n}].content must be a string or a list", param="input")
    parts = []
    for p in content:
        t = p.get("type") if isinstance(p, dict) else None
        if t in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": p.get("text", "")})
        elif t == "input_image" and p.get("image_url"):
            parts.append({"type": "image_url", "image_url": {"url": p["image_url"]}})
        else:
            raise GatewayError("invalid_request", f"input[{n}]: content part type {t!r} is not supported",
                               param="input")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def input_to_messages(inp: Any) -> list[dict]:
    if isinstance(inp, str):
        return [{"role": "user", "content": inp}]
    if not isinstance(inp, list):
        raise GatewayError("invalid_request", "input must be a string or a list of items", param="input")
    msgs: list[dict] = []
    for n, item in enumerate(inp):
        if not isinstance(item, dict):
            raise GatewayError("invalid_request", f"input[{n}] must be an object", param="input")
        t = item.get("type", "message")
        if t == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise GatewayError("invalid_request", f"input[{n}].role is not valid", param="input")
            msgs.append({"role": "system" if role == "developer" else role, "content": _text_of(item.get("content"), n)})
        elif t == "function_call":
            call = {"id": item.get("call_id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments", "")}}
            if msgs and msgs[-1]["role"] == "assistant" and msgs[-1].get("tool_calls") is not None:
                msgs[-1]["tool_calls"].append(call)  # parallel calls belong to one assistant turn
            else:
                msgs.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif t == "function_call_output":
            out = item.get("output")
            msgs.append({"role": "tool", "tool_call_id": item.get("call_id"),
                         "content": out if isinstance(out, str) else orjson.dumps(out).decode()})
        else:
            raise GatewayError("invalid_request", f"input[{n}]: item type {t!r} is not supported", param="input")
    return msgs


def to_chat(body: dict, history: list[dict]) -> dict:
    """A Responses request (+ the stored conversation before it) -> a chat completions body."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayError("invalid_request", "model is required", param="model")
    msgs = list(history)
    if body.get("instructions"):
        msgs = [m for m in msgs if m.get("role") != "system"]  # instructions do not carry over
        msgs.insert(0, {"role": "system", "content": str(body["instructions"])})
    msgs += input_to_messages(body.get("input", []))
    chat: dict[str, Any] = {"model": model, "messages": msgs}
    for k in PASSED:
        if body.get(k) is not None:
            chat[k] = body[k]
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    effort = (body.get("reasoning") or {}).get("effort") if isinstance(body.get("reasoning"), dict) else None
    if effort is not None:
        chat["reasoning_effort"] = effort
    tools = body.get("tools") or []
    if tools:
        chat["tools"] = []
        for t in tools:
            if t.get("type") != "function":
                raise GatewayError("invalid_request", f"tool type {t.get('type')!r} is not supported", param="tools")
            fn = {k: t[k] for k in ("name", "description", "parameters", "strict") if t.get(k) is not None}
            chat["tools"].append({"type": "function", "function": fn})
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        chat["tool_choice"] = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        chat["response_format"] = {"type": "json_schema", "json_schema": {
            k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}}
    elif fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    return chat


def usage_of(u: dict | None) -> dict:
    u = u or {}
    i, o = u.get("prompt_tokens", 0), u.get("completion_tokens", 0)
    return {"input_tokens": i, "output_tokens": o, "total_tokens": u.get("total_tokens", i + o),
            "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}


def output_items(message: dict) -> list[dict]:
    items = []
    if message.get("content"):
        items.append({"type": "message", "id": new_id("msg_"), "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": message["content"], "annotations": []}]})
    for c in message.get("tool_calls") or []:
        fn = c.get("function", {})
        items.append({"type": "function_call", "id": new_id("fc_"), "call_id": c.get("id"), "name": fn.get("name"),
                      "arguments": fn.get("arguments", ""), "status": "completed"})
    return items


def envelope(rid: str, body: dict, status: str, output: list[dict], usage: dict | None,
             created_at: float | None = None, error: dict | None = None) -> dict:
    """The response object, as the SDK reads it."""
    fmt = (body.get("text") or {}).get("format") or {"type": "text"}
    return {
        "id": rid, "object": "response", "created_at": int(created_at or time.time()), "status": status,
        "background": bool(body.get("background")), "error": error, "incomplete_details": None,
        "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
        "model": body.get("model"), "output": output, "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"), "reasoning": body.get("reasoning"),
        "store": body.get("store", True), "temperature": body.get("temperature", 1.0), "text": {"format": fmt},
        "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0), "truncation": "disabled", "usage": usage,
        "metadata": body.get("metadata") or {}, "user": body.get("user"),
    }


def from_chat(rid: str, body: dict, chat: dict, created_at: float | None = None) -> dict:
    message = (chat.get("choices") or [{}])[0].get("message") or {}
    return envelope(rid, body, "completed", output_items(message), usage_of(chat.get("usage")), created_at)


def output_to_messages(output: list[dict]) -> list[dict]:
    """A response's output items -> the assistant turn(s) that continue its conversation."""
    text = "".join(p.get("text", "") for it in output if it.get("type") == "message" for p in it.get("content", []))
    calls = [{"id": it["call_id"], "type": "function", "function": {"name": it["name"], "arguments": it["arguments"]}}
             for it in output if it.get("type") == "function_call"]
    if not text and not calls:
        return []
    msg: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        msg["tool_calls"] = calls
    return [msg]


class StreamTranslator:
    """chat.completion.chunk dicts -> Responses stream events (type + sequence_number)."""

    def __init__(self, rid: str, body: dict) -> None:
        self.rid, self.body = rid, body
        self.seq = 0
        self.started = False
        self.text: str | None = None
        self.msg_id = new_id("msg_")
        self.calls: dict[int, dict] = {}  # chat tool-call index -> its function_call item
        self.order: list[tuple[str, Any]] = []  # output order: ("message", None) | ("call", index)
        self.usage: dict | None = None
        self.final: dict | None = None

    def _ev(self, type_: str, **data) -> tuple[str, dict]:
        self.seq += 1
        return type_, {"type": type_, "sequence_number": self.seq - 1, **data}

    def _index(self, key) -> int:
        return self.order.index(key)

    def feed(self, chunk: dict) -> list[tuple[str, dict]]:
        out = []
        if not self.started:
            self.started = True
            snap = envelope(self.rid, self.body, "in_progress", [], None)
            out += [self._ev("response.created", response=snap), self._ev("response.in_progress", response=snap)]
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self.text is None:
                    self.text = ""
                    self.order.append(("message", None))
                    i = self._index(("message", None))
                    out.append(self._ev("response.output_item.added", output_index=i, item={
                        "type": "message", "id": self.msg_id, "status": "in_progress", "role": "assistant",
                        "content": []}))
                    out.append(self._ev("response.content_part.added", item_id=self.msg_id, output_index=i,
                                        content_index=0, part={"type": "output_text", "text": "", "annotations": []}))
                self.text += delta["content"]
                out.append(self._ev("response.output_text.delta", item_id=self.msg_id,
                                    output_index=self._index(("message", None)), content_index=0,
                                    delta=delta["content"], logprobs=[]))
            for tc in delta.get("tool_calls") or []:
                k = tc.get("index", 0)
                fn = tc.get("function") or {}
                if k not in self.calls:
                    self.calls[k] = {"type": "function_call", "id": new_id("fc_"), "call_id": tc.get("id"),
                                     "name": fn.get("name"), "arguments": "", "status": "in_progress"}
                    self.order.append(("call", k))
                    out.append(self._ev("response.output_item.added", output_index=self._index(("call", k)),
                                        item=dict(self.calls[k])))
                if fn.get("arguments"):
                    self.calls[k]["arguments"] += fn["arguments"]
                    out.append(self._ev("response.function_call_arguments.delta", item_id=self.calls[k]["id"],
                                        output_index=self._index(("call", k)), delta=fn["arguments"]))
        return out

    def items(self) -> list[dict]:
        items = []
        for kind, k in self.order:
            if kind == "message":
                items.append({"type": "message", "id": self.msg_id, "status": "completed", "role": "assistant",
                              "content": [{"type": "output_text", "text": self.text or "", "annotations": []}]})
            else:
                items.append({**self.calls[k], "status": "completed"})
        return items

    def finish(self) -> list[tuple[str, dict]]:
        out = []
        for i, item in enumerate(self.items()):
            if item["type"] == "message":
                part = item["content"][0]
                out.append(self._ev("response.output_text.done", item_id=item["id"], output_index=i, content_index=0,
                                    text=part["text"], logprobs=[]))
                out.append(self._ev("response.content_part.done", item_id=item["id"], output_index=i,
                                    content_index=0, part=part))
            else:
                out.append(self._ev("response.function_call_arguments.done", item_id=item["id"], output_index=i,
                                    arguments=item["arguments"]))
            out.append(self._ev("response.output_item.done", output_index=i, item=item))
        self.final = envelope(self.rid, self.body, "completed", self.items(), usage_of(self.usage))
        out.append(self._ev("response.completed", response=self.final))
        return out


def sse(name: str, data: dict) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
