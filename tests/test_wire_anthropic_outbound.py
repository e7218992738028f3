"""Anthropic Messages, outbound (Seawall calling an Anthropic upstream): requests, answers, streams and errors, checked against both official SDKs' types."""
from __future__ import annotations

import json

import anthropic
import httpx2
import openai
import orjson
import pytest
from anthropic.types import Message
from anthropic_wire import completion, req
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from seawall.core.errors import GatewayError
from seawall.wire.anthropic import (
    MessagesStreamToChat,
    anthropic_error_body,
    anthropic_error_to_gateway,
    chat_request_to_messages,
    chat_response_to_messages,
    messages_request_to_chat,
    messages_response_to_chat,
)

# ============================================================================ outbound request


def test_outbound_basic_and_system_gathering():
    out = chat_request_to_messages({"model": "alias", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "developer", "content": [{"type": "text", "text": "no emojis"}]},
        {"role": "user", "content": "again"},
    ], "temperature": 1.7, "top_p": 0.5, "stop": "END", "user": "u1", "stream": True,
        "frequency_penalty": 1, "seed": 3, "stream_options": {"include_usage": True}}, "claude-real",
        sampling_params=True)
    assert out["model"] == "claude-real" and out["max_tokens"] == 4096
    assert out["system"] == "be brief\n\nno emojis"
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"},
                                                            {"type": "text", "text": "again"}]}]
    assert out["temperature"] == 1.0 and out["top_p"] == 0.5
    assert out["stop_sequences"] == ["END"] and out["metadata"] == {"user_id": "u1"} and out["stream"] is True
    for k in ("frequency_penalty", "seed", "stream_options", "user", "stop"):
        assert k not in out


def test_outbound_max_tokens_precedence():
    msgs = [{"role": "user", "content": "x"}]
    assert chat_request_to_messages({"messages": msgs}, "m", default_max_tokens=77)["max_tokens"] == 77
    assert chat_request_to_messages({"messages": msgs, "max_tokens": 9}, "m")["max_tokens"] == 9
    assert chat_request_to_messages({"messages": msgs, "max_tokens": 9, "max_completion_tokens": 11}, "m")["max_tokens"] == 11
    assert chat_request_to_messages({"messages": msgs, "stop": ["a", "b"]}, "m")["stop_sequences"] == ["a", "b"]


def test_outbound_n_greater_than_one_refused():
    with pytest.raises(GatewayError) as e:
        chat_request_to_messages({"messages": [{"role": "user", "content": "x"}], "n": 2}, "m")
    assert e.value.status == 400 and e.value.param == "n"


def test_outbound_tools_round_trip():
    chat = {"messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}},
            {"id": "c2", "type": "function", "function": {"name": "time", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "5C"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "noon"}]},
        {"role": "user", "content": "thanks"},
    ], "tools": [{"type": "function", "function": {"name": "weather", "description": "d",
                                                   "parameters": {"type": "object"}}},
                 {"type": "function", "function": {"name": "time"}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}}, "parallel_tool_calls": False}
    out = chat_request_to_messages(chat, "m")
    assert out["tools"] == [{"name": "weather", "description": "d", "input_schema": {"type": "object"}},
                            {"name": "time", "input_schema": {"type": "object", "properties": {}}}]
    assert out["tool_choice"] == {"type": "tool", "name": "weather", "disable_parallel_tool_use": True}
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert out["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "c2", "name": "time", "input": {}}]
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "5C"},
        {"type": "tool_result", "tool_use_id": "c2", "content": "noon"},
        {"type": "text", "text": "thanks"}]
    # and inbound turns it back into the same conversation shape
    back = messages_request_to_chat(out)
    assert [m["role"] for m in back["messages"]] == ["user", "assistant", "tool", "tool", "user"]
    assert back["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Oslo"}'
    assert back["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert back["parallel_tool_calls"] is False


@pytest.mark.parametrize("tc,expected", [
    ("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"})])
def test_outbound_tool_choice(tc, expected):
    out = chat_request_to_messages({"messages": [{"role": "user", "content": "x"}], "tool_choice": tc,
                                    "tools": [{"type": "function", "function": {"name": "f"}}]}, "m")
    assert out["tool_choice"] == expected


