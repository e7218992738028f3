"""Seawall talking to an Anthropic upstream: internal chat format <-> Anthropic Messages.

The Anthropic provider adapter uses these to turn an internal (OpenAI Chat Completions shaped)
request into a Messages API body, and the answer, streamed or not, back into internal
`chat.completion` / `chat.completion.chunk` dicts. Pure functions and one small stream
translator; no I/O.

Choices made where the formats do not line up (each one is tested):

* All `system` / `developer` messages, wherever they sit, are gathered in order into the
  top-level `system` string (joined with a blank line); Anthropic has no mid-conversation
  system turn.
* Anthropic wants user/assistant turns to alternate, so consecutive same-role messages are
  merged into one message of content blocks; `tool` messages become `tool_result` blocks in a
  user turn (and so merge with neighbouring tool answers and a following user message).
* Empty text is dropped (Anthropic rejects empty text blocks); a message left with no blocks
  is skipped. A final assistant message (a prefill) has trailing whitespace stripped, which
  Anthropic would otherwise reject.
* `response_format`: json_object becomes a system instruction asking for JSON only. For
  json_schema, `structured_outputs=True` uses Anthropic's native `output_config.format`
  (models that support structured outputs); otherwise (the default, which works on every
  model) the instruction quotes the schema.
* Sampling parameters: the current Messages API version (2026-10-21, the default of the 2.x
  SDKs, which no longer have these parameters) rejects `temperature` / `top_p` with a 400, and
  recent models reject `temperature` under the old version too. So they are dropped unless
  the caller passes `sampling_params=True` (a deployment on the 2023-06-01 version with a
  model that still accepts them); then `temperature` is clamped to Anthropic's 0..1 range.
* `n > 1` is refused (400). Parameters without an equivalent (penalties, logit_bias,
  logprobs, seed, stream_options, ...) are dropped. `parallel_tool_calls: false` ->
  `tool_choice.disable_parallel_tool_use`.
* Answer side: text blocks are concatenated into `content`; thinking blocks are dropped;
  `prompt_tokens` = input + cache_read + cache_creation tokens (the OpenAI meaning: all input
  tokens), with cache reads reported in `prompt_tokens_details.cached_tokens`.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Mapping

import orjson

from seawall.core.errors import GatewayError, invalid

__all__ = [
    "chat_request_to_messages",
    "messages_response_to_chat",
    "MessagesStreamToChat",
    "anthropic_error_to_gateway",
]

JSON_ONLY_INSTRUCTION = "Respond only with a single valid JSON object and no other text."


# ----------------------------------------------------------------------------- request


def _parts_text(content: Any, param: str) -> str:
    """Text of a system/developer/tool message's content (string or text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid("content must be a string or a list of parts", param)
    texts = []
    for j, part in enumerate(content):
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype not in ("text", "refusal"):
            raise invalid(f"unsupported content part type {ptype!r} here", f"{param}[{j}].type")
        text = part.get(ptype)
        if not isinstance(text, str):
            raise invalid(f"{ptype} part needs a string '{ptype}'", f"{param}[{j}].{ptype}")
        texts.append(text)
    return "".join(texts)


def _image_block(part: dict, param: str) -> dict:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise invalid("image_url part needs a 'url'", f"{param}.image_url.url")
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media:
            raise invalid("data URL images must be base64 encoded with a media type", f"{param}.image_url.url")
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise invalid("image URL must be a data: or http(s): URL", f"{param}.image_url.url")


def _user_blocks(content: Any, param: str) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise invalid("content must be a string or a list of parts", param)
    blocks = []
    for j, part in enumerate(content):
        pp = f"{param}[{j}]"
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype == "text":
            if not isinstance(part.get("text"), str):
                raise invalid("text part needs a string 'text'", f"{pp}.text")
            blocks.append({"type": "text", "text": part["text"]})
        elif ptype == "image_url":
            blocks.append(_image_block(part, pp))
        else:
            raise invalid(f"content part type {ptype!r} is not supported for Anthropic models", f"{pp}.type")
    return blocks


