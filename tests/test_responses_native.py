"""Upstreams that speak OpenAI's Responses API natively (`providers[].api: responses`).

A real `seawall serve` in front of the simulator's /v1/responses, with the official `openai` SDK
as the client: chat completions and Seawall's own /v1/responses both reach the upstream as
Responses requests (never as chat), plain and streamed, with a function tool round trip, and
the guard still keeps PII from going upstream. The simulator reads the Responses shapes strictly,
so a chat-shaped request sent there would be a 400, not a pass."""
import json

import openai
import orjson
import pytest

from procs import http, start_gateway, start_simulator
from seawall.wire import responses_outbound as wire

KEY = "sk-native-responses"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "weather in a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
EMAIL = "dora.ng@example.org"


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=41)
    cfg = {
        "server": {"api_keys": ["${KEY}"]},
        "providers": [{"name": "native", "base_url": sim.url + "/v1", "api": "responses"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "native", "model": "gpt-4o-mini"}]},
                   {"name": "echo", "targets": [{"provider": "native", "model": "echo"}]}],
        "jobs": {"enabled": True, "workers": 1, "poll_s": 0.1},
    }
    gw = start_gateway(cfg, env={"KEY": KEY})
    gw.sim = sim
    yield gw
    gw.stop()
    sim.stop()


def client(stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=KEY, max_retries=0, timeout=30)


def upstream(stack) -> dict:
    seen = json.loads(http("GET", stack.sim.url + "/_sim/last-request")[2])
    assert seen["path"] == "/v1/responses", seen["path"]
    return seen["body"]


def test_the_simulator_speaks_responses_to_the_sdk_and_refuses_chat_shapes():
    sim = start_simulator(seed=42)
    try:
        direct = openai.OpenAI(base_url=sim.url + "/v1", api_key="x", max_retries=0)
        r = direct.responses.create(model="gpt-4o-mini", input="Say hello", instructions="Be brief.")
        assert r.status == "completed" and r.output_text and r.usage.output_tokens > 0
        events = list(direct.responses.create(model="gpt-4o-mini", input="Say hello", stream=True))
        assert events[-1].type == "response.completed"
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == events[-1].response.output_text
        chat_shaped = [{"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                       {"model": "m", "input": "use get_weather", "tools": [WEATHER]}]
        for body in chat_shaped:
            status, _, raw = http("POST", sim.url + "/v1/responses", orjson.dumps(body), {"Content-Type": "application/json"})
            assert status == 400, raw
    finally:
        sim.stop()


def test_a_chat_request_reaches_the_upstream_as_a_responses_request(stack):
    r = client(stack).chat.completions.create(
        model="gpt-4o-mini", max_tokens=64, temperature=0.2, reasoning_effort="low",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me something"}])
    assert r.choices[0].message.content and r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    sent = upstream(stack)
    assert "messages" not in sent and sent["store"] is False and sent["stream"] is False
    assert sent["input"] == [{"type": "message", "role": "system", "content": "Be brief."},
                             {"type": "message", "role": "user", "content": "Tell me something"}]
    assert (sent["max_output_tokens"], sent["temperature"], sent["reasoning"]) == (64, 0.2, {"effort": "low"})


def test_a_streamed_chat_with_usage(stack):
    chunks = list(client(stack).chat.completions.create(
        model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me a story"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert upstream(stack)["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_tool_round_trip(stack, stream):
    oai = client(stack)
    ask = [{"role": "user", "content": "What is the weather in Oslo? use get_weather"}]
    if stream:
        chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=ask, tools=[WEATHER], stream=True))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        call_id, name = calls[0].id, calls[0].function.name
        args = "".join(tc.function.arguments or "" for tc in calls)
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
    else:
        first = oai.chat.completions.create(model="gpt-4o-mini", messages=ask, tools=[WEATHER])
        [call] = first.choices[0].message.tool_calls
        call_id, name, args = call.id, call.function.name, call.function.arguments
        assert first.choices[0].finish_reason == "tool_calls"
    assert name == "get_weather" and "city" in json.loads(args)
    assert upstream(stack)["tools"] == [{"type": "function", **WEATHER["function"]}]  # flattened
    second = oai.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER], messages=[
        *ask, {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": call_id, "content": '{"temp_c": 4}'}])
    assert second.choices[0].message.content and second.choices[0].finish_reason == "stop"
    items = upstream(stack)["input"]
    assert items[1:] == [{"type": "function_call", "call_id": call_id, "name": name, "arguments": args},
                         {"type": "function_call_output", "call_id": call_id, "output": '{"temp_c": 4}'}]


def test_seawalls_responses_api_over_a_native_upstream(stack):
    oai = client(stack)
    first = oai.responses.create(model="gpt-4o-mini", input="What is the weather in Rome? use get_weather",
                                 tools=[{"type": "function", **WEATHER["function"]}], reasoning={"effort": "medium"})
    [call] = [o for o in first.output if o.type == "function_call"]
    assert upstream(stack)["reasoning"] == {"effort": "medium"}
    second = oai.responses.create(model="gpt-4o-mini", previous_response_id=first.id, input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp_c": 18}'}])
    assert second.status == "completed" and second.output_text
    events = list(oai.responses.create(model="gpt-4o-mini", previous_response_id=second.id, input="Thanks!",
                                       stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.output_text
    assert [i["type"] for i in upstream(stack)["input"]] == [
        "message", "function_call", "function_call_output", "message", "message"]


def test_the_guard_keeps_pii_from_a_native_upstream_and_restores_it_for_the_client(stack):
    r = client(stack).chat.completions.create(model="echo", messages=[
        {"role": "user", "content": f"Please write to {EMAIL} today"}])
    assert EMAIL not in json.dumps(upstream(stack))
    assert EMAIL in r.choices[0].message.content  # the placeholder the model echoed is restored


def test_what_the_responses_api_cannot_honour_is_refused_not_dropped(stack):
    for extra, param in (({"n": 2}, "n"), ({"stop": ["END"]}, "stop")):
        with pytest.raises(openai.BadRequestError) as e:
            client(stack).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                                  **extra)
        assert e.value.body["param"] == param


def test_failed_and_unfinished_upstream_answers_are_errors_not_answers():
    with pytest.raises(wire.UpstreamFailed) as e:
        wire.responses_to_chat({"status": "failed", "error": {"code": "server_error", "message": "boom"}})
    assert e.value.code == "server_error"
    with pytest.raises(Exception, match="not a finished response"):
        wire.responses_to_chat({"status": "in_progress", "output": []})
    t = wire.ResponsesStreamToChat("m")
    assert t.feed("response.created", {"type": "response.created", "response": {"id": "resp_1"}}) == []
    with pytest.raises(Exception, match="never started"):
        t.feed(None, {"type": "response.function_call_arguments.delta", "item_id": "fc_x", "delta": "{"})
    with pytest.raises(wire.UpstreamFailed):
        t.feed(None, {"type": "response.failed", "response": {"error": {"code": "rate_limit_exceeded"}}})
    cut = wire.responses_to_chat({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
                                  "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hel"}]}]})
    assert cut["choices"][0]["finish_reason"] == "length" and cut["choices"][0]["message"]["content"] == "Hel"
