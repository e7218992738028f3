"""Shared pieces of the simulator tests: a simulator and an HTTP session as fixtures, and
helpers to post, read SSE and hold a raw connection."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import pytest

from seawall.sim import Simulator

CHAT = "/v1/chat/completions"
ANTHROPIC = {"model": "claude-sonnet-4-0", "max_tokens": 400, "system": "Be helpful.",
             "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}
HELLO = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"}, "verbose": {"type": "boolean"}},
        "required": ["city", "unit", "days"]}}}


@pytest.fixture
async def sim():
    s = Simulator(seed=7, models=["my-model"])
    await s.start(host="127.0.0.1", port=0)
    yield s
    await s.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


async def post(http, sim, path, body, **kw):
    async with http.post(sim.url + path, json=body, **kw) as r:
        return r.status, r.headers, await r.read()


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) for every SSE event in a body."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        out.append((event, "\n".join(data)))
    return out


async def wait_for(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(0.005)
    return pred()


async def raw_request(sim, path: str, body: dict):
    """Open a raw connection and send a request, so the test controls the disconnect."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    data = orjson.dumps(body)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()
    return reader, writer
