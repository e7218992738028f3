"""The official SDKs, unmodified, as clients of a real Seawall process in front of real
simulator processes."""
import json

import anthropic
import openai
import pytest

from procs import start_gateway, start_simulator

APP_KEY = "sk-test-app-7f3a"


@pytest.fixture(scope="module")
def stack():
    healthy = start_simulator(seed=3)
    failing = start_simulator("--error-rate", "1", "--error-status", "503", seed=4)
    limited = start_simulator("--error-rate", "1", "--error-status", "429", "--retry-after-s", "0", seed=5)
    config = {
        "server": {"api_keys": ["${TEST_APP_KEY}"]},
        "providers": [
            {"name": "sim", "kind": "openai", "base_url": healthy.url + "/v1", "api_key": "${SIM_KEY}"},
            {"name": "sim-anthropic", "kind": "anthropic", "base_url": healthy.url, "api_key": "${SIM_KEY}"},
            {"name": "sim-down", "kind": "openai", "base_url": failing.url + "/v1"},
            {"name": "sim-limited", "kind": "openai", "base_url": limited.url + "/v1"},
        ],
        "models": [
            {"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
            {"name": "claude-haiku", "targets": [{"provider": "sim-anthropic", "model": "claude-3-5-haiku"}]},
            {"name": "text-embedding-3-small", "kind": "embeddings",
             "targets": [{"provider": "sim", "model": "text-embedding-3-small"}]},
            {"name": "down", "targets": [{"provider": "sim-down", "model": "m"}]},
            {"name": "limited", "targets": [{"provider": "sim-limited", "model": "m"}]},
        ],
    }
    gw = start_gateway(config, env={"TEST_APP_KEY": APP_KEY, "SIM_KEY": "sk-sim-upstream-secret"})
    yield gw
    for p in (gw, healthy, failing, limited):
        p.stop()


@pytest.fixture
def oai(stack):
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=APP_KEY, max_retries=0, timeout=20)


@pytest.fixture
def claude(stack):
    return anthropic.Anthropic(base_url=stack.url, api_key=APP_KEY, max_retries=0, timeout=20)


def test_chat_non_streaming(oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
    r = raw.parse()
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens > 0
    assert raw.headers["x-seawall-deployment"] == "sim/gpt-4o-mini"
    assert raw.headers["x-seawall-attempts"] == "1"
    assert float(raw.headers["x-seawall-latency-ms"]) > 0
    assert raw.headers["x-seawall-request-id"] == raw.headers["x-request-id"]


def test_chat_streaming(oai):
    stream = oai.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                         messages=[{"role": "user", "content": "Tell me something"}])
    text, finish, usage = "", None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert len(text.split()) > 3
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0


def test_stream_without_usage_request_gets_no_usage_chunk(oai):
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", stream=True,
                                              messages=[{"role": "user", "content": "hi"}]))
    # Seawall asks the upstream for usage on its own account; a client that did not ask
    # must not receive the extra usage-only chunk.
    assert all(c.choices for c in chunks)


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def test_tools_non_streaming(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", tools=TOOLS,
                                    messages=[{"role": "user", "content": "call get_weather for Paris"}])
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)


def test_tools_streaming(oai):
    stream = oai.chat.completions.create(model="gpt-4o-mini", tools=TOOLS, stream=True,
                                         messages=[{"role": "user", "content": "use get_weather"}])
    name, args, finish = "", "", None
    for chunk in stream:
        for c in chunk.choices:
            for tc in c.delta.tool_calls or []:
                name += tc.function.name or ""
                args += tc.function.arguments or ""
            finish = c.finish_reason or finish
    assert name == "get_weather"
    assert "city" in json.loads(args)
    assert finish == "tool_calls"


def test_embeddings(oai):
    r = oai.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta", "alpha"])
    assert len(r.data) == 3
    assert r.data[0].embedding == r.data[2].embedding
    assert r.data[0].embedding != r.data[1].embedding


def test_models_list(oai):
    ids = {m.id for m in oai.models.list()}
    assert {"gpt-4o-mini", "claude-haiku", "text-embedding-3-small"} <= ids


def test_anthropic_messages_through_openai_upstream(claude):
    msg = claude.messages.create(model="gpt-4o-mini", max_tokens=64,
                                 messages=[{"role": "user", "content": "Hello there"}])
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.usage.output_tokens > 0
    assert msg.stop_reason in ("end_turn", "max_tokens")


def test_anthropic_messages_streaming(claude):
    with claude.messages.stream(model="gpt-4o-mini", max_tokens=64,
                                messages=[{"role": "user", "content": "Stream please"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text and final.content[0].text == text
    assert final.stop_reason in ("end_turn", "max_tokens")


def test_anthropic_tools_via_anthropic_upstream(claude):
    """Both translations at once: Anthropic client -> internal -> Anthropic upstream and back."""
    msg = claude.messages.create(
        model="claude-haiku", max_tokens=128,
        tools=[{"name": "lookup_order", "description": "Find an order",
                "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                 "required": ["order_id"]}}],
        messages=[{"role": "user", "content": "please lookup_order 42"}])
    tool = next(b for b in msg.content if b.type == "tool_use")
    assert tool.name == "lookup_order" and "order_id" in tool.input
    assert msg.stop_reason == "tool_use"


def test_openai_client_to_anthropic_upstream_streaming(oai):
    stream = oai.chat.completions.create(model="claude-haiku", stream=True,
                                         messages=[{"role": "system", "content": "Be brief"},
                                                   {"role": "user", "content": "Hi"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text


def test_error_400_names_the_field(oai):
    with pytest.raises(openai.BadRequestError) as e:
        oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                    temperature=7)
    assert e.value.code == "invalid_request"
    assert e.value.param == "temperature"


def test_error_401_without_key(stack):
    client = openai.OpenAI(base_url=stack.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert e.value.code == "invalid_api_key"
    assert "sk-wrong" not in str(e.value)


def test_error_404_unknown_model(oai, claude):
    with pytest.raises(openai.NotFoundError) as e:
        oai.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert e.value.code == "model_not_found"
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_error_429_from_upstream(oai):
    with pytest.raises(openai.RateLimitError) as e:
        oai.chat.completions.create(model="limited", messages=[{"role": "user", "content": "x"}])
    assert e.value.code == "rate_limited"
    assert e.value.response.headers.get("retry-after")


def test_error_5xx_from_upstream(oai, claude):
    with pytest.raises(openai.InternalServerError) as e:
        oai.chat.completions.create(model="down", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 503
    assert e.value.code == "upstream_unavailable"
    with pytest.raises(anthropic.InternalServerError):
        claude.messages.create(model="down", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_upstream_key_never_reaches_client_or_logs(stack, oai):
    with pytest.raises(openai.InternalServerError) as e:
        oai.chat.completions.create(model="down", messages=[{"role": "user", "content": "x"}])
    assert "sk-sim-upstream-secret" not in e.value.response.text
    assert "sk-sim-upstream-secret" not in stack.output()
    assert APP_KEY not in stack.output()
