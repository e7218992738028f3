"""Seawall calling an upstream through OpenAI's Responses API (provider `api: responses`).

The pipeline speaks chat completions, so a request is translated here into a Responses request
(messages -> input items, tools flattened, response_format -> text.format, reasoning_effort ->
reasoning.effort) and the answer, or its stream of events, back into chat form. Requests from
Seawall's own `/v1/responses` arrive here as chat (jobs/responses_wire.py), so nothing a chat
body can say is lost on the way. Fields that would change the answer's shape and that the
Responses API cannot honour (`n` > 1, `stop`, `logprobs`, audio) are refused, not dropped;
sampling hints it has no field for (penalties, `seed`, `logit_bias`) are left out.

`store` is sent as false unless the request asks for it: the upstream keeps no conversation
that Seawall did not ask it to keep (Seawall keeps its own for `previous_response_id`).
"""
from __future__ import annotations

import time
from typing import Any

from ..core.errors import GatewayError, invalid

PASSED = ("temperature", "top_p", "user", "parallel_tool_calls", "metadata", "service_tier",
          "prompt_cache_key", "safety_identifier")


class UpstreamFailed(Exception):
    """The upstream reported a failed response (status `failed`, or an `error` event)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _parts(content: Any, role: str, param: str) -> str | list[dict]:
    """A chat message's content -> Responses content: a string, or input parts."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if not isinstance(content, list):
        raise invalid("content must be a string or a list of parts", param)
    text_type = "output_text" if role == "assistant" else "input_text"
    out: list[dict] = []
    for j, p in enumerate(content):
        t = p.get("type") if isinstance(p, dict) else None
        if t == "text" and isinstance(p.get("text"), str):
            out.append({"type": text_type, "text": p["text"]})
        elif t == "image_url" and role == "user" and isinstance((p.get("image_url") or {}).get("url"), str):
            img = {"type": "input_image", "image_url": p["image_url"]["url"]}
            if p["image_url"].get("detail"):
                img["detail"] = p["image_url"]["detail"]
            out.append(img)
        else:
            raise invalid(f"content part type {t!r} is not supported for this upstream", f"{param}[{j}].type")
    return out


def _input(messages: Any) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list", "messages")
    items: list[dict] = []
    for i, m in enumerate(messages):
        p = f"messages[{i}]"
        if not isinstance(m, dict):
            raise invalid("each message must be an object", p)
        role = m.get("role")
        if role in ("system", "developer", "user"):
            items.append({"type": "message", "role": role, "content": _parts(m.get("content"), role, f"{p}.content")})
        elif role == "assistant":
            if m.get("content"):
                items.append({"type": "message", "role": "assistant",
                              "content": _parts(m["content"], role, f"{p}.content")})
            for k, c in enumerate(m.get("tool_calls") or []):
                fn = c.get("function") if isinstance(c, dict) else None
                if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not c.get("id"):
                    raise invalid("tool call needs an id and a function with a name", f"{p}.tool_calls[{k}]")
                items.append({"type": "function_call", "call_id": c["id"], "name": fn["name"],
                              "arguments": fn.get("arguments") or "{}"})
        elif role == "tool":
            if not m.get("tool_call_id"):
                raise invalid("tool message needs a 'tool_call_id'", f"{p}.tool_call_id")
            out = m.get("content")
            if isinstance(out, list):
                out = "".join(x.get("text", "") for x in out if isinstance(x, dict))
            items.append({"type": "function_call_output", "call_id": m["tool_call_id"], "output": out or ""})
        else:
            raise invalid(f"role {role!r} is not supported for this upstream", f"{p}.role")
    return items


def _tools(tools: Any) -> list[dict]:
    if not isinstance(tools, list):
        raise invalid("tools must be a list", "tools")
    out = []
    for i, t in enumerate(tools):
        fn = t.get("function") if isinstance(t, dict) and t.get("type") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise invalid("only function tools with a name are supported for this upstream", f"tools[{i}]")
        out.append({"type": "function", **{k: fn[k] for k in ("name", "description", "parameters", "strict")
                                           if fn.get(k) is not None}})
    return out


def chat_to_responses(body: dict, model: str, stream: bool) -> dict:
    """An internal chat completions body -> a Responses request for `model`."""
    if body.get("n") not in (None, 1):
        raise invalid("n > 1 is not supported by this upstream (Responses API)", "n")
    for k in ("stop", "logprobs", "top_logprobs", "audio", "functions", "function_call"):
        if body.get(k):
            raise invalid(f"'{k}' is not supported by this upstream (Responses API)", k)
    out: dict[str, Any] = {"model": model, "input": _input(body.get("messages")), "stream": stream,
                           "store": body.get("store") is True}
    for k in PASSED:
        if body.get(k) is not None:
            out[k] = body[k]
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        out["max_output_tokens"] = limit
    if body.get("reasoning_effort") is not None:
        out["reasoning"] = {"effort": body["reasoning_effort"]}
    if body.get("tools"):
        out["tools"] = _tools(body["tools"])
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        out["tool_choice"] = choice
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if choice.get("type") != "function" or not isinstance(name, str):
            raise invalid("unsupported tool_choice", "tool_choice")
        out["tool_choice"] = {"type": "function", "name": name}
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        js = rf.get("json_schema") or {}
        out["text"] = {"format": {"type": "json_schema",
                                  **{k: js[k] for k in ("name", "schema", "strict", "description") if k in js}}}
    elif isinstance(rf, dict) and rf.get("type") == "json_object":
        out["text"] = {"format": {"type": "json_object"}}
    elif rf is not None and not (isinstance(rf, dict) and rf.get("type") == "text"):
        raise invalid("unsupported response_format", "response_format")
    return out


