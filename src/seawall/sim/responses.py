"""OpenAI Responses API wire format: POST /v1/responses, as an upstream that speaks it natively.

It reads the Responses shapes strictly (flat function tools, input items, `text.format`) and
refuses chat-completions shapes with 400, as the real API does, so a gateway that translates
badly fails here instead of passing. Errors are OpenAI's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import content, wire
from .content import Reply
from .openai import error_object, error_response  # noqa: F401  (the dialect's error shapes)
from .wire import BadRequest, Ctx

PIECES_PER_DELTA = 3
ARG_FRAGMENT = 12


@dataclass(slots=True)
class ResponsesPlan:
    model: str
    stream: bool
    reply: Reply
    body: dict


def _item_text(item: dict, n: int) -> str:
    c = item.get("content")
    if isinstance(c, str):
        return c
    if not isinstance(c, list):
        raise BadRequest(f"input[{n}].content must be a string or a list of parts.", f"input[{n}].content")
    out = []
    for p in c:
        t = p.get("type") if isinstance(p, dict) else None
        if t in ("input_text", "output_text"):
            out.append(p.get("text", ""))
        elif t == "input_image":
            continue
        else:  # chat's {"type": "text"} parts are not Responses parts
            raise BadRequest(f"input[{n}].content: part type {t!r} is not valid here.", f"input[{n}].content")
    return " ".join(out)


def parse_responses(body: Any, seed: int) -> ResponsesPlan:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("Missing required parameter: 'model'.", "model")
    if "messages" in body:
        raise BadRequest("Unknown parameter: 'messages'. The Responses API takes 'input'.", "messages")
    inp = body.get("input")
    items = [{"type": "message", "role": "user", "content": inp}] if isinstance(inp, str) else inp
    if not isinstance(items, list) or not items:
        raise BadRequest("Missing required parameter: 'input'.", "input")
    parts = [str(body.get("instructions") or "")]
    last_user, after_result = "", False
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"input[{n}] must be an object.", f"input[{n}]")
        t = item.get("type", "message")
        if t == "message":
            if item.get("role") not in ("user", "assistant", "system", "developer"):
                raise BadRequest(f"input[{n}].role is not valid.", f"input[{n}].role")
            text = _item_text(item, n)
            parts.append(text)
            if item["role"] == "user":
                last_user, after_result = text, False
        elif t == "function_call":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("name"), str):
                raise BadRequest(f"input[{n}]: a function_call needs call_id and name.", f"input[{n}]")
        elif t == "function_call_output":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("output"), str):
                raise BadRequest(f"input[{n}]: a function_call_output needs call_id and a string output.",
                                 f"input[{n}]")
            parts.append(item["output"])
            after_result = True
        else:
            raise BadRequest(f"input[{n}]: unknown item type {t!r}.", f"input[{n}].type")
    max_tokens = body.get("max_output_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise BadRequest("'max_output_tokens' must be a positive integer.", "max_output_tokens")
    tool = None if after_result else _pick_tool(body, last_user)
    fmt = (body.get("text") or {}).get("format") or {}
    fmt_type = fmt.get("type")
    schema = fmt.get("schema") if fmt_type == "json_schema" and isinstance(fmt.get("schema"), dict) else None
    echo = last_user if content.is_echo_model(model) else None
    reply = content.plan_reply(seed, "\n".join(parts), max_tokens, tool=tool,
                               json_mode=fmt_type in ("json_object", "json_schema"),
                               json_schema=schema or {"type": "object"}, echo=echo)
    return ResponsesPlan(model, body.get("stream") is True, reply, body)


def _pick_tool(body: dict, said: str) -> tuple[str, Any] | None:
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    schemas: dict[str, Any] = {}
    for i, t in enumerate(tools):
        if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(t.get("name"), str):
            # chat's nested {"function": {...}} lands here: Responses tools are flat
            raise BadRequest(f"tools[{i}]: a function tool needs a top-level 'name'.", f"tools[{i}]")
        schemas[t["name"]] = t.get("parameters")
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return None
    if isinstance(choice, dict):
        name = choice.get("name")
        if choice.get("type") != "function" or name not in schemas:
            raise BadRequest(f"tool_choice names an unknown tool: {name!r}", "tool_choice")
        return name, schemas[name]
    name = content.mentioned_tool(list(schemas), said)
    if name is None and choice == "required":
        name = next(iter(schemas))
    return (name, schemas[name]) if name else None


def _usage(r: Reply) -> dict:
    return {"input_tokens": r.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": r.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": r.prompt_tokens + r.completion_tokens}


def _envelope(rid: str, plan: ResponsesPlan, status: str, output: list, usage: dict | None) -> dict:
    b = plan.body
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    return {"id": rid, "object": "response", "created_at": int(time.time()), "status": status,
            "model": plan.model, "output": output, "usage": usage, "error": None,
            "incomplete_details": incomplete, "instructions": b.get("instructions"),
            "tools": b.get("tools") or [], "store": b.get("store", True),
            "reasoning": b.get("reasoning") or {"effort": None}}


async def responses(ctx: Ctx, plan: ResponsesPlan) -> web.StreamResponse:
    r = plan.reply
    ident = f"{ctx.draw.ident:012x}"
    rid, mid, fid, call_id = f"resp_sim{ident}", f"msg_sim{ident}", f"fc_sim{ident}", f"call_{ident}"
    status = "incomplete" if r.finish == "length" else "completed"
    if r.tool_name:
        item = {"type": "function_call", "id": fid, "call_id": call_id, "name": r.tool_name,
                "arguments": r.tool_args, "status": "completed"}
    else:
        item = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": r.text, "annotations": []}]}
    if not plan.stream:
        return wire.json_response(_envelope(rid, plan, status, [item], _usage(r)), headers=ctx.headers)

    seq = iter(range(1 << 30))

    def ev(type_: str, **data) -> bytes:
        return wire.sse({"type": type_, "sequence_number": next(seq), **data}, type_)

    events = [ev("response.created", response=_envelope(rid, plan, "in_progress", [], None)),
              ev("response.in_progress", response=_envelope(rid, plan, "in_progress", [], None))]
    if r.tool_name:
        events.append(ev("response.output_item.added", output_index=0,
                         item={**item, "arguments": "", "status": "in_progress"}))
        events += [ev("response.function_call_arguments.delta", item_id=fid, output_index=0, delta=f)
                   for f in content.split_text(r.tool_args, ARG_FRAGMENT)]
        events.append(ev("response.function_call_arguments.done", item_id=fid, output_index=0,
                         arguments=r.tool_args))
    else:
        events.append(ev("response.output_item.added", output_index=0,
                         item={**item, "content": [], "status": "in_progress"}))
        events.append(ev("response.content_part.added", item_id=mid, output_index=0, content_index=0,
                         part={"type": "output_text", "text": "", "annotations": []}))
        p = r.pieces
        events += [ev("response.output_text.delta", item_id=mid, output_index=0, content_index=0,
                      delta="".join(p[i:i + PIECES_PER_DELTA]), logprobs=[])
                   for i in range(0, len(p), PIECES_PER_DELTA)]
        events.append(ev("response.output_text.done", item_id=mid, output_index=0, content_index=0,
                         text=r.text, logprobs=[]))
        events.append(ev("response.content_part.done", item_id=mid, output_index=0, content_index=0,
                         part=item["content"][0]))
    events.append(ev("response.output_item.done", output_index=0, item=item))
    final = _envelope(rid, plan, status, [item], _usage(r))
    events.append(ev("response.incomplete" if status == "incomplete" else "response.completed", response=final))
    return await wire.stream(ctx, events, ctx.sim._count_stall)
