"""Compact JSON Schemas of the OpenAI and Anthropic bodies, for /openapi.json.

They say what core/validate.py and wire/anthropic.py check; every other field passes through
to the upstream, so the objects stay open (additionalProperties).
"""
from __future__ import annotations

_CONTENT = {"oneOf": [{"type": "string"},
                      {"type": "array", "items": {"type": "object", "required": ["type"],
                                                  "properties": {"type": {"type": "string"}}}}]}

CHAT_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1, "description": "a model alias of this gateway"},
        "messages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"enum": ["system", "developer", "user", "assistant", "tool", "function"]},
                           "content": _CONTENT, "name": {"type": "string"}}}},
        "stream": {"type": "boolean"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
        "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "n": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "user": {"type": "string"},
        "response_format": {"type": "object", "required": ["type"], "properties": {
            "type": {"enum": ["text", "json_object", "json_schema"]}, "json_schema": {"type": "object"}}},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "tool_choice": {"oneOf": [{"enum": ["none", "auto", "required"]}, {"type": "object"}]},
        "tools": {"type": "array", "items": {
            "type": "object", "required": ["function"],
            "properties": {"type": {"type": "string"}, "function": {
                "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
    },
}

EMBEDDINGS_REQUEST = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {"oneOf": [
            {"type": "string"},
            {"type": "array", "minItems": 1, "items": {"oneOf": [
                {"type": "string"}, {"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]}},
        ]},
    },
}

MESSAGES_REQUEST = {
    "type": "object",
    "required": ["model", "messages", "max_tokens"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "max_tokens": {"type": "integer", "minimum": 1},
        "system": _CONTENT,
        "messages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"enum": ["user", "assistant"]}, "content": _CONTENT}}},
        "stream": {"type": "boolean"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "stop_sequences": {"type": "array", "items": {"type": "string"}},
        "tools": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}, "input_schema": {"type": "object"}}}},
        "tool_choice": {"type": "object", "required": ["type"], "properties": {
            "type": {"enum": ["auto", "any", "tool", "none"]}, "name": {"type": "string"},
            "disable_parallel_tool_use": {"type": "boolean"}}},
        "metadata": {"type": "object", "properties": {"user_id": {"type": "string"}}},
    },
}

CHAT_RESPONSE = {"type": "object", "required": ["object", "choices"], "properties": {
    "id": {"type": "string"}, "object": {"type": "string"}, "model": {"type": "string"},
    "choices": {"type": "array", "items": {"type": "object"}}, "usage": {"type": "object"}},
    "description": "a chat.completion; with stream: true, text/event-stream of chat.completion.chunk"}

EMBEDDINGS_RESPONSE = {"type": "object", "required": ["data"], "properties": {
    "object": {"type": "string"}, "model": {"type": "string"},
    "data": {"type": "array", "items": {"type": "object", "properties": {
        "embedding": {"type": "array", "items": {"type": "number"}}, "index": {"type": "integer"}}}},
    "usage": {"type": "object"}}}

MODELS_RESPONSE = {"type": "object", "required": ["object", "data"], "properties": {
    "object": {"const": "list"},
    "data": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"},
        "owned_by": {"type": "string"}}}}}}

MESSAGES_RESPONSE = {"type": "object", "properties": {
    "id": {"type": "string"}, "type": {"const": "message"}, "role": {"const": "assistant"},
    "content": {"type": "array", "items": {"type": "object"}}, "stop_reason": {"type": ["string", "null"]},
    "usage": {"type": "object"}},
    "description": "an Anthropic message; with stream: true, text/event-stream of Anthropic events"}

STATUS_RESPONSE = {"type": "object", "properties": {"status": {"type": "string"}}}

ANTHROPIC_ERROR = {"type": "object", "required": ["type", "error"], "properties": {
    "type": {"const": "error"},
    "error": {"type": "object", "required": ["type", "message"],
              "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}}}