def chat_usage(u: Any) -> dict | None:
    if not isinstance(u, dict):
        return None
    i, o = int(u.get("input_tokens") or 0), int(u.get("output_tokens") or 0)
    return {"prompt_tokens": i, "completion_tokens": o, "total_tokens": int(u.get("total_tokens") or i + o),
            "prompt_tokens_details": {"cached_tokens": int((u.get("input_tokens_details") or {}).get("cached_tokens") or 0)},
            "completion_tokens_details": {
                "reasoning_tokens": int((u.get("output_tokens_details") or {}).get("reasoning_tokens") or 0)}}


def _finish(resp: dict, has_calls: bool) -> str:
    if resp.get("status") == "incomplete":
        reason = (resp.get("incomplete_details") or {}).get("reason")
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if has_calls else "stop"


def _failed(resp: dict) -> UpstreamFailed:
    err = resp.get("error") or {}
    return UpstreamFailed(err.get("code"), err.get("message") or "the upstream response failed")


def responses_to_chat(resp: dict) -> dict:
    """A Responses answer -> a chat completion. Raises UpstreamFailed for a failed response and
    GatewayError for one that is not a finished response at all."""
    status = resp.get("status")
    if status == "failed":
        raise _failed(resp)
    if status not in ("completed", "incomplete") or not isinstance(resp.get("output"), list):
        raise GatewayError("upstream_error", f"upstream answer is not a finished response (status {status!r})")
    text: list[str] = []
    refusal: list[str] = []
    calls = []
    for item in resp["output"]:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    text.append(part.get("text") or "")
                elif part.get("type") == "refusal":
                    refusal.append(part.get("refusal") or "")
        elif item.get("type") == "function_call":
            calls.append({"id": item.get("call_id"), "type": "function",
                          "function": {"name": item.get("name"), "arguments": item.get("arguments") or ""}})
        # reasoning items and built-in tool calls have no chat form
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text else None,
                               "refusal": "".join(refusal) if refusal else None}
    if calls:
        message["tool_calls"] = calls
    out = {"id": resp.get("id"), "object": "chat.completion", "created": resp.get("created_at") or int(time.time()),
           "model": resp.get("model"),
           "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(resp, bool(calls))}]}
    usage = chat_usage(resp.get("usage"))
    if usage is not None:
        out["usage"] = usage
    return out


class ResponsesStreamToChat:
    """Responses stream events (name, data) -> internal `chat.completion.chunk` dicts."""

    def __init__(self, model: str) -> None:
        self.id, self.model, self.created = "resp", model, int(time.time())
        self._calls: dict[str, int] = {}  # function_call item id -> chat tool_call index
        self._started = False
        self.usage: dict | None = None
        self.done = False

    def _chunk(self, delta: dict, finish: str | None = None) -> dict:
        if not self._started:
            self._started = True
            delta = {"role": "assistant", **delta}
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    def feed(self, event: str | None, data: Any) -> list[dict]:
        """Chunks for one event; raises UpstreamFailed on `response.failed` or `error`."""
        if not isinstance(data, dict):
            raise GatewayError("upstream_error", "upstream sent a stream event that is not an object")
        etype = data.get("type") or event
        if etype == "error":
            raise UpstreamFailed(data.get("code"), data.get("message") or "upstream stream error")
        if etype == "response.created":
            resp = data.get("response") or {}
            self.id = resp.get("id") or self.id
            self.created = resp.get("created_at") or self.created
            return []
        if etype == "response.output_text.delta" and data.get("delta"):
            return [self._chunk({"content": data["delta"]})]
        if etype == "response.refusal.delta" and data.get("delta"):
            return [self._chunk({"refusal": data["delta"]})]
        if etype == "response.output_item.added" and (data.get("item") or {}).get("type") == "function_call":
            item = data["item"]
            n = self._calls[item.get("id")] = len(self._calls)
            return [self._chunk({"tool_calls": [{"index": n, "id": item.get("call_id"), "type": "function",
                                                 "function": {"name": item.get("name"),
                                                              "arguments": item.get("arguments") or ""}}]})]
        if etype == "response.function_call_arguments.delta" and data.get("delta"):
            n = self._calls.get(data.get("item_id"))
            if n is None:
                raise GatewayError("upstream_error", "upstream streamed arguments for a call it never started")
            return [self._chunk({"tool_calls": [{"index": n, "function": {"arguments": data["delta"]}}]})]
        if etype in ("response.completed", "response.incomplete", "response.failed"):
            resp = data.get("response") or {}
            if etype == "response.failed":
                raise _failed(resp)
            self.usage = chat_usage(resp.get("usage"))
            self.done = True
            return [self._chunk({}, _finish(resp, bool(self._calls)))]
        return []  # created/in_progress, part and item boundaries, *.done, reasoning: nothing new for chat

    def usage_chunk(self) -> dict | None:
        if self.usage is None:
            return None
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": self.usage}
