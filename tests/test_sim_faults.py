"""The simulator's faults, determinism and its official-SDK compatibility, over real HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest

from seawall.sim import Faults, Simulator
from simtools import ANTHROPIC, CHAT, HELLO, WEATHER_TOOL, http, post, raw_request, sim, sse_events, wait_for  # noqa: F401 (fixtures)


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
