"""Check client bodies at the edge, so a bad request fails with 400 naming the field.

Every field the gateway (or a stage) reads is checked for type, enum and range, so no client
input reaches code that would fail on it with a 500. Fields the gateway does not read pass
through untouched, for the upstream to judge. Nesting is bounded (`max_depth`) below what the
guard, the cache keys and orjson can handle, including the JSON inside tool-call arguments.
"""
from __future__ import annotations

import json
import math

from .errors import invalid
from .jsonbody import max_depth as _depth

DEFAULT_MAX_DEPTH = 64
MAX_DEPTH_CEILING = 128  # the most a configuration may allow: orjson stops at 255, the guard recurses

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_NUMBERS = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
            "frequency_penalty": (-2.0, 2.0)}
_POSITIVE_INTS = ("max_tokens", "max_completion_tokens", "n")
_TOOL_CHOICES = {"none", "auto", "required"}
_RESPONSE_FORMATS = {"text", "json_object", "json_schema"}
_STRINGS = ("user", "service_tier", "reasoning_effort", "prompt_cache_key", "safety_identifier")
_BOOLS = ("stream", "parallel_tool_calls", "logprobs", "store")


def _model(body: dict) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model is required and must be a non-empty string", "model")
    return model


def _is_number(v: object) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _is_int(v: object) -> bool:
    return not isinstance(v, bool) and isinstance(v, int)


def check_depth(body: dict, limit: int = DEFAULT_MAX_DEPTH) -> None:
    """400 when objects and arrays nest deeper than `limit` (the body's own `{}` is level 1)."""
    if _depth(body, limit) > limit:
        raise invalid(f"the request body nests objects and arrays more than {limit} levels deep")


def _json_text_depth(text: str, limit: int, param: str) -> None:
    """Tool-call arguments are JSON inside a string, parsed by the guard: bound them too."""
    if text.count("{") + text.count("[") <= limit:  # cannot nest deeper than it has brackets
        return
    try:
        value = json.loads(text)
    except RecursionError:
        raise invalid(f"{param} nests more than {limit} levels deep", param) from None
    except ValueError:
        return  # not JSON: scanned as text
    if _depth(value, limit) > limit:
        raise invalid(f"{param} nests more than {limit} levels deep", param)


def _content(i: int, m: dict, role: str) -> None:
    where = f"messages[{i}].content"
    content = m.get("content")
    if content is None:
        if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
            return
        raise invalid(f"{where} is required", where)
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise invalid(f"{where} must be a string or an array of parts", where)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise invalid(f"{where}[{j}] must be an object with a type", f"{where}[{j}]")
        if (part["type"] == "text" or "text" in part) and not isinstance(part.get("text"), str):
            raise invalid(f"{where}[{j}].text must be a string", f"{where}[{j}].text")


def _tool_calls(i: int, calls: object, limit: int) -> None:
    where = f"messages[{i}].tool_calls"
    if not isinstance(calls, list):
        raise invalid(f"{where} must be an array", where)
    for j, tc in enumerate(calls):
        at = f"{where}[{j}]"
        if not isinstance(tc, dict):
            raise invalid(f"{at} must be an object", at)
        if "id" in tc and not isinstance(tc["id"], str):
            raise invalid(f"{at}.id must be a string", f"{at}.id")
        if "type" in tc and not isinstance(tc["type"], str):
            raise invalid(f"{at}.type must be a string", f"{at}.type")
        fn = tc.get("function")
        if fn is None:
            continue  # a custom tool call: nothing the gateway reads
        if not isinstance(fn, dict):
            raise invalid(f"{at}.function must be an object", f"{at}.function")
        if "name" in fn and not isinstance(fn["name"], str):
            raise invalid(f"{at}.function.name must be a string", f"{at}.function.name")
        args = fn.get("arguments")
        if args is not None:
            if not isinstance(args, str):
                raise invalid(f"{at}.function.arguments must be a string (JSON text)", f"{at}.function.arguments")
            _json_text_depth(args, limit, f"{at}.function.arguments")


def _messages(body: dict, limit: int) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages is required and must be a non-empty array", "messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise invalid(f"messages[{i}] must be an object", f"messages[{i}]")
        role = m.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid(f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}", f"messages[{i}].role")
        _content(i, m, role)
        for name in ("name", "tool_call_id", "refusal"):
            if m.get(name) is not None and not isinstance(m[name], str):
                raise invalid(f"messages[{i}].{name} must be a string", f"messages[{i}].{name}")
        if m.get("tool_calls") is not None:
            _tool_calls(i, m["tool_calls"], limit)
        fc = m.get("function_call")
        if fc is not None:
            if not isinstance(fc, dict) or not isinstance(fc.get("arguments", ""), str):
                raise invalid(f"messages[{i}].function_call must be an object with string arguments",
                              f"messages[{i}].function_call")
            _json_text_depth(fc.get("arguments", ""), limit, f"messages[{i}].function_call.arguments")