def test_outbound_parallel_false_without_tool_choice_and_tool_choice_without_tools():
    tools = [{"type": "function", "function": {"name": "f"}}]
    msgs = [{"role": "user", "content": "x"}]
    out = chat_request_to_messages({"messages": msgs, "tools": tools, "parallel_tool_calls": False}, "m")
    assert out["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    out = chat_request_to_messages({"messages": msgs, "tool_choice": "auto"}, "m")
    assert "tool_choice" not in out and "tools" not in out


def test_outbound_bad_tool_arguments_and_tools():
    with pytest.raises(GatewayError) as e:
        chat_request_to_messages({"messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}]}, "m")
    assert e.value.param == "messages[1].tool_calls[0].function.arguments"
    with pytest.raises(GatewayError) as e:
        chat_request_to_messages({"messages": [{"role": "user", "content": "x"}],
                                  "tools": [{"type": "code_interpreter"}]}, "m")
    assert e.value.param == "tools[0].type"


def test_outbound_images():
    out = chat_request_to_messages({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
    ]}]}, "m")
    assert out["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}]
    for bad, param in [({"type": "image_url", "image_url": {"url": "ftp://x"}}, "messages[0].content[0].image_url.url"),
                       ({"type": "image_url", "image_url": {"url": "data:image/png,raw"}}, "messages[0].content[0].image_url.url"),
                       ({"type": "input_audio", "input_audio": {}}, "messages[0].content[0].type")]:
        with pytest.raises(GatewayError) as e:
            chat_request_to_messages({"messages": [{"role": "user", "content": [bad]}]}, "m")
        assert e.value.param == param


def test_outbound_response_format_adds_json_instruction():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]
    out = chat_request_to_messages({"messages": msgs, "response_format": {"type": "json_object"}}, "m")
    assert out["system"].startswith("s\n\n") and "JSON" in out["system"]
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    out = chat_request_to_messages({"messages": msgs[1:], "response_format": {
        "type": "json_schema", "json_schema": {"name": "x", "schema": schema}}}, "m")
    assert json.dumps(schema, separators=(",", ":")) in out["system"]
    out = chat_request_to_messages({"messages": msgs[1:], "response_format": {"type": "text"}}, "m")
    assert "system" not in out


def test_outbound_alternation_empty_and_prefill():
    out = chat_request_to_messages({"messages": [
        {"role": "user", "content": "a"},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": "b"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
        {"role": "assistant", "content": "The answer is "},
    ]}, "m")
    assert [(m["role"], [b["text"] for b in m["content"]]) for m in out["messages"]] == [
        ("user", ["a"]), ("assistant", ["b", "c"]), ("user", ["d"]), ("assistant", ["The answer is"])]
    with pytest.raises(GatewayError):
        chat_request_to_messages({"messages": [{"role": "system", "content": "only system"}]}, "m")
    with pytest.raises(GatewayError) as e:
        chat_request_to_messages({"messages": [{"role": "function", "content": "x", "name": "f"}]}, "m")
    assert e.value.param == "messages[0].role"


# ============================================================================ outbound response


