"""Anthropic Messages, inbound (clients calling Seawall's /v1/messages): requests, answers, streams and errors, checked against both official SDKs' types."""
from __future__ import annotations

import json

import pytest
from anthropic.types import Message
from anthropic_wire import check_event_order, chunk, completion, req, run_stream, sdk_final_message

from seawall.core.errors import GatewayError
from seawall.wire.anthropic import (
    ChatStreamToMessages,
    anthropic_error_body,
    chat_response_to_messages,
    messages_request_to_chat,
    sse_event,
)

# ============================================================================ inbound request


def test_minimal_request():
    chat = messages_request_to_chat(req())
    assert chat == {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("body,param", [
    ({"max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "m", "max_tokens": True, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "m", "max_tokens": 5, "messages": []}, "messages"),
    ({"model": "m", "max_tokens": 5}, "messages"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
])
def test_request_validation(body, param):
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(body)
    assert e.value.code == "invalid_request" and e.value.status == 400
    assert e.value.param == param


def test_unknown_block_type_names_the_field():
    body = req(messages=[
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": [{"type": "text", "text": "c"}, {"type": "document", "source": {}}]},
    ])
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(body)
    assert e.value.param == "messages[2].content[1].type"
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(system=[{"type": "image", "source": {}}]))
    assert e.value.param == "system[0].type"


def test_system_string_and_blocks():
    assert messages_request_to_chat(req(system="be brief"))["messages"][0] == {"role": "system", "content": "be brief"}
    chat = messages_request_to_chat(req(system=[
        {"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "two"}]))
    assert chat["messages"][0] == {"role": "system", "content": "one\n\ntwo"}
    assert chat["messages"][1]["role"] == "user"


def test_parameters_mapping():
    chat = messages_request_to_chat(req(
        temperature=0.3, top_p=0.9, top_k=40, stop_sequences=["END", "STOP"], stream=True,
        metadata={"user_id": "u-7"}, thinking={"type": "enabled", "budget_tokens": 1000}))
    assert chat["temperature"] == 0.3 and chat["top_p"] == 0.9
    assert chat["stop"] == ["END", "STOP"]
    assert chat["stream"] is True and chat["stream_options"] == {"include_usage": True}
    assert chat["user"] == "u-7"
    assert "top_k" not in chat and "thinking" not in chat and "metadata" not in chat
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(stop_sequences="END"))
    assert e.value.param == "stop_sequences"
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(temperature="hot"))
    assert e.value.param == "temperature"


def test_images_base64_and_url():
    chat = messages_request_to_chat(req(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
    ]}]))
    assert chat["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}},
    ]
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "file", "file_id": "f"}}]}]))
    assert e.value.param == "messages[0].content[0].source.type"


def test_tools_and_tool_turns():
    body = req(
        tools=[{"name": "weather", "description": "get weather",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": "weather in Oslo and Rome?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "5C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                 "content": [{"type": "text", "text": "service down"}]},
                {"type": "text", "text": "and tomorrow?"},
            ]},
        ])
    chat = messages_request_to_chat(body)
    assert chat["tools"] == [{"type": "function", "function": {
        "name": "weather", "description": "get weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    assert chat["tool_choice"] == "required" and chat["parallel_tool_calls"] is False
    m = chat["messages"]
    assert [x["role"] for x in m] == ["user", "assistant", "tool", "tool", "user"]
    assert m[1]["content"] == "Checking."
    assert m[1]["tool_calls"][0] == {"id": "toolu_1", "type": "function",
                                     "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}
    assert json.loads(m[1]["tool_calls"][1]["function"]["arguments"]) == {"city": "Rome"}
    assert m[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "5C"}
    assert m[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: service down"}
    assert m[4] == {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}]}


def test_assistant_only_tool_calls_has_null_content_and_tool_result_images_follow():
    chat = messages_request_to_chat(req(messages=[
        {"role": "user", "content": "shot"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "screen", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
            {"type": "text", "text": "here"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAA"}}]}]},
    ]))
    m = chat["messages"]
    assert m[1]["content"] is None and m[1]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert m[2] == {"role": "tool", "tool_call_id": "t1", "content": "here"}
    assert m[3] == {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAA"}}]}


@pytest.mark.parametrize("tc,expected", [
    ({"type": "auto"}, "auto"),
    ({"type": "any"}, "required"),
    ({"type": "none"}, "none"),
    ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
])
def test_tool_choice(tc, expected):
    chat = messages_request_to_chat(req(tool_choice=tc))
    assert chat["tool_choice"] == expected
    assert "parallel_tool_calls" not in chat


def test_bad_tools():
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(tools=[{"name": "a", "input_schema": {}},
                                            {"type": "web_search_20250305", "name": "web_search"}]))
    assert e.value.param == "tools[1].type"
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(tools=[{"name": "a"}]))
    assert e.value.param == "tools[0].input_schema"
    with pytest.raises(GatewayError) as e:
        messages_request_to_chat(req(tool_choice={"type": "tool"}))
    assert e.value.param == "tool_choice.name"


# ============================================================================ inbound response


def test_text_response_validates_as_sdk_message():
    out = chat_response_to_messages(completion({"role": "assistant", "content": "Hello!"}), "claude-x")
    msg = Message.model_validate(out)
    assert msg.id.startswith("msg_") and msg.model == "claude-x" and msg.role == "assistant"
    assert msg.content[0].type == "text" and msg.content[0].text == "Hello!"
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.input_tokens == 10 and msg.usage.output_tokens == 5


def test_tool_call_response():
    out = chat_response_to_messages(completion({"role": "assistant", "content": "Let me look.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": ""}},
        {"id": "call_3", "type": "function", "function": {"name": "bad", "arguments": '{"city": "Os'}},
    ]}, "tool_calls"), "claude-x")
    msg = Message.model_validate(out)
    assert [b.type for b in msg.content] == ["text", "tool_use", "tool_use", "tool_use"]
    assert msg.content[1].id == "call_1" and msg.content[1].input == {"city": "Oslo"}
    assert msg.content[2].input == {}
    assert msg.content[3].input == {"_raw_arguments": '{"city": "Os'}
    assert msg.stop_reason == "tool_use"


def test_tool_calls_with_stop_finish_reason_still_tool_use():
    out = chat_response_to_messages(completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "stop"), "m")
    assert out["stop_reason"] == "tool_use" and out["content"][0]["type"] == "tool_use"


