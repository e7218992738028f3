"""Pieces shared by the OpenAI and Anthropic dialects: the per-request context, JSON and SSE
responses, and the stream faults (ttft, pacing, stall)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import orjson
from aiohttp import web

from .faults import Draw, Faults

if TYPE_CHECKING:  # pragma: no cover
    from .server import Simulator

JSON = "application/json"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "Connection": "keep-alive"}


class BadRequest(Exception):
    """A request the real provider would refuse with 400; ``param`` names the field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(slots=True)
class Ctx:
    request: web.BaseRequest
    sim: "Simulator"
    faults: Faults  # snapshot at arrival: a runtime change does not alter a request in flight
    draw: Draw
    headers: dict[str, str]  # added to every response of this request
    status: int | str | None = None  # what the client got, for /_sim/stats

    def record(self, status: int | str) -> None:
        self.status = status


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON,
                        headers=headers)


def sse(data: Any, event: str | None = None) -> bytes:
    body = b"data: " + orjson.dumps(data) + b"\n\n"
    return b"event: " + event.encode() + b"\n" + body if event else body


async def hang(ctx: Ctx) -> web.StreamResponse:
    """Hold the request open until the client leaves (the task is then cancelled) or the
    simulator stops (then the connection is dropped without an answer)."""
    await ctx.sim._stopping.wait()
    if ctx.status is None:
        ctx.record("no_response")
    return abort(ctx)


def abort(ctx: Ctx) -> web.Response:
    transport = ctx.request.transport
    if transport is not None:
        transport.abort()
    # aiohttp still wants a response object; writing it fails quietly on the closed transport.
    return web.Response(status=499)


async def stream(ctx: Ctx, events: list[bytes],
                 on_stall: Callable[[], None] | None = None) -> web.StreamResponse:
    """Send SSE events with the stream faults applied."""
    f = ctx.faults
    resp = web.StreamResponse(status=200, headers={**SSE_HEADERS, **ctx.headers})
    await resp.prepare(ctx.request)  # headers go out now, like a real provider's
    ctx.record(200)
    if f.ttft_ms:
        await asyncio.sleep(f.ttft_ms / 1000.0)
    stall = f.stall_after_chunks
    stalled = stall is not None and stall < len(events)
    if stalled:
        events = events[:stall]
    if f.chunk_ms and len(events) > 1:
        pause = f.chunk_ms / 1000.0
        for i, ev in enumerate(events):
            if i:
                await asyncio.sleep(pause)
            await resp.write(ev)
    elif events:
        # One write when there is no pacing: the simulator is the upstream in load tests.
        await resp.write(b"".join(events))
    if stalled:
        if on_stall:
            on_stall()
        await hang(ctx)
        return resp
    await resp.write_eof()
    return resp