def _tool_use_blocks(calls: Any, param: str) -> list[dict]:
    if not isinstance(calls, list):
        raise invalid("tool_calls must be a list", param)
    blocks = []
    for j, call in enumerate(calls):
        cp = f"{param}[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise invalid("tool call needs a function with a name", f"{cp}.function")
        args = fn.get("arguments")
        if args is None or (isinstance(args, str) and not args.strip()):
            parsed: Any = {}
        else:
            try:
                parsed = orjson.loads(args)
            except (orjson.JSONDecodeError, TypeError):
                parsed = None
        if not isinstance(parsed, dict):
            raise invalid("tool call arguments must be a JSON object", f"{cp}.function.arguments")
        tid = call.get("id")
        if not isinstance(tid, str) or not tid:
            raise invalid("tool call needs an 'id'", f"{cp}.id")
        blocks.append({"type": "tool_use", "id": tid, "name": fn["name"], "input": parsed})
    return blocks


def _convert_tools(tools: Any) -> list[dict]:
    if not isinstance(tools, list):
        raise invalid("tools must be a list", "tools")
    out = []
    for i, tool in enumerate(tools):
        p = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise invalid("only function tools are supported for Anthropic models", f"{p}.type")
        fn = tool.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise invalid("function tool needs a 'function' with a 'name'", f"{p}.function")
        schema = fn.get("parameters")
        if schema is None:
            schema = {"type": "object", "properties": {}}
        elif not isinstance(schema, dict):
            raise invalid("function parameters must be an object", f"{p}.function.parameters")
        t: dict = {"name": fn["name"], "input_schema": schema}
        if isinstance(fn.get("description"), str):
            t["description"] = fn["description"]
        out.append(t)
    return out


def _convert_tool_choice(tc: Any) -> dict:
    if tc == "auto":
        return {"type": "auto"}
    if tc == "required":
        return {"type": "any"}
    if tc == "none":
        return {"type": "none"}
    if isinstance(tc, dict) and tc.get("type") == "function":
        name = (tc.get("function") or {}).get("name")
        if isinstance(name, str) and name:
            return {"type": "tool", "name": name}
    raise invalid("unsupported tool_choice", "tool_choice")


