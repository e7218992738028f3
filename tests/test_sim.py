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

from seawall.sim import Simulator
from simtools import ANTHROPIC, CHAT, HELLO, WEATHER_TOOL, http, post, sim, sse_events  # noqa: F401 (fixtures)


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
