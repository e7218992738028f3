"""Anthropic Messages API wire format: POST /v1/messages and Anthropic-shaped errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from . import content, wire
from .content import Reply
from .wire import BadRequest, Ctx

PIECES_PER_DELTA = 3
JSON_FRAGMENT = 12

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed size."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit (simulated)."),
    500: ("api_error", "Internal server error."),
    529: ("overloaded_error", "Overloaded"),
}
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def error_object(status: int, message: str | None = None, param: str | None = None,
                 code: str | None = None) -> dict:
    typ, dmsg = _ERRORS.get(status) or (("api_error", "Internal server error.") if status >= 500
                                        else ("invalid_request_error", "Invalid request."))
    return {"type": "error", "error": {"type": typ, "message": message or dmsg}}


def error_response(ctx: Ctx, status: int, message: str | None = None,
                   param: str | None = None, code: str | None = None) -> web.Response:
    return wire.json_response(error_object(status, message, param, code), status, ctx.headers)


@dataclass(slots=True)
class MessagesPlan:
    model: str
    stream: bool
    reply: Reply


def _text(c: Any) -> str:
    """Text of a content: a string, or blocks (text blocks, and tool results' content)."""
    if isinstance(c, str):
        return c
    if not isinstance(c, list):
        return ""
    out = []
    for b in c:
        if not isinstance(b, dict):
            continue
        if isinstance(b.get("text"), str):
            out.append(b["text"])
        elif b.get("type") == "tool_result":
            out.append(_text(b.get("content")))
    return " ".join(out)


def parse_messages(body: Any, seed: int) -> MessagesPlan:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("model: Field required", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: Field required (a non-empty list)", "messages")
    max_tokens = body.get("max_tokens")
    # The real API refuses a request without max_tokens; so do we, to catch adapter bugs.
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise BadRequest("max_tokens: Field required (a positive integer)", "max_tokens")
    parts = [_text(body.get("system"))]
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise BadRequest(f"messages.{i}.role: must be 'user' or 'assistant'",
                             f"messages.{i}.role")
        parts.append(_text(m.get("content")))
    prompt = "\n".join(parts)
    tool = _pick_tool(body, messages[-1])
    echo = None
    if content.is_echo_model(model):
        echo = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    reply = content.plan_reply(seed, prompt, max_tokens, tool=tool, echo=echo)
    return MessagesPlan(model, body.get("stream") is True, reply)


def _pick_tool(body: dict, last: dict) -> tuple[str, Any] | None:
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    schemas = {t["name"]: t.get("input_schema") for t in tools
               if isinstance(t, dict) and isinstance(t.get("name"), str)}
    choice = body.get("tool_choice") or {"type": "auto"}
    ctype = choice.get("type") if isinstance(choice, dict) else None
    if ctype == "none" or not schemas:
        return None
    if ctype == "tool":
        name = choice.get("name")
        if name not in schemas:
            raise BadRequest(f"tool_choice names an unknown tool: {name!r}", "tool_choice")
        return name, schemas[name]
    # A user turn that carries tool results gets prose, so agent loops end.
    c = last.get("content")
    has_result = isinstance(c, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in c)
    said = _text(c) if last.get("role") == "user" and not has_result else ""
    name = content.mentioned_tool(list(schemas), said)
    if name is None and ctype == "any":
        name = next(iter(schemas))
    return (name, schemas[name]) if name else None


async def messages(ctx: Ctx, plan: MessagesPlan) -> web.StreamResponse:
    r = plan.reply
    mid = f"msg_sim{ctx.draw.ident:012x}"
    stop = _STOP[r.finish]
    tool_id = f"toolu_sim{ctx.draw.ident:012x}"
    if not plan.stream:
        if r.tool_name:
            block = {"type": "tool_use", "id": tool_id, "name": r.tool_name,
                     "input": orjson.loads(r.tool_args)}
        else:
            block = {"type": "text", "text": r.text}
        return wire.json_response({
            "id": mid, "type": "message", "role": "assistant", "model": plan.model,
            "content": [block], "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": r.prompt_tokens, "output_tokens": r.completion_tokens},
        }, headers=ctx.headers)

    ev = wire.sse
    events = [ev({"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": plan.model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": r.prompt_tokens, "output_tokens": 1}}}, "message_start")]
    if r.tool_name:
        start = {"type": "tool_use", "id": tool_id, "name": r.tool_name, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": f}
                  for f in content.split_text(r.tool_args, JSON_FRAGMENT)]
    else:
        start = {"type": "text", "text": ""}
        p = r.pieces
        deltas = [{"type": "text_delta", "text": "".join(p[i:i + PIECES_PER_DELTA])}
                  for i in range(0, len(p), PIECES_PER_DELTA)]
    events.append(ev({"type": "content_block_start", "index": 0, "content_block": start},
                     "content_block_start"))
    events.append(ev({"type": "ping"}, "ping"))
    events += [ev({"type": "content_block_delta", "index": 0, "delta": d}, "content_block_delta")
               for d in deltas]
    events.append(ev({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    events.append(ev({"type": "message_delta",
                      "delta": {"stop_reason": stop, "stop_sequence": None},
                      "usage": {"output_tokens": r.completion_tokens}}, "message_delta"))
    events.append(ev({"type": "message_stop"}, "message_stop"))
    return await wire.stream(ctx, events, ctx.sim._count_stall)
