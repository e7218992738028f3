"""Anthropic Messages clients talking to Seawall: Anthropic wire format <-> internal chat format.

Seawall's internal format is the OpenAI Chat Completions shape. This module turns an incoming
`POST /v1/messages` body into an internal chat request, and turns the internal answer (a
`chat.completion` dict or a stream of `chat.completion.chunk` dicts) back into what an
Anthropic client expects. Pure functions and one small stream translator; no I/O.

Choices made where the two formats do not line up (each one is tested):

* `system` text blocks are joined with a blank line into one system message; assistant text
  blocks are concatenated as they are (Claude splits one answer into blocks at citations and
  tool calls, so no separator is invented).
* `thinking` / `redacted_thinking` blocks in earlier assistant turns are dropped: they are the
  model's own prior reasoning and have no chat-format equivalent. `cache_control` is ignored.
* `tool_result` blocks become `role: "tool"` messages, placed before the rest of the user turn
  (chat format wants tool answers directly after the assistant's tool calls). `is_error: true`
  prefixes the content with "Error: ". Images inside a tool result cannot ride on a tool
  message, so they follow in a user message right after the tool messages.
* `output_config.format` (Anthropic structured outputs, a JSON schema) becomes a
  `json_schema` response_format; `output_config.effort`, `top_k`, `thinking`, `service_tier`
  and other parameters without a chat equivalent are dropped. A streaming request asks for `stream_options.include_usage` so the final
  `message_delta` can carry real token counts.
* Answer side: a tool call whose `arguments` are empty becomes `input: {}`; arguments that are
  not a JSON object are kept, unparsed, as `input: {"_raw_arguments": "<text>"}` so the client
  sees what the model produced instead of a silently empty call.
* `finish_reason` -> `stop_reason`: stop -> end_turn (or stop_sequence when the upstream names
  the matched sequence, as vLLM does in `choice.stop_reason`), length -> max_tokens,
  tool_calls / function_call -> tool_use (also when tool calls arrive with "stop"),
  content_filter -> refusal (output was cut by a policy filter, which is what Anthropic's
  `refusal` says; end_turn would hide it).
* Usage: OpenAI's `prompt_tokens` include cached tokens; Anthropic's `input_tokens` do not
  (its total input is input + cache_read + cache_creation). So `input_tokens` is
  `prompt_tokens - cached_tokens` and `cache_read_input_tokens` is `cached_tokens`.
"""
from __future__ import annotations

import uuid
from typing import Any

import orjson

from seawall.core.errors import GatewayError, invalid
from seawall.core.validate import MAX_DEPTH_CEILING, check_depth

__all__ = [
    "messages_request_to_chat",
    "chat_response_to_messages",
    "anthropic_error_body",
]


# ----------------------------------------------------------------------------- request


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _text_of_blocks(blocks: Any, param: str, *, allow_images: bool = False) -> tuple[list[str], list[dict]]:
    """Texts (and, if allowed, image parts) of a list of text/image blocks."""
    if not isinstance(blocks, list):
        raise invalid("must be a string or a list of content blocks", param)
    texts: list[str] = []
    images: list[dict] = []
    for j, block in enumerate(blocks):
        p = f"{param}[{j}]"
        btype = block.get("type") if isinstance(block, dict) else None
        if btype == "text":
            texts.append(_block_text(block, p))
        elif btype == "image" and allow_images:
            images.append(_image_part(block, p))
        else:
            raise invalid(f"unsupported content block type {btype!r} here", f"{p}.type")
    return texts, images


def _block_text(block: dict, param: str) -> str:
    text = block.get("text")
    if not isinstance(text, str):
        raise invalid("text block needs a string 'text'", f"{param}.text")
    return text


