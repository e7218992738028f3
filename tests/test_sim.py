"""The upstream simulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import math
import os
import signal
import socket
import subprocess
import sys
import time
from array import array

import aiohttp
import orjson
import pytest

from seawall.sim import Faults, Simulator

CHAT = "/v1/chat/completions"
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


# ---------------------------------------------------------------------------------------------
# as a separate process

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_subprocess_cli_with_required_key(http):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "seawall.sim", "--port", str(port), "--seed", "3",
         "--require-key", "sk-test", "--models", "alpha,beta"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < deadline, "simulator did not start"
            await asyncio.sleep(0.05)

        async with http.post(url + CHAT, json=HELLO) as r:
            assert r.status == 401
            err = (await r.json())["error"]
            assert err["code"] == "invalid_api_key" and set(err) >= {"message", "type", "param"}
        async with http.post(url + CHAT, json=HELLO,
                             headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401
        async with http.post(url + CHAT, json=HELLO,
                             headers={"Authorization": "Bearer sk-test"}) as r:
            assert r.status == 200
            assert (await r.json())["choices"][0]["message"]["role"] == "assistant"
        async with http.post(url + "/v1/messages", headers={"x-api-key": "sk-test"}, json={
                "model": "claude-x", "max_tokens": 20,
                "messages": [{"role": "user", "content": "hi"}]}) as r:
            assert r.status == 200 and (await r.json())["type"] == "message"
        async with http.post(url + "/v1/messages", json={
                "model": "claude-x", "max_tokens": 20,
                "messages": [{"role": "user", "content": "hi"}]}) as r:
            assert r.status == 401
            assert (await r.json())["error"]["type"] == "authentication_error"
        async with http.get(url + "/v1/models", headers={"api-key": "sk-test"}) as r:
            ids = [m["id"] for m in (await r.json())["data"]]
            assert "alpha" in ids and "beta" in ids and "gpt-4o-mini" in ids
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0
    assert b"listening on" in proc.stdout.read()


# ---------------------------------------------------------------------------------------------
# OpenAI chat

async def test_chat_completion_shape_and_usage(sim, http):
    prompt = "Tell me about gateways. " * 10
    status, _, raw = await post(http, sim, CHAT, {
        "model": "whatever-model", "messages": [{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": prompt}]})
    assert status == 200
    body = orjson.loads(raw)
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "whatever-model" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    text = choice["message"]["content"]
    u = body["usage"]
    assert 20 <= u["completion_tokens"] <= 140 and len(text.split()) == u["completion_tokens"]
    chars = len("Be brief.") + len(prompt)
    assert abs(u["prompt_tokens"] - chars / 4) <= 2
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]

    # Same prompt, same answer; max_tokens caps it and says so.
    _, _, raw2 = await post(http, sim, CHAT, {
        "model": "m", "max_completion_tokens": 5,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": prompt}]})
    capped = orjson.loads(raw2)
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == 5
    assert text.startswith(capped["choices"][0]["message"]["content"])


async def test_chat_stream_matches_non_stream(sim, http):
    _, _, raw = await post(http, sim, CHAT, HELLO)
    full = orjson.loads(raw)
    status, headers, raw = await post(http, sim, CHAT, {
        **HELLO, "stream": True, "stream_options": {"include_usage": True}})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = [d for _, d in sse_events(raw)]
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(d) for d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in chunks if c["choices"])
    assert text == full["choices"][0]["message"]["content"]
    assert len(chunks) > 4  # several content deltas, not one blob
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == full["usage"]

    # Without include_usage there is no usage chunk.
    _, _, raw = await post(http, sim, CHAT, {**HELLO, "stream": True})
    chunks = [orjson.loads(d) for _, d in sse_events(raw)[:-1]]
    assert all(c["choices"] for c in chunks) and "usage" not in chunks[-1]


async def test_bad_requests_name_the_field(sim, http):
    async with http.post(sim.url + CHAT, data=b"{not json") as r:
        assert r.status == 400
        assert (await r.json())["error"]["type"] == "invalid_request_error"
    for body, field in (({"messages": HELLO["messages"]}, "model"),
                        ({"model": "m"}, "messages"),
                        ({**HELLO, "max_tokens": 0}, "max_tokens")):
        status, _, raw = await post(http, sim, CHAT, body)
        err = orjson.loads(raw)["error"]
        assert status == 400 and err["param"] == field and field in err["message"]
    status, _, raw = await post(http, sim, "/v1/embeddings", {"model": "e"})
    assert status == 400 and orjson.loads(raw)["error"]["param"] == "input"


# ---------------------------------------------------------------------------------------------
# tools and structured output

async def test_tool_call_non_stream(sim, http):
    body = {"model": "m", "tools": [WEATHER_TOOL],
            "messages": [{"role": "user", "content": "Please call get_weather for me"}]}
    _, _, raw = await post(http, sim, CHAT, body)
    choice = orjson.loads(raw)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    args = orjson.loads(call["function"]["arguments"])
    assert isinstance(args["city"], str) and args["city"]
    assert args["unit"] in ("celsius", "fahrenheit") and isinstance(args["days"], int)
    assert "verbose" not in args  # only the required properties

    # tool_choice none, or a tool result as the last turn: prose instead.
    _, _, raw = await post(http, sim, CHAT, {**body, "tool_choice": "none"})
    assert orjson.loads(raw)["choices"][0]["finish_reason"] == "stop"
    after = {**body, "messages": body["messages"] + [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]}
    _, _, raw = await post(http, sim, CHAT, after)
    assert orjson.loads(raw)["choices"][0]["message"]["content"]

    # A forced tool is called even when not mentioned.
    forced = {"model": "m", "tools": [WEATHER_TOOL], "messages": HELLO["messages"],
              "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    _, _, raw = await post(http, sim, CHAT, forced)
    assert orjson.loads(raw)["choices"][0]["message"]["tool_calls"][0]["function"]["name"] \
        == "get_weather"


async def test_tool_call_stream(sim, http):
    _, _, raw = await post(http, sim, CHAT, {
        "model": "m", "stream": True, "tools": [WEATHER_TOOL], "tool_choice": "required",
        "messages": HELLO["messages"]})
    events = sse_events(raw)
    assert events[-1][1] == "[DONE]"
    chunks = [orjson.loads(d) for _, d in events[:-1]]
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["function"] == {"name": "get_weather", "arguments": ""} and first["id"]
    frags = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
             for c in chunks[1:-1]]
    assert len(frags) > 1
    assert orjson.loads("".join(frags))["city"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_json_response_formats(sim, http):
    _, _, raw = await post(http, sim, CHAT, {**HELLO,
                                             "response_format": {"type": "json_object"}})
    assert isinstance(orjson.loads(orjson.loads(raw)["choices"][0]["message"]["content"]), dict)
    schema = {"type": "object", "properties": {"title": {"type": "string"},
                                               "score": {"type": "number", "minimum": 5},
                                               "tags": {"type": "array",
                                                        "items": {"type": "string"}}},
              "required": ["title", "score", "tags"], "additionalProperties": False}
    _, _, raw = await post(http, sim, CHAT, {**HELLO, "response_format": {
        "type": "json_schema", "json_schema": {"name": "r", "schema": schema, "strict": True}}})
    doc = orjson.loads(orjson.loads(raw)["choices"][0]["message"]["content"])
    assert set(doc) == {"title", "score", "tags"} and doc["score"] >= 5
    assert isinstance(doc["tags"], list) and isinstance(doc["title"], str)


# ---------------------------------------------------------------------------------------------
# embeddings and models

async def test_embeddings_are_deterministic_unit_vectors(sim, http):
    texts = ["What is the capital of France?", "what's the capital city of France",
             "Completely unrelated sentence about bananas."]
    _, _, raw = await post(http, sim, "/v1/embeddings",
                           {"model": "text-embedding-3-small", "input": texts, "dimensions": 64})
    body = orjson.loads(raw)
    assert body["object"] == "list" and body["usage"]["prompt_tokens"] > 0
    vecs = [d["embedding"] for d in body["data"]]
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(len(v) == 64 and abs(math.hypot(*v) - 1) < 1e-9 for v in vecs)

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b))

    # Shared words pull vectors together; unrelated texts are far apart.
    assert cos(vecs[0], vecs[1]) > 0.6 and abs(cos(vecs[0], vecs[2])) < 0.35

    # Same text alone, in another simulator: the same vector; default dimension 256.
    other = Simulator(seed=99)
    await other.start(port=0)
    try:
        async with http.post(other.url + "/v1/embeddings",
                             json={"model": "e", "input": texts[0], "dimensions": 64}) as r:
            assert (await r.json())["data"][0]["embedding"] == vecs[0]
        async with http.post(other.url + "/v1/embeddings",
                             json={"model": "e", "input": texts[0],
                                   "encoding_format": "base64"}) as r:
            b64 = (await r.json())["data"][0]["embedding"]
        floats = array("f", base64.b64decode(b64))
        assert len(floats) == 256 and abs(math.hypot(*floats) - 1) < 1e-5
        async with http.post(other.url + "/v1/embeddings",
                             json={"model": "e", "input": [[1, 2, 3], [4, 5]]}) as r:
            body = await r.json()
            assert len(body["data"]) == 2 and body["usage"]["prompt_tokens"] == 5
    finally:
        await other.stop()


async def test_models_lists_defaults_and_configured(sim, http):
    async with http.get(sim.url + "/v1/models") as r:
        body = await r.json()
    ids = [m["id"] for m in body["data"]]
    assert body["object"] == "list" and "my-model" in ids and "gpt-4o-mini" in ids


# ---------------------------------------------------------------------------------------------
# Anthropic messages

ANTHROPIC = {"model": "claude-sonnet-4-0", "max_tokens": 400, "system": "Be helpful.",
             "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}


async def test_anthropic_messages_non_stream_and_stream(sim, http):
    status, _, raw = await post(http, sim, "/v1/messages", ANTHROPIC)
    msg = orjson.loads(raw)
    assert status == 200 and msg["type"] == "message" and msg["role"] == "assistant"
    assert msg["model"] == "claude-sonnet-4-0" and msg["stop_reason"] == "end_turn"
    assert msg["content"][0]["type"] == "text" and msg["content"][0]["text"]
    assert msg["usage"]["input_tokens"] > 0 and msg["usage"]["output_tokens"] > 0

    _, _, raw = await post(http, sim, "/v1/messages", {**ANTHROPIC, "stream": True})
    events = sse_events(raw)
    names = [e for e, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    datas = [orjson.loads(d) for _, d in events]
    assert all(d["type"] == e for (e, _), d in zip(events, datas))
    text = "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta")
    assert text == msg["content"][0]["text"]
    delta = datas[-2]
    assert delta["delta"]["stop_reason"] == "end_turn"
    assert delta["usage"]["output_tokens"] == msg["usage"]["output_tokens"]

    _, _, raw = await post(http, sim, "/v1/messages", {**ANTHROPIC, "max_tokens": 3})
    capped = orjson.loads(raw)
    assert capped["stop_reason"] == "max_tokens" and capped["usage"]["output_tokens"] == 3


async def test_anthropic_tool_use_and_errors(sim, http):
    tool = {"name": "lookup_order", "description": "Find an order",
            "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                             "required": ["order_id"]}}
    body = {**ANTHROPIC, "tools": [tool],
            "messages": [{"role": "user", "content": "use lookup_order please"}]}
    _, _, raw = await post(http, sim, "/v1/messages", body)
    msg = orjson.loads(raw)
    assert msg["stop_reason"] == "tool_use"
    block = msg["content"][0]
    assert block["type"] == "tool_use" and block["name"] == "lookup_order"
    assert isinstance(block["input"]["order_id"], str)

    _, _, raw = await post(http, sim, "/v1/messages", {**body, "stream": True})
    datas = [orjson.loads(d) for _, d in sse_events(raw)]
    assert datas[1]["content_block"]["type"] == "tool_use"
    partial = "".join(d["delta"]["partial_json"] for d in datas
                      if d["type"] == "content_block_delta")
    assert orjson.loads(partial) == block["input"]
    assert datas[-2]["delta"]["stop_reason"] == "tool_use"

    status, _, raw = await post(http, sim, "/v1/messages",
                                {"model": "c", "messages": ANTHROPIC["messages"]})
    err = orjson.loads(raw)
    assert status == 400 and err["type"] == "error"
    assert err["error"]["type"] == "invalid_request_error" and "max_tokens" in \
        err["error"]["message"]

    sim.set_faults(error_rate=1.0, error_status=529)
    status, _, raw = await post(http, sim, "/v1/messages", ANTHROPIC)
    assert status == 529
    assert orjson.loads(raw) == {"type": "error", "error": {"type": "overloaded_error",
                                                            "message": "Overloaded"}}
    status, _, raw = await post(http, sim, CHAT, HELLO)
    assert status == 529 and orjson.loads(raw)["error"]["type"] == "overloaded_error"


# ---------------------------------------------------------------------------------------------
# faults

async def test_error_rate_429_with_retry_after(http):
    sim = Simulator(faults=Faults(error_rate=1.0, error_status=429, retry_after_s=2.5), seed=1)
    await sim.start(port=0)
    try:
        for _ in range(3):
            status, headers, raw = await post(http, sim, CHAT, HELLO)
            assert status == 429
            assert headers["Retry-After"] == "3" and headers["retry-after-ms"] == "2500"
            err = orjson.loads(raw)["error"]
            assert err["code"] == "rate_limit_exceeded" and err["message"]
        assert sim.stats["by_status"] == {"429": 3}
    finally:
        await sim.stop()


async def test_runtime_fault_control(sim, http):
    async with http.post(sim.url + "/_sim/faults",
                         json={"error_rate": 1, "error_status": 503, "latency_ms": 1}) as r:
        assert r.status == 200 and (await r.json())["error_status"] == 503
    status, _, raw = await post(http, sim, CHAT, HELLO)
    assert status == 503 and orjson.loads(raw)["error"]["type"] == "server_error"
    async with http.get(sim.url + "/_sim/faults") as r:
        current = await r.json()
        assert current["error_rate"] == 1.0 and current["latency_ms"] == 1.0

    for bad, field in (({"nope": 1}, "nope"), ({"error_rate": "high"}, "error_rate"),
                       ({"error_rate": 1.5}, "error_rate"), ({"hang": "yes"}, "hang"),
                       ({"latency_p99_ms": 0.5}, "latency_p99_ms")):
        async with http.post(sim.url + "/_sim/faults", json=bad) as r:
            err = (await r.json())["error"]
            assert r.status == 400 and field in err["message"] and err["param"] == field
    assert sim.faults.error_rate == 1.0  # a refused change leaves the faults alone

    async with http.delete(sim.url + "/_sim/faults") as r:
        assert (await r.json())["error_rate"] == 0.0
    status, _, _ = await post(http, sim, CHAT, HELLO)
    assert status == 200

    sim.set_faults(error_rate=1.0)
    assert (await post(http, sim, CHAT, HELLO))[0] == 500
    sim.reset_faults()
    assert (await post(http, sim, CHAT, HELLO))[0] == 200
    with pytest.raises(ValueError, match="error_status"):
        sim.set_faults(error_status=200)


async def test_stats_count_only_v1_routes(sim, http):
    async with http.get(sim.url + "/healthz") as r:
        assert r.status == 200
    await post(http, sim, CHAT, HELLO)
    await post(http, sim, CHAT, {"model": "m"})
    await post(http, sim, "/v1/embeddings", {"model": "e", "input": "x"})
    async with http.get(sim.url + "/_sim/stats") as r:
        stats = await r.json()
    assert stats["received"] == 3 and stats["in_flight"] == 0
    assert stats["by_path"] == {CHAT: 2, "/v1/embeddings": 1}
    assert stats["by_status"] == {"200": 2, "400": 1}
    async with http.post(sim.url + "/_sim/reset-stats") as r:
        assert r.status == 200
    assert sim.stats["received"] == 0 and sim.stats["by_status"] == {}


async def test_in_flight_drops_when_client_leaves_mid_stream(sim, http):
    sim.set_faults(chunk_ms=50)
    reader, writer = await raw_request(sim, CHAT, {**HELLO, "stream": True})
    head = await asyncio.wait_for(reader.readuntil(b"data: "), 5)
    assert b"200 OK" in head and b"text/event-stream" in head
    assert sim.stats["in_flight"] == 1
    writer.close()
    assert await wait_for(lambda: sim.stats["in_flight"] == 0, 0.1)
    assert sim.stats["by_status"] == {"200": 1}


async def test_hang_holds_until_client_leaves(sim, http):
    sim.set_faults(hang=True)
    reader, writer = await raw_request(sim, CHAT, HELLO)
    assert await wait_for(lambda: sim.stats["in_flight"] == 1, 5)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.3)  # nothing comes back
    assert sim.stats["in_flight"] == 1
    writer.close()
    assert await wait_for(lambda: sim.stats["in_flight"] == 0, 0.1)
    assert sim.stats["by_status"] == {"no_response": 1}
    assert sim.stats["faults_injected"]["hang"] == 1


async def test_stream_stalls_after_n_chunks(sim, http):
    sim.set_faults(stall_after_chunks=2)
    reader, writer = await raw_request(sim, CHAT, {**HELLO, "stream": True})
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    got = b""
    with pytest.raises(asyncio.TimeoutError):
        while True:
            got += await asyncio.wait_for(reader.read(65536), 0.3)
    assert got.count(b"data: ") == 2 and b"[DONE]" not in got
    assert sim.stats["in_flight"] == 1
    writer.close()
    assert await wait_for(lambda: sim.stats["in_flight"] == 0, 0.1)


async def test_reset_malformed_and_error_body(sim, http):
    sim.set_faults(reset_rate=1.0)
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(http, sim, CHAT, HELLO)
    assert sim.stats["by_status"] == {"reset": 1}

    sim.set_faults(reset_rate=0.0, malformed_rate=1.0)
    status, _, raw = await post(http, sim, CHAT, HELLO)
    assert status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)

    sim.set_faults(malformed_rate=0.0, error_body_rate=1.0)
    status, headers, raw = await post(http, sim, CHAT, HELLO)
    assert status == 200 and headers["x-sim-fault"] == "error_body"
    assert set(orjson.loads(raw)["error"]) == {"message", "type", "code", "param"}
    status, _, raw = await post(http, sim, "/v1/messages", ANTHROPIC)
    assert status == 200 and orjson.loads(raw)["type"] == "error"


async def test_outage_window_and_flapping(http):
    sim = Simulator(faults=Faults(outage=[[0.0, 0.4]]), seed=2)
    await sim.start(port=0)
    try:
        assert (await post(http, sim, CHAT, HELLO))[0] == 503
        await asyncio.sleep(0.45)
        assert (await post(http, sim, CHAT, HELLO))[0] == 200
        # Flapping: down for the first 0.3 s of every 0.6 s period from start.
        sim.set_faults(outage=[], flap_period_s=0.6, flap_down_s=0.3, outage_status=502)
        phase = sim.stats["uptime_s"] % 0.6
        await asyncio.sleep(0.6 - phase + 0.05)  # just after a period starts: down
        assert (await post(http, sim, CHAT, HELLO))[0] == 502
        await asyncio.sleep(0.35)  # now in the up half
        assert (await post(http, sim, CHAT, HELLO))[0] == 200
    finally:
        await sim.stop()


async def _run(seed: int, http, requests: list[dict]) -> list:
    sim = Simulator(faults=Faults(error_rate=0.4, error_status=503, malformed_rate=0.2),
                    seed=seed)
    await sim.start(port=0)
    try:
        out = []
        for body in requests:
            status, _, raw = await post(http, sim, CHAT, body)
            out.append((status, raw if status != 200 else
                        _strip_volatile(raw)))
        return out
    finally:
        await sim.stop()


def _strip_volatile(raw: bytes):
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    body.pop("created", None)
    return body


async def test_same_seed_same_outputs_and_fault_decisions(http):
    requests = [{"model": "m", "messages": [{"role": "user", "content": f"question {i % 5}"}]}
                for i in range(30)]
    a = await _run(11, http, requests)
    b = await _run(11, http, requests)
    assert a == b
    statuses = [s for s, _ in a]
    assert 503 in statuses and 200 in statuses  # the faults really fired, and not always
    c = await _run(12, http, requests)
    assert [s for s, _ in c] != statuses


def test_heavy_tailed_latency_fits_p50_and_p99():
    import random
    f = Faults(latency_ms=20, latency_p99_ms=400)
    rng = random.Random(5)
    draws = sorted(f.latency_s(rng.random()) for _ in range(20000))
    p50, p99 = draws[len(draws) // 2], draws[int(len(draws) * 0.99)]
    assert 0.018 < p50 < 0.022 and 0.33 < p99 < 0.47
    assert Faults(latency_ms=20).latency_s(0.99) == 0.02


def test_faults_from_dict_validation():
    f = Faults.from_dict({"error_rate": 0.5, "outage": [[1, 2]], "stall_after_chunks": 3})
    assert f.error_rate == 0.5 and f.outage == [[1.0, 2.0]] and f.is_down(1.5)
    assert not f.is_down(2.0)
    for bad, field in (({"error_rate": True}, "error_rate"), ({"outage": [[2, 1]]}, "outage"),
                       ({"error_status": 200}, "error_status"), ({"zzz": 1}, "zzz"),
                       ({"stall_after_chunks": -1}, "stall_after_chunks")):
        with pytest.raises(ValueError, match=field):
            Faults.from_dict(bad)


async def test_official_sdks_accept_the_simulator(sim):
    """The openai and anthropic SDKs parse what the simulator sends (streams and errors too)."""
    openai = pytest.importorskip("openai")
    anthropic = pytest.importorskip("anthropic")
    oc = openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="k", max_retries=0)
    stream = await oc.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage or usage
    assert text and usage.completion_tokens == len(text.split())
    emb = await oc.embeddings.create(model="text-embedding-3-small", input="hello")  # base64
    assert len(emb.data[0].embedding) == 256
    sim.set_faults(error_rate=1.0, error_status=429)
    with pytest.raises(openai.RateLimitError):
        await oc.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    sim.reset_faults()

    ac = anthropic.AsyncAnthropic(base_url=sim.url, api_key="k", max_retries=0)
    async with ac.messages.stream(
            model="claude-x", max_tokens=100,
            messages=[{"role": "user", "content": "call get_weather"}],
            tools=[{"name": "get_weather", "input_schema": {
                "type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}}]) as s:
        final = await s.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[0].input["city"]
    sim.set_faults(error_rate=1.0, error_status=529)
    with pytest.raises(anthropic.APIStatusError) as info:
        await ac.messages.create(model="c", max_tokens=5,
                                 messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 529


async def test_stop_releases_hung_requests():
    sim = Simulator(faults=Faults(hang=True))
    await sim.start(port=0)
    reader, writer = await raw_request(sim, CHAT, HELLO)
    try:
        assert await wait_for(lambda: sim.stats["in_flight"] == 1, 5)
        await asyncio.wait_for(sim.stop(), 5)  # does not wait for the hung request to finish
        assert await asyncio.wait_for(reader.read(), 5) == b""  # dropped without an answer
        assert sim.stats["in_flight"] == 0 and sim.stats["by_status"] == {"no_response": 1}
    finally:
        writer.close()
        await sim.stop()


async def test_echo_model_repeats_last_user_message_and_last_request_shows_the_body(sim, http):
    said = "Write to <EMAIL_ADDRESS_1> about the launch, please"
    body = {"model": "echo", "messages": [{"role": "system", "content": "be brief"},
                                          {"role": "user", "content": "earlier turn"},
                                          {"role": "assistant", "content": "ok"},
                                          {"role": "user", "content": said}]}
    _, _, raw = await post(http, sim, CHAT, body)
    assert orjson.loads(raw)["choices"][0]["message"]["content"] == said
    async with http.get(sim.url + "/_sim/last-request") as r:
        assert await r.json() == {"path": CHAT, "body": body} == sim.last_request

    # streamed in small pieces, so a placeholder is split across chunks
    _, _, raw = await post(http, sim, CHAT, {**body, "model": "echo-b", "stream": True})
    deltas = [orjson.loads(d)["choices"][0]["delta"].get("content") for _, d in sse_events(raw)[:-1]]
    pieces = [d for d in deltas if d]
    assert "".join(pieces) == said
    assert not any("<EMAIL_ADDRESS_1>" in p for p in pieces)

    # a tool call's string arguments repeat it; other values keep their types
    _, _, raw = await post(http, sim, CHAT, {**body, "tools": [WEATHER_TOOL], "tool_choice": "required"})
    args = orjson.loads(orjson.loads(raw)["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert args["city"] == args["unit"] == said and isinstance(args["days"], int)

    # Anthropic route too; any other model name still answers with prose
    _, _, raw = await post(http, sim, "/v1/messages", {"model": "echo", "max_tokens": 50,
                                                        "messages": [{"role": "user", "content": said}]})
    assert orjson.loads(raw)["content"][0]["text"] == said
    _, _, raw = await post(http, sim, CHAT, {**body, "model": "gpt-4o-mini"})
    assert orjson.loads(raw)["choices"][0]["message"]["content"] != said
