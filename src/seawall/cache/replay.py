"""Streams and the cache: replay a stored chat.completion as chunks, and rebuild the complete
chat.completion from a live stream so it can be stored."""
from __future__ import annotations

import time
from typing import Any, AsyncIterator

PIECE = 64  # characters of content per replayed chunk


def replay(body: dict, include_usage: bool) -> AsyncIterator[dict]:
    """A complete chat.completion as the chunks an upstream would have streamed."""
    base = {"id": body.get("id") or "chatcmpl-cache", "object": "chat.completion.chunk",
            "created": body.get("created") or int(time.time()), "model": body.get("model")}
    if body.get("system_fingerprint"):
        base["system_fingerprint"] = body["system_fingerprint"]

    def chunk(index: int, delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    async def gen() -> AsyncIterator[dict]:
        for choice in body.get("choices") or ():
            i = choice.get("index", 0)
            msg = choice.get("message") or {}
            yield chunk(i, {"role": msg.get("role") or "assistant", "content": ""})
            text = msg.get("content")
            if isinstance(text, str):
                for k in range(0, len(text), PIECE):
                    yield chunk(i, {"content": text[k:k + PIECE]})
            for j, call in enumerate(msg.get("tool_calls") or ()):
                fn = call.get("function") or {}
                yield chunk(i, {"tool_calls": [{"index": j, "id": call.get("id"), "type": call.get("type", "function"),
                                                "function": {"name": fn.get("name"), "arguments": fn.get("arguments", "")}}]})
            if msg.get("refusal"):
                yield chunk(i, {"refusal": msg["refusal"]})
            yield chunk(i, {}, choice.get("finish_reason") or "stop")
        if include_usage and body.get("usage"):
            yield {**base, "choices": [], "usage": body["usage"]}

    return gen()


class Accumulator:
    """Builds the complete chat.completion from streamed chunks."""

    def __init__(self) -> None:
        self.head: dict = {}
        self.choices: dict[int, dict] = {}
        self.usage: dict | None = None

    def feed(self, c: dict) -> None:
        if not self.head:
            self.head = {k: c.get(k) for k in ("id", "created", "model", "system_fingerprint") if c.get(k)}
        if c.get("usage"):
            self.usage = c["usage"]
        for ch in c.get("choices") or ():
            st = self.choices.get(ch.get("index", 0))
            if st is None:
                st = self.choices[ch.get("index", 0)] = {"role": "assistant", "content": [], "calls": {},
                                                         "finish": None, "refusal": []}
            d = ch.get("delta") or {}
            if d.get("role"):
                st["role"] = d["role"]
            if d.get("content"):
                st["content"].append(d["content"])
            if d.get("refusal"):
                st["refusal"].append(d["refusal"])
            for tc in d.get("tool_calls") or ():
                slot = st["calls"].setdefault(tc.get("index", 0), {"id": None, "type": "function", "name": "", "args": []})
                if tc.get("id"):
                    slot["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot["name"] += fn["name"]
                if fn.get("arguments"):
                    slot["args"].append(fn["arguments"])
            if ch.get("finish_reason"):
                st["finish"] = ch["finish_reason"]

    def body(self, usage: dict | None) -> dict:
        choices = []
        for i, st in sorted(self.choices.items()):
            msg: dict[str, Any] = {"role": st["role"], "content": "".join(st["content"]) if st["content"] or not st["calls"] else None}
            if st["calls"]:
                msg["tool_calls"] = [{"id": s["id"], "type": s["type"], "function": {"name": s["name"], "arguments": "".join(s["args"])}}
                                     for _, s in sorted(st["calls"].items())]
            if st["refusal"]:
                msg["refusal"] = "".join(st["refusal"])
            choices.append({"index": i, "message": msg, "logprobs": None, "finish_reason": st["finish"]})
        out = {"id": self.head.get("id"), "object": "chat.completion", "created": self.head.get("created"),
               "model": self.head.get("model"), "choices": choices}
        if self.head.get("system_fingerprint"):
            out["system_fingerprint"] = self.head["system_fingerprint"]
        u = self.usage or usage
        if u:
            out["usage"] = u
        return out
