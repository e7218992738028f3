"""The Responses API through the official `openai` SDK, unmodified, against a real `seawall serve`
in front of the simulator: plain, streamed, a function tool round trip, previous_response_id,
background=True then retrieve, cancel, and the tenant scope of stored responses."""
import json
import time

import openai
import pytest

from procs import start_gateway, start_simulator

KEY, OTHER = "sk-resp-tenant-a", "sk-resp-tenant-b"
WEATHER = {"type": "function", "name": "get_weather", "description": "weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=31)
    slow = start_simulator("--latency-ms", "5000", seed=32)
    cfg = {
        "server": {"api_keys": ["${KEY_A}", "${KEY_B}"]},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}, {"name": "slow", "base_url": slow.url + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "slow", "targets": [{"provider": "slow", "model": "gpt-4o-mini"}]}],
        "jobs": {"enabled": True, "workers": 2, "poll_s": 0.1, "lease_s": 2},
    }
    gw = start_gateway(cfg, env={"KEY_A": KEY, "KEY_B": OTHER})
    yield gw
    for p in (gw, sim, slow):
        p.stop()


def client(stack, key=KEY):
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=key, max_retries=0, timeout=30)


def test_plain_string_input_with_instructions(stack):
    r = client(stack).responses.create(model="gpt-4o-mini", input="Say hello", instructions="Be brief.")
    assert r.status == "completed" and r.id.startswith("resp_")
    assert r.output_text and r.output[0].type == "message"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0


def test_streamed_events_spell_the_same_text(stack):
    events = list(client(stack).responses.create(model="gpt-4o-mini", input=[
        {"role": "user", "content": [{"type": "input_text", "text": "Tell me something"}]}], stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and deltas == events[-1].response.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_a_function_tool_round_trip_and_previous_response_id(stack):
    oai = client(stack)
    first = oai.responses.create(model="gpt-4o-mini", input="What is the weather in Paris? use get_weather",
                                 tools=[WEATHER])
    [call] = [o for o in first.output if o.type == "function_call"]
    assert call.name == "get_weather" and "city" in json.loads(call.arguments)
    second = oai.responses.create(model="gpt-4o-mini", previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"temp_c": 21})}])
    assert second.status == "completed" and second.output_text  # prose after the tool result
    assert second.previous_response_id == first.id
    third = oai.responses.create(model="gpt-4o-mini", previous_response_id=second.id, input="And tomorrow?")
    assert third.output_text
    with pytest.raises(openai.NotFoundError):  # stored conversations are per tenant
        client(stack, OTHER).responses.create(model="gpt-4o-mini", previous_response_id=first.id, input="hi")
    with pytest.raises(openai.NotFoundError):
        client(stack, OTHER).responses.retrieve(first.id)


def test_background_then_retrieve(stack):
    oai = client(stack)
    r = oai.responses.create(model="gpt-4o-mini", input="Write a line", background=True)
    assert r.status == "queued"
    deadline = time.monotonic() + 20
    while r.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.1)
        r = oai.responses.retrieve(r.id)
    assert r.status == "completed" and r.output_text
    assert oai.responses.retrieve(r.id).output_text == r.output_text  # kept


def test_prefer_respond_async_queues_a_response_as_a_job(stack):
    """As on chat and messages: 202, the job and its Location; the job's result, once done, is the
    response in the Responses wire format, also stored under its own id; a replayed
    Idempotency-Key returns the first job."""
    oai = client(stack)
    headers = {"Prefer": "respond-async", "Idempotency-Key": "resp-async-1"}
    raw = oai.responses.with_raw_response.create(model="gpt-4o-mini", input="Write a line", extra_headers=headers)
    assert raw.status_code == 202
    job = json.loads(raw.http_response.text)
    assert job["object"] == "job" and job["kind"] == "responses" and raw.headers["location"] == f"/v1/jobs/{job['id']}"
    deadline = time.monotonic() + 20
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = oai.get(f"/jobs/{job['id']}", cast_to=object)
    assert job["status"] == "completed"
    out = job["result"]
    assert out["object"] == "response" and out["id"].startswith("resp_") and out["status"] == "completed"
    assert out["output"][0]["type"] == "message" and out["output"][0]["content"][0]["text"]
    stored = oai.responses.retrieve(out["id"])  # the conversation is kept: it can be continued
    assert stored.output_text == out["output"][0]["content"][0]["text"]
    assert oai.responses.create(model="gpt-4o-mini", previous_response_id=out["id"], input="And another").output_text
    again = oai.responses.with_raw_response.create(model="gpt-4o-mini", input="Write a line", extra_headers=headers)
    assert again.status_code == 202 and json.loads(again.http_response.text)["id"] == job["id"]
    assert again.headers["x-seawall-idempotent-replay"] == "true"
    with pytest.raises(openai.BadRequestError):  # a job's answer is kept whole
        oai.responses.create(model="gpt-4o-mini", input="hi", stream=True, extra_headers={"Prefer": "respond-async"})


def test_cancel_a_background_response(stack):
    oai = client(stack)
    r = oai.responses.create(model="slow", input="take your time", background=True)
    c = oai.responses.cancel(r.id)
    assert c.status == "cancelled"
    time.sleep(1.0)
    assert oai.responses.retrieve(r.id).status == "cancelled"


def test_bad_input_is_a_400(stack):
    with pytest.raises(openai.BadRequestError):
        client(stack).responses.create(model="gpt-4o-mini", input=[{"type": "mystery_item"}])