def _tools(body: dict) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise invalid("tools must be an array", "tools")
    for i, t in enumerate(tools):
        if not isinstance(t, dict):
            raise invalid(f"tools[{i}] must be an object", f"tools[{i}]")
        if "type" in t and not isinstance(t["type"], str):
            raise invalid(f"tools[{i}].type must be a string", f"tools[{i}].type")
        if t.get("type", "function") != "function":
            continue  # another kind of tool (custom, built-in): the upstream judges it
        fn = t.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise invalid(f"tools[{i}].function.name is required", f"tools[{i}].function.name")
        if fn.get("description") is not None and not isinstance(fn["description"], str):
            raise invalid(f"tools[{i}].function.description must be a string", f"tools[{i}].function.description")
        if fn.get("parameters") is not None and not isinstance(fn["parameters"], dict):
            raise invalid(f"tools[{i}].function.parameters must be an object", f"tools[{i}].function.parameters")
        if fn.get("strict") is not None and not isinstance(fn["strict"], bool):
            raise invalid(f"tools[{i}].function.strict must be a boolean", f"tools[{i}].function.strict")


def _tool_choice(body: dict) -> None:
    choice = body.get("tool_choice")
    if choice is None or (isinstance(choice, str) and choice in _TOOL_CHOICES):
        return
    if isinstance(choice, dict) and isinstance(choice.get("type"), str):
        fn = choice.get("function")
        if choice["type"] != "function" or (isinstance(fn, dict) and isinstance(fn.get("name"), str)):
            return
    raise invalid("tool_choice must be none, auto, required or {\"type\": \"function\", \"function\": "
                  "{\"name\": ...}}", "tool_choice")


def _response_format(body: dict) -> None:
    rf = body.get("response_format")
    if rf is None:
        return
    if not isinstance(rf, dict) or not isinstance(rf.get("type"), str) or rf["type"] not in _RESPONSE_FORMATS:
        raise invalid(f"response_format.type must be one of {', '.join(sorted(_RESPONSE_FORMATS))}",
                      "response_format")
    if rf["type"] == "json_schema":
        js = rf.get("json_schema")
        if not isinstance(js, dict) or not isinstance(js.get("name", ""), str):
            raise invalid("response_format.json_schema must be an object with a name", "response_format.json_schema")
        if js.get("schema") is not None and not isinstance(js["schema"], dict):
            raise invalid("response_format.json_schema.schema must be an object", "response_format.json_schema.schema")
        if js.get("strict") is not None and not isinstance(js["strict"], bool):
            raise invalid("response_format.json_schema.strict must be a boolean", "response_format.json_schema.strict")


def _options(body: dict) -> None:
    for name, (lo, hi) in _NUMBERS.items():
        v = body.get(name)
        if v is not None and (not _is_number(v) or not lo <= v <= hi):
            raise invalid(f"{name} must be a number between {lo:g} and {hi:g}", name)
    for name in _POSITIVE_INTS:
        v = body.get(name)
        if v is not None and (not _is_int(v) or v < 1):
            raise invalid(f"{name} must be a positive integer", name)
    for name in _BOOLS:
        v = body.get(name)
        if v is not None and not isinstance(v, bool):
            raise invalid(f"{name} must be a boolean", name)
    for name in _STRINGS:
        v = body.get(name)
        if v is not None and not isinstance(v, str):
            raise invalid(f"{name} must be a string", name)
    so = body.get("stream_options")
    if so is not None:
        if not isinstance(so, dict):
            raise invalid("stream_options must be an object", "stream_options")
        if so.get("include_usage") is not None and not isinstance(so["include_usage"], bool):
            raise invalid("stream_options.include_usage must be a boolean", "stream_options.include_usage")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (
            isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise invalid("stop must be a string or an array of strings", "stop")
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise invalid("seed must be an integer", "seed")
    top = body.get("top_logprobs")
    if top is not None and (not _is_int(top) or not 0 <= top <= 20):
        raise invalid("top_logprobs must be an integer between 0 and 20", "top_logprobs")
    bias = body.get("logit_bias")
    if bias is not None and (not isinstance(bias, dict) or not all(_is_number(v) for v in bias.values())):
        raise invalid("logit_bias must be an object of token ids to numbers", "logit_bias")
    meta = body.get("metadata")
    if meta is not None and (not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values())):
        raise invalid("metadata must be an object of strings", "metadata")


def chat_body(body: object, max_depth: int = DEFAULT_MAX_DEPTH) -> str:
    """Validate a Chat Completions body; return the model alias it asks for."""
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    check_depth(body, max_depth)
    model = _model(body)
    _messages(body, max_depth)
    _options(body)
    _tools(body)
    _tool_choice(body)
    _response_format(body)
    return model


def embeddings_body(body: object, max_depth: int = DEFAULT_MAX_DEPTH) -> str:
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    check_depth(body, max_depth)
    model = _model(body)
    inp = body.get("input")
    ok = isinstance(inp, str) or (isinstance(inp, list) and inp and all(
        isinstance(x, str) or _is_int(x) or (isinstance(x, list) and all(_is_int(t) for t in x)) for x in inp))
    if not ok:
        raise invalid("input must be a string, an array of strings or an array of token arrays", "input")
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise invalid("encoding_format must be float or base64", "encoding_format")
    dims = body.get("dimensions")
    if dims is not None and (not _is_int(dims) or dims < 1):
        raise invalid("dimensions must be a positive integer", "dimensions")
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise invalid("user must be a string", "user")
    return model