def _image_part(block: dict, param: str) -> dict:
    src = block.get("source")
    if not isinstance(src, dict):
        raise invalid("image block needs a 'source' object", f"{param}.source")
    stype = src.get("type")
    if stype == "base64":
        media, data = src.get("media_type"), src.get("data")
        if not isinstance(media, str) or not isinstance(data, str):
            raise invalid("base64 image source needs string 'media_type' and 'data'", f"{param}.source")
        url = f"data:{media};base64,{data}"
    elif stype == "url":
        url = src.get("url")
        if not isinstance(url, str) or not url:
            raise invalid("url image source needs a string 'url'", f"{param}.source.url")
    else:
        raise invalid(f"unsupported image source type {stype!r}", f"{param}.source.type")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result_messages(block: dict, param: str) -> tuple[dict, list[dict]]:
    """One tool_result block -> (tool message, image parts that must follow in a user turn)."""
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise invalid("tool_result needs a string 'tool_use_id'", f"{param}.tool_use_id")
    content = block.get("content", "")
    images: list[dict] = []
    if isinstance(content, str):
        text = content
    else:
        texts, images = _text_of_blocks(content, f"{param}.content", allow_images=True)
        text = "\n".join(texts)
    if block.get("is_error"):
        text = f"Error: {text}" if text else "Error"
    return {"role": "tool", "tool_call_id": tool_use_id, "content": text}, images


def _convert_message(msg: Any, i: int) -> list[dict]:
    p = f"messages[{i}]"
    if not isinstance(msg, dict):
        raise invalid("each message must be an object", p)
    role = msg.get("role")
    if role not in ("user", "assistant"):
        raise invalid("role must be 'user' or 'assistant'", f"{p}.role")
    content = msg.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise invalid("content must be a string or a list of content blocks", f"{p}.content")

    if role == "assistant":
        texts: list[str] = []
        tool_calls: list[dict] = []
        for j, block in enumerate(content):
            bp = f"{p}.content[{j}]"
            btype = block.get("type") if isinstance(block, dict) else None
            if btype == "text":
                texts.append(_block_text(block, bp))
            elif btype == "tool_use":
                tid, name, args = block.get("id"), block.get("name"), block.get("input", {})
                if not isinstance(tid, str) or not tid:
                    raise invalid("tool_use needs a string 'id'", f"{bp}.id")
                if not isinstance(name, str) or not name:
                    raise invalid("tool_use needs a string 'name'", f"{bp}.name")
                if not isinstance(args, dict):
                    raise invalid("tool_use 'input' must be an object", f"{bp}.input")
                tool_calls.append({
                    "id": tid,
                    "type": "function",
                    "function": {"name": name, "arguments": orjson.dumps(args).decode()},
                })
            elif btype in ("thinking", "redacted_thinking"):
                continue
            else:
                raise invalid(f"unsupported content block type {btype!r} in an assistant message", f"{bp}.type")
        out: dict = {"role": "assistant", "content": "".join(texts) if texts or not tool_calls else None}
        if tool_calls:
            out["tool_calls"] = tool_calls
        return [out]

    # user: tool results first (as tool messages), then the remaining text/image parts
    tool_msgs: list[dict] = []
    result_images: list[dict] = []
    parts: list[dict] = []
    for j, block in enumerate(content):
        bp = f"{p}.content[{j}]"
        btype = block.get("type") if isinstance(block, dict) else None
        if btype == "text":
            parts.append({"type": "text", "text": _block_text(block, bp)})
        elif btype == "image":
            parts.append(_image_part(block, bp))
        elif btype == "tool_result":
            tm, imgs = _tool_result_messages(block, bp)
            tool_msgs.append(tm)
            result_images.extend(imgs)
        else:
            raise invalid(f"unsupported content block type {btype!r} in a user message", f"{bp}.type")
    out_msgs = list(tool_msgs)
    user_parts = result_images + parts
    if user_parts or not tool_msgs:
        out_msgs.append({"role": "user", "content": user_parts})
    return out_msgs