def anthropic_message(content, stop_reason="end_turn", usage=None):
    return {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-real",
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": usage or {"input_tokens": 20, "output_tokens": 4}}


def test_messages_response_to_chat_text():
    out = messages_response_to_chat(anthropic_message(
        [{"type": "thinking", "thinking": "t", "signature": "s"},
         {"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}],
        usage={"input_tokens": 20, "output_tokens": 4, "cache_read_input_tokens": 100,
               "cache_creation_input_tokens": 30}))
    cc = ChatCompletion.model_validate(out)
    assert cc.choices[0].message.content == "Hello world" and cc.choices[0].finish_reason == "stop"
    assert cc.usage.prompt_tokens == 150 and cc.usage.completion_tokens == 4 and cc.usage.total_tokens == 154
    assert cc.usage.prompt_tokens_details.cached_tokens == 100
    # and back to Anthropic usage semantics: input + cache_read == prompt tokens
    back = chat_response_to_messages(out, "claude-x")
    assert back["usage"]["input_tokens"] + back["usage"]["cache_read_input_tokens"] == 150


def test_messages_response_to_chat_tool_use():
    out = messages_response_to_chat(anthropic_message([
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}], "tool_use"))
    cc = ChatCompletion.model_validate(out)
    call = cc.choices[0].message.tool_calls[0]
    assert call.id == "toolu_1" and call.function.name == "weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    assert cc.choices[0].finish_reason == "tool_calls"
    # round trip back to Anthropic keeps the block
    again = Message.model_validate(chat_response_to_messages(out, "claude-real"))
    assert again.content[1].input == {"city": "Oslo"} and again.stop_reason == "tool_use"
    only_tool = messages_response_to_chat(anthropic_message(
        [{"type": "tool_use", "id": "t", "name": "f", "input": {}}], "tool_use"))
    assert only_tool["choices"][0]["message"]["content"] is None


@pytest.mark.parametrize("stop,finish", [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
    ("refusal", "content_filter"), ("pause_turn", "stop"), ("model_context_window_exceeded", "length")])
def test_finish_reason_mapping(stop, finish):
    out = messages_response_to_chat(anthropic_message([{"type": "text", "text": "x"}], stop))
    assert ChatCompletion.model_validate(out).choices[0].finish_reason == finish


# ============================================================================ outbound stream


def anthropic_stream_events():
    return [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-real", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 5}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Okay"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": ", checking."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_9", "name": "weather", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"city":'}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": ' "Oslo"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                           "usage": {"output_tokens": 42}}),
        ("message_stop", {"type": "message_stop"}),
    ]


def test_messages_stream_to_chat_chunks():
    t = MessagesStreamToChat("alias")
    chunks = []
    for name, data in anthropic_stream_events():
        chunks += t.feed(name, data)
    usage = t.usage_chunk()
    for c in chunks + [usage]:
        ChatCompletionChunk.model_validate(c)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["id"] == "msg_s" and c["model"] == "alias" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Okay, checking."
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert calls[0] == {"index": 0, "id": "toolu_9", "type": "function",
                        "function": {"name": "weather", "arguments": ""}}
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"city": "Oslo"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert [c["choices"][0]["finish_reason"] for c in chunks].count(None) == len(chunks) - 1
    assert usage["choices"] == [] and usage["usage"] == {
        "prompt_tokens": 30, "completion_tokens": 42, "total_tokens": 72, "prompt_tokens_details": {"cached_tokens": 5}}


def test_messages_stream_through_openai_sdk_accumulator():
    t = MessagesStreamToChat("alias")
    chunks = [c for n, d in anthropic_stream_events() for c in t.feed(n, d)] + [t.usage_chunk()]
    payload = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"

    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=payload)

    client = openai.OpenAI(api_key="k", base_url="http://test/v1", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    with client.chat.completions.stream(model="alias", messages=[{"role": "user", "content": "x"}]) as s:
        final = s.get_final_completion()
    msg = final.choices[0].message
    assert msg.content == "Okay, checking."
    assert msg.tool_calls[0].function.name == "weather"
    assert json.loads(msg.tool_calls[0].function.arguments) == {"city": "Oslo"}
    assert final.choices[0].finish_reason == "tool_calls" and final.usage.total_tokens == 72


def test_no_usage_chunk_without_usage():
    t = MessagesStreamToChat("m")
    assert t.feed("ping", {"type": "ping"}) == []
    assert t.usage_chunk() is None


@pytest.mark.parametrize("etype,code", [
    ("overloaded_error", "overloaded"), ("rate_limit_error", "rate_limited"),
    ("api_error", "upstream_error"), ("something_new", "upstream_error")])
def test_stream_error_event_raises(etype, code):
    t = MessagesStreamToChat("m")
    with pytest.raises(GatewayError) as e:
        t.feed("error", {"type": "error", "error": {"type": etype, "message": "busy"}})
    assert e.value.code == code and "busy" in e.value.message


# ============================================================================ outbound errors


@pytest.mark.parametrize("status,etype,code", [
    (400, "invalid_request_error", "invalid_request"),
    (401, "authentication_error", "upstream_error"),
    (403, "permission_error", "upstream_error"),
    (404, "not_found_error", "model_not_found"),
    (413, "request_too_large", "request_too_large"),
    (429, "rate_limit_error", "rate_limited"),
    (500, "api_error", "upstream_error"),
    (529, "overloaded_error", "overloaded"),
    (504, "timeout_error", "upstream_timeout"),
])
def test_anthropic_error_to_gateway(status, etype, code):
    err = anthropic_error_to_gateway(status, {"type": "error", "error": {"type": etype, "message": "m"}})
    assert err.code == code and "m" in err.message


def test_anthropic_error_to_gateway_edge_cases():
    err = anthropic_error_to_gateway(400, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}})
    assert err.code == "context_length_exceeded" and err.status == 400
    assert anthropic_error_to_gateway(529, None).code == "overloaded"
    assert anthropic_error_to_gateway(502, {"unexpected": True}).code == "upstream_error"
    err = anthropic_error_to_gateway(429, None, headers={"Retry-After": "7"})
    assert err.code == "rate_limited" and err.retry_after == 7.0
    # the body we render for our own clients is accepted by the SDK's error model
    from anthropic.types.shared import ErrorResponse
    ErrorResponse.model_validate(anthropic_error_body(GatewayError("overloaded", "later")))