def _response_format(rf: Any, native: bool) -> tuple[str | None, dict | None]:
    """-> (system instruction, output_config.format)."""
    if rf is None:
        return None, None
    if not isinstance(rf, dict):
        raise invalid("response_format must be an object", "response_format")
    rtype = rf.get("type")
    if rtype == "text":
        return None, None
    if rtype == "json_object":
        return JSON_ONLY_INSTRUCTION, None
    if rtype == "json_schema":
        schema = (rf.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            return JSON_ONLY_INSTRUCTION, None
        if native:
            return None, {"type": "json_schema", "schema": schema}
        return f"{JSON_ONLY_INSTRUCTION} It must conform to this JSON Schema: {orjson.dumps(schema).decode()}", None
    raise invalid(f"unsupported response_format type {rtype!r}", "response_format.type")


def chat_request_to_messages(
    body: dict,
    model: str,
    default_max_tokens: int = 4096,
    *,
    sampling_params: bool = False,
    structured_outputs: bool = False,
) -> dict:
    """An internal chat request -> an Anthropic Messages request body for `model`.

    `sampling_params` forwards temperature/top_p (only for API versions and models that still
    accept them); `structured_outputs` maps json_schema response formats to the native
    `output_config.format` instead of a system instruction.
    """
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    n = body.get("n")
    if n is not None and n != 1:
        raise invalid("n > 1 is not supported for Anthropic models", "n")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list", "messages")

    system: list[str] = []
    turns: list[dict] = []  # {"role", "content": [blocks]}, merged as we go
    for i, msg in enumerate(messages):
        p = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise invalid("each message must be an object", p)
        role = msg.get("role")
        content = msg.get("content")
        if role in ("system", "developer"):
            text = _parts_text(content, f"{p}.content")
            if text:
                system.append(text)
            continue
        if role == "user":
            blocks = _user_blocks(content, f"{p}.content")
        elif role == "assistant":
            text = _parts_text(content, f"{p}.content")
            blocks = [{"type": "text", "text": text}] if text else []
            if msg.get("tool_calls"):
                blocks += _tool_use_blocks(msg["tool_calls"], f"{p}.tool_calls")
        elif role == "tool":
            tid = msg.get("tool_call_id")
            if not isinstance(tid, str) or not tid:
                raise invalid("tool message needs a 'tool_call_id'", f"{p}.tool_call_id")
            result: dict = {"type": "tool_result", "tool_use_id": tid}
            text = _parts_text(content, f"{p}.content")
            if text:
                result["content"] = text
            role, blocks = "user", [result]
        else:
            raise invalid(f"role {role!r} is not supported for Anthropic models", f"{p}.role")
        blocks = [b for b in blocks if not (b["type"] == "text" and not b["text"])]
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise invalid("at least one user or assistant message with content is required", "messages")
    last = turns[-1]
    if last["role"] == "assistant" and last["content"][-1]["type"] == "text":
        last["content"][-1]["text"] = last["content"][-1]["text"].rstrip()
        if not last["content"][-1]["text"]:
            last["content"].pop()
            if not last["content"]:
                turns.pop()
    if not turns:
        raise invalid("at least one user or assistant message with content is required", "messages")

    instruction, output_format = _response_format(body.get("response_format"), structured_outputs)
    if instruction:
        system.append(instruction)

    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens
    out: dict = {"model": model, "messages": turns, "max_tokens": max_tokens}
    if system:
        out["system"] = "\n\n".join(system)
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise invalid(f"'{key}' must be a number", key)
        if sampling_params:
            out[key] = min(max(float(value), 0.0), 1.0) if key == "temperature" else value
    if output_format is not None:
        out["output_config"] = {"format": output_format}
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(x, str) for x in stop):
            raise invalid("'stop' must be a string or a list of strings", "stop")
        if stop:
            out["stop_sequences"] = stop
    if body.get("stream"):
        out["stream"] = True
    if isinstance(body.get("user"), str) and body["user"]:
        out["metadata"] = {"user_id": body["user"]}
    if body.get("tools"):
        out["tools"] = _convert_tools(body["tools"])
        choice = _convert_tool_choice(body["tool_choice"]) if body.get("tool_choice") is not None else None
        if body.get("parallel_tool_calls") is False and (choice is None or choice["type"] != "none"):
            choice = dict(choice or {"type": "auto"}, disable_parallel_tool_use=True)
        if choice is not None:
            out["tool_choice"] = choice
    return out


# ----------------------------------------------------------------------------- response

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _finish_reason(stop_reason: Any) -> str:
    return _FINISH_REASONS.get(stop_reason, "stop")


def _chat_usage(usage: Mapping[str, Any]) -> dict:
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_write = usage.get("cache_creation_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + cache_read + cache_write
    completion = usage.get("output_tokens") or 0
    out: dict = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if cache_read:
        out["prompt_tokens_details"] = {"cached_tokens": cache_read}
    return out


def messages_response_to_chat(resp: dict) -> dict:
    """An Anthropic `message` dict -> an internal `chat.completion` dict."""
    if not isinstance(resp, dict) or not isinstance(resp.get("content"), list):
        raise GatewayError("upstream_error", "upstream answer is not an Anthropic message")
    texts: list[str] = []
    calls: list[dict] = []
    for block in resp["content"]:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            calls.append({
                "id": block.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {"name": block.get("name") or "", "arguments": orjson.dumps(block.get("input") or {}).decode()},
            })
    message: dict = {"role": "assistant", "content": "".join(texts) if texts or not calls else None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": resp.get("id") or f"msg_{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": resp.get("model") or "",
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": _finish_reason(resp.get("stop_reason")),
            "logprobs": None,
        }],
        "usage": _chat_usage(resp.get("usage") or {}),
    }