def _convert_tools(tools: Any) -> list[dict]:
    if not isinstance(tools, list):
        raise invalid("tools must be a list", "tools")
    out = []
    for i, tool in enumerate(tools):
        p = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise invalid("each tool must be an object", p)
        ttype = tool.get("type", "custom")
        if ttype not in ("custom", None):
            raise invalid(f"tool type {ttype!r} is not supported by this gateway", f"{p}.type")
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("tool needs a string 'name'", f"{p}.name")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise invalid("tool needs an 'input_schema' object", f"{p}.input_schema")
        fn: dict = {"name": name, "parameters": schema}
        if isinstance(tool.get("description"), str):
            fn["description"] = tool["description"]
        out.append({"type": "function", "function": fn})
    return out


def _convert_tool_choice(tc: Any) -> tuple[Any, bool]:
    """-> (chat tool_choice, disable_parallel_tool_use)."""
    if not isinstance(tc, dict):
        raise invalid("tool_choice must be an object", "tool_choice")
    t = tc.get("type")
    if t == "auto":
        choice: Any = "auto"
    elif t == "any":
        choice = "required"
    elif t == "none":
        choice = "none"
    elif t == "tool":
        name = tc.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("tool_choice of type 'tool' needs a 'name'", "tool_choice.name")
        choice = {"type": "function", "function": {"name": name}}
    else:
        raise invalid(f"unsupported tool_choice type {t!r}", "tool_choice.type")
    return choice, bool(tc.get("disable_parallel_tool_use"))


