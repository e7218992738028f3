"""OpenAI wire format: /v1/chat/completions, /v1/embeddings, /v1/models and error bodies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import content, wire
from .content import Reply
from .wire import BadRequest, Ctx

FINGERPRINT = "fp_seawall_sim"
PIECES_PER_CHUNK = 3  # content tokens per streamed delta
ARG_FRAGMENT = 12  # characters of tool arguments per streamed delta

# status -> (type, code, message), after what OpenAI-compatible APIs send.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "not_found", "Not found."),
    408: ("timeout", None, "Request timed out."),
    413: ("invalid_request_error", "request_too_large", "Request too large."),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for requests (simulated). Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
    504: ("server_error", None, "Gateway timeout."),
    529: ("overloaded_error", "overloaded", "The engine is currently overloaded."),
}


def error_object(status: int, message: str | None = None, param: str | None = None,
                 code: str | None = None) -> dict:
    typ, dcode, dmsg = _ERRORS.get(status, ("server_error" if status >= 500
                                            else "invalid_request_error", None, "Error."))
    return {"error": {"message": message or dmsg, "type": typ, "code": code or dcode,
                      "param": param}}


def error_response(ctx: Ctx, status: int, message: str | None = None,
                   param: str | None = None, code: str | None = None) -> web.Response:
    return wire.json_response(error_object(status, message, param, code), status, ctx.headers)


# ---------------------------------------------------------------------------------------------
# chat completions

@dataclass(slots=True)
class ChatPlan:
    model: str
    stream: bool
    include_usage: bool
    reply: Reply


def _text(c: Any) -> str:
    """Text of a message content: a string, or a list of parts of which we read the text."""
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return " ".join(p.get("text", "") for p in c
                        if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _positive_int(body: dict, name: str) -> int | None:
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise BadRequest(f"'{name}' must be a positive integer", name)
    return v


def parse_chat(body: Any, seed: int) -> ChatPlan:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("Missing required parameter: 'model'.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("Missing required parameter: 'messages' (a non-empty list).", "messages")
    parts = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadRequest(f"messages[{i}] must be an object with a 'role'.", f"messages[{i}]")
        parts.append(_text(m.get("content")))
    prompt = "\n".join(parts)
    max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    stream = body.get("stream") is True
    opts = body.get("stream_options")
    include_usage = stream and isinstance(opts, dict) and opts.get("include_usage") is True

    tool = _pick_tool(body, messages)
    fmt = body.get("response_format")
    fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
    schema = None
    if fmt_type == "json_schema":
        js = fmt.get("json_schema")
        schema = js.get("schema") if isinstance(js, dict) else None
        schema = schema if isinstance(schema, dict) else {"type": "object"}
    echo = _last_user_text(messages) if content.is_echo_model(model) else None
    reply = content.plan_reply(seed, prompt, max_tokens, tool=tool,
                               json_mode=fmt_type in ("json_object", "json_schema"),
                               json_schema=schema, echo=echo)
    return ChatPlan(model, stream, include_usage, reply)


def _last_user_text(messages: list) -> str:
    return next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")


def _pick_tool(body: dict, messages: list) -> tuple[str, Any] | None:
    """A tool call when tool_choice forces one, or when the user's latest turn names a tool.

    Only a user turn triggers a call: after a tool result the model answers in prose, so agent
    loops end.
    """
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    schemas: dict[str, Any] = {}
    for t in tools:
        fn = t.get("function") if isinstance(t, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            schemas[fn["name"]] = fn.get("parameters")
    choice = body.get("tool_choice", "auto")
    if choice == "none" or not schemas:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name not in schemas:
            raise BadRequest(f"tool_choice names an unknown tool: {name!r}", "tool_choice")
        return name, schemas[name]
    last = messages[-1]
    said = _text(last.get("content")) if last.get("role") == "user" else ""
    name = content.mentioned_tool(list(schemas), said)
    if name is None and choice == "required":
        name = next(iter(schemas))
    return (name, schemas[name]) if name else None


def _usage(r: Reply) -> dict:
    c = r.completion_tokens
    return {"prompt_tokens": r.prompt_tokens, "completion_tokens": c,
            "total_tokens": r.prompt_tokens + c}


def _tool_call(ctx: Ctx, r: Reply, arguments: str) -> dict:
    return {"id": f"call_{ctx.draw.ident:012x}", "type": "function",
            "function": {"name": r.tool_name, "arguments": arguments}}


async def chat(ctx: Ctx, plan: ChatPlan) -> web.StreamResponse:
    r = plan.reply
    cid = f"chatcmpl-{ctx.draw.ident:012x}"
    created = int(time.time())
    if not plan.stream:
        if r.tool_name:
            message = {"role": "assistant", "content": None,
                       "tool_calls": [_tool_call(ctx, r, r.tool_args)]}
        else:
            message = {"role": "assistant", "content": r.text, "refusal": None}
        return wire.json_response({
            "id": cid, "object": "chat.completion", "created": created, "model": plan.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": r.finish}],
            "usage": _usage(r),
        }, headers=ctx.headers)

    base = {"id": cid, "object": "chat.completion.chunk", "created": created,
            "model": plan.model, "system_fingerprint": FINGERPRINT}
    if plan.include_usage:
        base["usage"] = None  # OpenAI sends null usage on every chunk but the last

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        return wire.sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                              "finish_reason": finish}]})

    if r.tool_name:
        first = _tool_call(ctx, r, "")
        first["index"] = 0
        events = [chunk({"role": "assistant", "content": None, "tool_calls": [first]})]
        events += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": frag}}]})
                   for frag in content.split_text(r.tool_args, ARG_FRAGMENT)]
    else:
        events = [chunk({"role": "assistant", "content": ""})]
        p = r.pieces
        events += [chunk({"content": "".join(p[i:i + PIECES_PER_CHUNK])})
                   for i in range(0, len(p), PIECES_PER_CHUNK)]
    events.append(chunk({}, r.finish))
    if plan.include_usage:
        events.append(wire.sse({**base, "choices": [], "usage": _usage(r)}))
    events.append(b"data: [DONE]\n\n")
    return await wire.stream(ctx, events, ctx.sim._count_stall)


# ---------------------------------------------------------------------------------------------
# embeddings

@dataclass(slots=True)
class EmbedPlan:
    model: str
    texts: list[str]
    dim: int
    base64: bool
    tokens: int


def parse_embeddings(body: Any, seed: int) -> EmbedPlan:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("Missing required parameter: 'model'.", "model")
    inp = body.get("input")
    if isinstance(inp, str):
        texts = [inp]
    elif isinstance(inp, list) and inp:
        if all(isinstance(x, str) for x in inp):
            texts = inp
        elif all(isinstance(x, int) and not isinstance(x, bool) for x in inp):
            texts = [_tokens_text(inp)]  # one input given as token ids
        elif all(isinstance(x, list) for x in inp):
            texts = [_tokens_text(x) for x in inp]
        else:
            raise BadRequest("'input' must be a string, a list of strings or token arrays.",
                             "input")
    else:
        raise BadRequest("Missing required parameter: 'input'.", "input")
    dim = body.get("dimensions", 256)
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= 8192:
        raise BadRequest("'dimensions' must be an integer between 1 and 8192.", "dimensions")
    enc = body.get("encoding_format", "float")
    if enc not in ("float", "base64", None):
        raise BadRequest("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    if isinstance(inp, str) or isinstance(inp[0], str):
        tokens = sum(content.estimate_tokens(len(t)) for t in texts)
    else:  # token ids were sent: count them exactly
        tokens = len(inp) if isinstance(inp[0], int) else sum(len(x) for x in inp)
    return EmbedPlan(model, texts, dim, enc == "base64", tokens)


def _tokens_text(tokens: list) -> str:
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise BadRequest("token arrays must hold integers.", "input")
    return "\x01tokens:" + ",".join(map(str, tokens))


async def embeddings(ctx: Ctx, plan: EmbedPlan) -> web.Response:
    data = []
    for i, text in enumerate(plan.texts):
        vec = content.embed(text, plan.dim)
        data.append({"object": "embedding", "index": i,
                     "embedding": content.embedding_base64(vec) if plan.base64 else vec})
    return wire.json_response({"object": "list", "data": data, "model": plan.model,
                               "usage": {"prompt_tokens": plan.tokens,
                                         "total_tokens": plan.tokens}},
                              headers=ctx.headers)


# ---------------------------------------------------------------------------------------------
# models

def parse_models(body: Any, seed: int) -> None:
    return None


async def models(ctx: Ctx, _plan: None) -> web.Response:
    created = int(ctx.sim.started_at)
    return wire.json_response({"object": "list", "data": [
        {"id": m, "object": "model", "created": created, "owned_by": "seawall-sim"}
        for m in ctx.sim.models]}, headers=ctx.headers)
