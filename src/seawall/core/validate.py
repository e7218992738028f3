"""Check client bodies at the edge, so a bad request fails with 400 naming the field.

Checks what the gateway relies on and what would otherwise cost an upstream round trip;
everything else passes through for the upstream to judge.
"""
from __future__ import annotations

from .errors import invalid

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_NUMBERS = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
            "frequency_penalty": (-2.0, 2.0)}
_POSITIVE_INTS = ("max_tokens", "max_completion_tokens", "n")


def _model(body: dict) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model is required and must be a non-empty string", "model")
    return model


def chat_body(body: object) -> str:
    """Validate a Chat Completions body; return the model alias it asks for."""
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages is required and must be a non-empty array", "messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise invalid(f"messages[{i}] must be an object", f"messages[{i}]")
        role = m.get("role")
        if not isinstance(role, str) or role not in _ROLES:  # (a dict is unhashable: check the type first)
            raise invalid(f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}", f"messages[{i}].role")
        content = m.get("content")
        if content is None:
            if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
                continue
            raise invalid(f"messages[{i}].content is required", f"messages[{i}].content")
        if not isinstance(content, (str, list)):
            raise invalid(f"messages[{i}].content must be a string or an array of parts", f"messages[{i}].content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise invalid(f"messages[{i}].content[{j}] must be an object with a type",
                                  f"messages[{i}].content[{j}]")
    for name, (lo, hi) in _NUMBERS.items():
        v = body.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi):
            raise invalid(f"{name} must be a number between {lo:g} and {hi:g}", name)
    for name in _POSITIVE_INTS:
        v = body.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise invalid(f"{name} must be a positive integer", name)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream must be a boolean", "stream")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise invalid("tools must be an array", "tools")
        for i, t in enumerate(tools):
            fn = t.get("function") if isinstance(t, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise invalid(f"tools[{i}].function.name is required", f"tools[{i}].function.name")
    return model


def embeddings_body(body: object) -> str:
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    model = _model(body)
    inp = body.get("input")
    ok = isinstance(inp, str) or (isinstance(inp, list) and inp and all(
        isinstance(x, (str, int)) or (isinstance(x, list) and all(isinstance(t, int) for t in x)) for x in inp))
    if not ok:
        raise invalid("input must be a string, an array of strings or an array of token arrays", "input")
    return model