def messages_request_to_chat(body: dict) -> dict:
    """Validate an Anthropic Messages request body and return the internal chat request."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    # before converting (orjson stops at 255 levels); the converted body gets the configured limit
    check_depth(body, MAX_DEPTH_CEILING)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("'model' is required and must be a string", "model")
    max_tokens = body.get("max_tokens")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise invalid("'max_tokens' is required and must be a positive integer", "max_tokens")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list", "messages")

    out_messages: list[dict] = []
    system = body.get("system")
    if system is not None:
        if isinstance(system, str):
            sys_text = system
        else:
            texts, _ = _text_of_blocks(system, "system")
            sys_text = "\n\n".join(texts)
        if sys_text:
            out_messages.append({"role": "system", "content": sys_text})
    for i, msg in enumerate(messages):
        out_messages.extend(_convert_message(msg, i))

    chat: dict = {"model": model, "messages": out_messages, "max_tokens": max_tokens}

    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            if not _is_num(body[key]):
                raise invalid(f"'{key}' must be a number", key)
            chat[key] = body[key]
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise invalid("'stop_sequences' must be a list of strings", "stop_sequences")
        if stops:
            chat["stop"] = list(stops)
    stream = body.get("stream")
    if stream is not None:
        if not isinstance(stream, bool):
            raise invalid("'stream' must be a boolean", "stream")
        chat["stream"] = stream
        if stream:
            chat["stream_options"] = {"include_usage": True}
    if body.get("tools") is not None:
        tools = _convert_tools(body["tools"])
        if tools:
            chat["tools"] = tools
    if body.get("tool_choice") is not None:
        choice, no_parallel = _convert_tool_choice(body["tool_choice"])
        chat["tool_choice"] = choice
        if no_parallel:
            chat["parallel_tool_calls"] = False
    output_config = body.get("output_config")
    if output_config is not None:
        if not isinstance(output_config, dict):
            raise invalid("'output_config' must be an object", "output_config")
        fmt = output_config.get("format")
        if fmt is not None:
            if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
                raise invalid("output_config.format must be a json_schema format with a 'schema' object",
                              "output_config.format")
            chat["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": fmt["schema"]}}
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise invalid("'metadata' must be an object", "metadata")
        uid = metadata.get("user_id")
        if uid is not None:
            if not isinstance(uid, str):
                raise invalid("'metadata.user_id' must be a string", "metadata.user_id")
            chat["user"] = uid
    return chat


# ----------------------------------------------------------------------------- response


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _message_id(upstream_id: Any) -> str:
    if isinstance(upstream_id, str) and upstream_id:
        return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id}"
    return _new_id("msg_")


def _tool_input(arguments: Any) -> dict:
    if isinstance(arguments, dict):
        return arguments
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}
    try:
        parsed = orjson.loads(arguments)
    except (orjson.JSONDecodeError, TypeError):
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"_raw_arguments": arguments if isinstance(arguments, str) else str(arguments)}


_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def _stop_reason(finish_reason: Any, has_tool_use: bool, matched_stop: Any) -> tuple[str, str | None]:
    """-> (stop_reason, stop_sequence)."""
    if finish_reason in (None, "stop") and has_tool_use:
        return "tool_use", None
    if finish_reason in (None, "stop") and isinstance(matched_stop, str) and matched_stop:
        return "stop_sequence", matched_stop
    return _STOP_REASONS.get(finish_reason, "end_turn"), None


def _usage(usage: Any) -> dict:
    usage = usage if isinstance(usage, dict) else {}
    prompt = usage.get("prompt_tokens") or 0
    details = usage.get("prompt_tokens_details")
    cached = (details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    cached = min(cached, prompt)
    return {
        "input_tokens": prompt - cached,
        "output_tokens": usage.get("completion_tokens") or 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some providers answer with content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def chat_response_to_messages(resp: dict, model: str) -> dict:
    """An internal `chat.completion` dict -> an Anthropic `message` dict for the client."""
    choices = resp.get("choices") if isinstance(resp, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise GatewayError("upstream_error", "upstream answer has no choices")
    choice = choices[0]
    message = choice.get("message") or {}
    blocks: list[dict] = []
    text = _content_text(message.get("content"))
    refusal = message.get("refusal")
    if not text and isinstance(refusal, str) and refusal:
        text = refusal
    if text:
        blocks.append({"type": "text", "text": text})
    calls = list(message.get("tool_calls") or [])
    if not calls and isinstance(message.get("function_call"), dict):  # legacy shape
        calls = [{"function": message["function_call"]}]
    for call in calls:
        fn = call.get("function") or {}
        blocks.append({
            "type": "tool_use",
            "id": call.get("id") or _new_id("toolu_"),
            "name": fn.get("name") or "",
            "input": _tool_input(fn.get("arguments")),
        })
    stop_reason, stop_sequence = _stop_reason(choice.get("finish_reason"), bool(calls), choice.get("stop_reason"))
    if refusal and not _content_text(message.get("content")) and not calls:
        stop_reason = "refusal"
    return {
        "id": _message_id(resp.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": _usage(resp.get("usage")),
    }


# ----------------------------------------------------------------------------- errors

_ERROR_TYPES = {
    "invalid_request": "invalid_request_error",
    "context_length_exceeded": "invalid_request_error",
    "content_filter": "invalid_request_error",
    "guard_blocked": "invalid_request_error",
    "invalid_api_key": "authentication_error",
    "permission_denied": "permission_error",
    "model_not_found": "not_found_error",
    "not_found": "not_found_error",
    "request_too_large": "request_too_large",
    "rate_limited": "rate_limit_error",
    "budget_exceeded": "rate_limit_error",
    "overloaded": "overloaded_error",
    "upstream_unavailable": "overloaded_error",
    "internal_error": "api_error",
    "upstream_error": "api_error",
    "upstream_timeout": "api_error",
    "guard_error": "api_error",
}

_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def anthropic_error_body(err: GatewayError) -> dict:
    """A GatewayError rendered as an Anthropic error body (the HTTP status stays `err.status`)."""
    etype = _ERROR_TYPES.get(err.code) or _STATUS_TYPES.get(err.status)
    if etype is None:
        etype = "invalid_request_error" if 400 <= err.status < 500 else "api_error"
    return {"type": "error", "error": {"type": etype, "message": err.message}}
