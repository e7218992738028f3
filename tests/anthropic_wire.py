"""Helpers shared by the Anthropic wire tests (inbound and outbound): request and chunk
builders, the stream event-order check, and the SDKs' own accumulation of a stream."""
from __future__ import annotations

import anthropic
import httpx2
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from seawall.wire.anthropic import (
    ChatStreamToMessages,
    sse_event,
)

EVENT = TypeAdapter(RawMessageStreamEvent)


def req(**kw):
    body = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    body.update(kw)
    return body


def completion(message, finish_reason="stop", usage=None, **choice_extra):
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-x",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None, **choice_extra}],
        "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def chunk(delta=None, finish_reason=None, usage=None, choices=True):
    c = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-x",
         "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}] if choices else []}
    if usage is not None:
        c["usage"] = usage
    return c


def check_event_order(events):
    """Anthropic's documented flow: message_start, per block start/delta*/stop, message_delta, message_stop."""
    names = [n for n, _ in events]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("message_start") == names.count("message_delta") == names.count("message_stop") == 1
    open_index, next_index = None, 0
    for name, data in events[1:-2]:
        assert data["type"] == name
        if name == "content_block_start":
            assert open_index is None, "a block started while another was open"
            assert data["index"] == next_index
            open_index, next_index = data["index"], next_index + 1
        elif name == "content_block_delta":
            assert data["index"] == open_index
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        else:
            pytest.fail(f"unexpected event {name} inside the message")
    assert open_index is None
    for name, data in events:
        EVENT.validate_python(data)


def run_stream(chunks, model="claude-x"):
    t = ChatStreamToMessages(model)
    events = []
    for c in chunks:
        events += t.feed(c)
    events += t.finish()
    return events


def sdk_final_message(events) -> Message:
    """Feed our SSE bytes through the anthropic SDK's own stream decoding and accumulation."""
    payload = b"".join(sse_event(n, d) for n, d in events)

    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=payload)

    client = anthropic.Anthropic(api_key="k", base_url="http://test", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    with client.messages.stream(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        return s.get_final_message()