@pytest.mark.parametrize("finish,stop_reason", [
    ("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal"),
    ("function_call", "tool_use"), (None, "end_turn")])
def test_stop_reason_mapping(finish, stop_reason):
    out = chat_response_to_messages(completion({"role": "assistant", "content": "x"}, finish), "m")
    assert out["stop_reason"] == stop_reason
    Message.model_validate(out)


def test_matched_stop_sequence_when_upstream_names_it():
    out = chat_response_to_messages(completion({"role": "assistant", "content": "x"}, "stop", stop_reason="END"), "m")
    assert out["stop_reason"] == "stop_sequence" and out["stop_sequence"] == "END"


def test_refusal_and_cached_usage():
    out = chat_response_to_messages(completion(
        {"role": "assistant", "content": None, "refusal": "I can't help with that."}, "stop",
        usage={"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107,
               "prompt_tokens_details": {"cached_tokens": 60}}), "m")
    msg = Message.model_validate(out)
    assert msg.content[0].text == "I can't help with that." and msg.stop_reason == "refusal"
    assert (msg.usage.input_tokens, msg.usage.cache_read_input_tokens, msg.usage.output_tokens) == (40, 60, 7)


def test_response_without_choices_is_upstream_error():
    with pytest.raises(GatewayError) as e:
        chat_response_to_messages({"id": "x", "choices": []}, "m")
    assert e.value.code == "upstream_error"


# ============================================================================ inbound stream


def test_sse_event_format():
    raw = sse_event("ping", {"type": "ping"})
    assert raw == b'event: ping\ndata: {"type":"ping"}\n\n'


def test_text_stream_event_order_and_sdk_accumulation():
    events = run_stream([
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, "stop"),
        chunk(usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}, choices=False),
    ])
    check_event_order(events)
    assert [n for n, _ in events] == ["message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert events[-2][1]["usage"]["output_tokens"] == 3 and events[-2][1]["usage"]["input_tokens"] == 12
    final = sdk_final_message(events)
    assert final.content[0].text == "Hello" and final.stop_reason == "end_turn"
    assert final.usage.input_tokens == 12 and final.usage.output_tokens == 3
    assert final.model == "claude-x"


def test_text_then_fragmented_tool_calls_stream():
    events = run_stream([
        chunk({"role": "assistant", "content": "Let me check"}),
        chunk({"content": "."}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                               "function": {"name": "weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                               "function": {"name": "time", "arguments": '{"tz":'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ' "CET"}'}}]}),
        chunk({}, "tool_calls"),
    ])
    check_event_order(events)
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use", "tool_use"]
    assert starts[1]["id"] == "call_a" and starts[1]["name"] == "weather" and starts[1]["input"] == {}
    frags = [d["delta"]["partial_json"] for n, d in events
             if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta" and d["index"] == 1]
    assert frags == ['{"ci', 'ty": "Oslo"}']
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    final = sdk_final_message(events)
    assert final.content[0].text == "Let me check."
    assert final.content[1].input == {"city": "Oslo"} and final.content[2].input == {"tz": "CET"}
    assert final.stop_reason == "tool_use"


def test_text_after_tool_call_opens_new_block():
    events = run_stream([
        chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}),
        chunk({"content": "done"}),
        chunk({}, "stop"),
    ])
    check_event_order(events)
    starts = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert starts == ["tool_use", "text"]


def test_empty_stream_and_finish_idempotent():
    t = ChatStreamToMessages("m")
    events = t.finish()
    check_event_order(events)
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert t.finish() == [] and t.feed(chunk({"content": "late"})) == []


def test_length_stream_without_usage():
    events = run_stream([chunk({"content": "a"}), chunk({}, "length")])
    check_event_order(events)
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2][1]["usage"] == {"output_tokens": 0}
    assert events[0][1]["message"]["usage"]["output_tokens"] == 0


# ============================================================================ errors (inbound)


@pytest.mark.parametrize("code,etype", [
    ("invalid_request", "invalid_request_error"), ("context_length_exceeded", "invalid_request_error"),
    ("invalid_api_key", "authentication_error"), ("permission_denied", "permission_error"),
    ("model_not_found", "not_found_error"), ("request_too_large", "request_too_large"),
    ("rate_limited", "rate_limit_error"), ("budget_exceeded", "rate_limit_error"),
    ("overloaded", "overloaded_error"), ("upstream_unavailable", "overloaded_error"),
    ("internal_error", "api_error"), ("upstream_timeout", "api_error"),
])
def test_anthropic_error_body(code, etype):
    body = anthropic_error_body(GatewayError(code, "nope"))
    assert body == {"type": "error", "error": {"type": etype, "message": "nope"}}


def test_anthropic_error_body_unknown_code_uses_status():
    assert anthropic_error_body(GatewayError("weird", "x", status=429))["error"]["type"] == "rate_limit_error"
    assert anthropic_error_body(GatewayError("weird", "x", status=418))["error"]["type"] == "invalid_request_error"
    assert anthropic_error_body(GatewayError("weird", "x"))["error"]["type"] == "api_error"
