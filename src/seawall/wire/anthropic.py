"""Anthropic Messages wire format, both directions.

* Inbound (`anthropic_inbound`, streams: `anthropic_stream`): Anthropic clients calling
  Seawall's `POST /v1/messages`.
* Outbound (`anthropic_outbound`): Seawall calling an Anthropic upstream.

Both translate to and from Seawall's internal format, the OpenAI Chat Completions shape.
"""
from seawall.wire.anthropic_inbound import anthropic_error_body, chat_response_to_messages, messages_request_to_chat
from seawall.wire.anthropic_stream import ChatStreamToMessages, sse_event
from seawall.wire.anthropic_outbound import (
    MessagesStreamToChat,
    anthropic_error_to_gateway,
    chat_request_to_messages,
    messages_response_to_chat,
)

__all__ = [
    "messages_request_to_chat",
    "chat_response_to_messages",
    "ChatStreamToMessages",
    "sse_event",
    "anthropic_error_body",
    "chat_request_to_messages",
    "messages_response_to_chat",
    "MessagesStreamToChat",
    "anthropic_error_to_gateway",
]