# ----------------------------------------------------------------------------- stream


class MessagesStreamToChat:
    """Turns Anthropic stream events (name, data) into internal `chat.completion.chunk` dicts."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = f"msg_{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self._tools: dict[int, int] = {}  # Anthropic block index -> chat tool_call index
        self._usage: dict[str, int] = {}

    def _chunk(self, delta: dict, finish_reason: str | None = None) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        }

    def _take_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            for k, v in usage.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    self._usage[k] = v

    def feed(self, event: str, data: dict) -> list[dict]:
        """Chunks for one Anthropic event; raises GatewayError on an `error` event."""
        etype = data.get("type", event) if isinstance(data, dict) else event
        if etype == "error" or event == "error":
            err = (data or {}).get("error") or {}
            raise _error_from(err.get("type"), err.get("message") or "upstream stream error", None)
        if etype == "message_start":
            msg = data.get("message") or {}
            if isinstance(msg.get("id"), str) and msg["id"]:
                self.id = msg["id"]
            self._take_usage(msg.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if etype == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                n = len(self._tools)
                self._tools[data.get("index", 0)] = n
                return [self._chunk({"tool_calls": [{
                    "index": n,
                    "id": block.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {"name": block.get("name") or "", "arguments": ""},
                }]})]
            if block.get("type") == "text" and block.get("text"):
                return [self._chunk({"content": block["text"]})]
            return []
        if etype == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [self._chunk({"content": delta["text"]})]
            if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                n = self._tools.get(data.get("index", 0))
                if n is None:
                    return []
                return [self._chunk({"tool_calls": [{"index": n, "function": {"arguments": delta["partial_json"]}}]})]
            return []  # thinking, signature and citation deltas have no chat equivalent
        if etype == "message_delta":
            self._take_usage(data.get("usage"))
            stop_reason = (data.get("delta") or {}).get("stop_reason")
            return [self._chunk({}, _finish_reason(stop_reason))]
        return []  # ping, content_block_stop, message_stop, unknown future events

    def usage_chunk(self) -> dict | None:
        """A final chunk with empty choices and the usage, when the stream reported any."""
        if not self._usage:
            return None
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": _chat_usage(self._usage),
        }


# ----------------------------------------------------------------------------- errors

_GATEWAY_CODES = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "upstream_error",  # Seawall's upstream credentials, not the client's
    "permission_error": "upstream_error",
    "billing_error": "upstream_error",
    "not_found_error": "model_not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limited",
    "timeout_error": "upstream_timeout",
    "api_error": "upstream_error",
    "overloaded_error": "overloaded",
}


def _code_for_status(status: int | None) -> str:
    if status == 429:
        return "rate_limited"
    if status in (503, 529):
        return "overloaded"
    if status in (408, 504):
        return "upstream_timeout"
    if status == 413:
        return "request_too_large"
    if status == 400:
        return "invalid_request"
    if status == 404:
        return "model_not_found"
    return "upstream_error"


def _error_from(etype: Any, message: str, status: int | None, retry_after: float | None = None) -> GatewayError:
    code = _GATEWAY_CODES.get(etype) if isinstance(etype, str) else None
    if code is None:
        code = "upstream_error" if status is None else _code_for_status(status)
    if code == "invalid_request" and "prompt is too long" in message.lower():
        code = "context_length_exceeded"
    return GatewayError(code, f"upstream: {message}", retry_after=retry_after)


def anthropic_error_to_gateway(
    status: int, body: dict | None, headers: Mapping[str, str] | None = None
) -> GatewayError:
    """A non-2xx Anthropic answer -> GatewayError (retry-after is read from `headers` if given)."""
    err = body.get("error") if isinstance(body, dict) else None
    err = err if isinstance(err, dict) else {}
    message = err.get("message") if isinstance(err.get("message"), str) else f"HTTP {status} from Anthropic"
    retry_after = None
    if headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            retry_after = float(lowered["retry-after"])
        except (KeyError, ValueError):
            retry_after = None
    return _error_from(err.get("type"), message, status, retry_after)