def test_outbound_parameter_validation():
    msgs = [{"role": "user", "content": "x"}]
    for body, param in [({"temperature": "hot"}, "temperature"), ({"top_p": True}, "top_p"),
                        ({"stop": [1]}, "stop"), ({"stop": 3}, "stop")]:
        with pytest.raises(GatewayError) as e:
            chat_request_to_messages({"messages": msgs, **body}, "m")
        assert e.value.code == "invalid_request" and e.value.param == param
    assert chat_request_to_messages({"messages": msgs, "temperature": -1}, "m", sampling_params=True)["temperature"] == 0.0
    assert "stop_sequences" not in chat_request_to_messages({"messages": msgs, "stop": []}, "m")


def test_sdks_accept_translated_requests_as_keyword_arguments():
    """Every key we produce must be a real parameter of the target SDK's create() (unknown ones raise)."""
    seen = {}

    def anthropic_handler(request):
        seen["anthropic"] = json.loads(request.content)
        return httpx2.Response(200, json=anthropic_message([{"type": "text", "text": "ok"}]))

    def openai_handler(request):
        seen["openai"] = json.loads(request.content)
        return httpx2.Response(200, json=completion({"role": "assistant", "content": "ok"}))

    chat = {"model": "alias", "messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "r"}],
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required",
        "parallel_tool_calls": False, "user": "u", "stop": "x", "temperature": 0.2, "top_p": 0.9,
        "response_format": {"type": "json_object"}}
    out = chat_request_to_messages(chat, "claude-real")
    aclient = anthropic.Anthropic(api_key="k", base_url="http://test", max_retries=0,
                                  http_client=httpx2.Client(transport=httpx2.MockTransport(anthropic_handler)))
    msg = aclient.messages.create(**out)
    assert seen["anthropic"] == out and msg.content[0].text == "ok"

    inbound = messages_request_to_chat(out)
    oclient = openai.OpenAI(api_key="k", base_url="http://test/v1", max_retries=0,
                            http_client=httpx2.Client(transport=httpx2.MockTransport(openai_handler)))
    cc = oclient.chat.completions.create(**inbound)
    assert seen["openai"] == inbound and cc.choices[0].message.content == "ok"


def test_outbound_sampling_params_dropped_by_default():
    out = chat_request_to_messages({"messages": [{"role": "user", "content": "x"}],
                                    "temperature": 0.2, "top_p": 0.5}, "m")
    assert "temperature" not in out and "top_p" not in out


def test_structured_outputs_both_directions():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
              "additionalProperties": False}
    chat = {"messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}}
    out = chat_request_to_messages(chat, "m", structured_outputs=True)
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert "system" not in out
    # json_object has no native form: still the instruction
    out2 = chat_request_to_messages({**chat, "response_format": {"type": "json_object"}}, "m", structured_outputs=True)
    assert "output_config" not in out2 and "JSON" in out2["system"]
    back = messages_request_to_chat({**out, "output_config": {**out["output_config"], "effort": "low"}})
    assert back["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(output_config={"format": {"type": "regex"}}))
    assert e.value.param == "output_config.format"
