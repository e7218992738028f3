"""Reversible tokenization through a real HTTP SSE stream.

A small OpenAI-style upstream (aiohttp, on 127.0.0.1) echoes what it received, streamed in
3-character deltas, so placeholders are split across chunks on the wire. The test sends the
guarded request, reads the SSE events with aiohttp, and passes every chunk through the output
filter: the caller must see its original values, the upstream must never have seen them.
"""
from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web

from seawall.core.errors import GatewayError
from seawall.guard import Guard, GuardPolicy

POLICY = GuardPolicy(injection_enabled=False)


async def _echo_upstream(seen: list[dict]):
    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        text = "You said: " + body["messages"][-1]["content"]
        if body.get("leak"):
            text += " Also here is a key: sk-ant-api03-" + "q" * 30 + " end."
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(delta, finish=None):
            ev = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            await resp.write(f"data: {json.dumps(ev)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for i in range(0, len(text), 3):
            await send({"content": text[i : i + 3]})
        args = json.dumps({"recipient": body["messages"][-1]["content"].split()[-1]})
        for i in range(0, len(args), 5):
            await send({"tool_calls": [{"index": 0, "function": {"arguments": args[i : i + 5]}}]})
        await send({}, finish="stop")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _stream(url: str, body: dict):
    async with aiohttp.ClientSession() as s:
        async with s.post(url + "/v1/chat/completions", json=body) as r:
            async for raw in r.content:
                line = raw.decode().strip()
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line[6:])


@pytest.fixture
async def upstream():
    seen: list[dict] = []
    runner, url = await _echo_upstream(seen)
    yield url, seen
    await runner.cleanup()


async def test_tokens_round_trip_through_real_sse_stream(upstream):
    url, seen = upstream
    guard = Guard()
    request = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Please notify grace.hopper@navy.example.mil"}]}
    d = await guard.check_input(request, POLICY)
    assert d.allowed
    of = guard.output_filter(POLICY, d.vault, request)
    content, args = "", ""
    async for chunk in _stream(url, d.request):
        out = of.filter_chunk(chunk)
        delta = out["choices"][0]["delta"]
        content += delta.get("content") or ""
        for tc in delta.get("tool_calls") or []:
            args += tc["function"]["arguments"]
    for c in of.finish():
        content += c["choices"][0]["delta"].get("content") or ""
    assert "grace.hopper" not in json.dumps(seen)  # the upstream only saw the placeholder
    assert "<EMAIL_ADDRESS_1>" in seen[0]["messages"][-1]["content"]
    assert content == "You said: Please notify grace.hopper@navy.example.mil"
    assert json.loads(args) == {"recipient": "grace.hopper@navy.example.mil"}


async def test_secret_leak_in_real_stream_is_stopped(upstream):
    url, _ = upstream
    guard = Guard()
    long_text = "hello, " + "this answer is long enough to stream past the hold-back window. " * 3
    request = {"model": "m", "stream": True, "leak": True, "messages": [{"role": "user", "content": long_text}]}
    d = await guard.check_input(request, POLICY)
    of = guard.output_filter(POLICY, d.vault, request)
    emitted = ""
    with pytest.raises(GatewayError) as ei:
        async for chunk in _stream(url, d.request):
            emitted += of.filter_chunk(chunk)["choices"][0]["delta"].get("content") or ""
    assert ei.value.code == "guard_blocked"
    assert "sk-ant" not in emitted and "qqqq" not in emitted
    assert emitted.startswith("You said: hello, this answer")  # safe text went out before the leak
