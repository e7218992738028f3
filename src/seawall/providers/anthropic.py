"""Anthropic Messages upstreams: internal (OpenAI-format) requests translated both ways."""
from __future__ import annotations

from contextlib import aclosing

from typing import AsyncIterator

import orjson

from ..core.types import HEARTBEAT, Completion, Request, Stream
from .classify import ErrorClass
from ..wire import anthropic as wire
from .base import Deployment, Provider, UpstreamError, primed

API_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    def __init__(self, cfg, heartbeat_s: float) -> None:
        super().__init__(cfg, heartbeat_s)
        self._headers = {"content-type": "application/json", "anthropic-version": API_VERSION,
                         **{k.lower(): v for k, v in cfg.headers.items()}}
        key = cfg.api_key.get() if cfg.api_key else None
        if key:
            self._headers["x-api-key"] = key
        base = cfg.base_url
        self._url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    async def chat(self, dep: Deployment, req: Request) -> Completion:
        payload = orjson.dumps(wire.chat_request_to_messages({**req.body, "stream": False}, dep.model))
        resp = await self.post(dep, req, self._url, payload, self._headers)
        body, _ = await self.read_json(dep, req, resp)
        if body.get("type") == "error":
            raise self.http_error(dep, resp.status, resp.headers, b"", body=body)
        chat = wire.messages_response_to_chat(body)
        req.meta.usage = chat.get("usage")
        return Completion(req.meta, chat)

    async def stream(self, dep: Deployment, req: Request) -> Stream:
        payload = orjson.dumps(wire.chat_request_to_messages({**req.body, "stream": True}, dep.model))
        resp = await self.post(dep, req, self._url, payload, self._headers)
        return await primed(self._chunks(dep, req, resp), req)

    async def _chunks(self, dep: Deployment, req: Request, resp) -> AsyncIterator[dict]:
        translate = wire.MessagesStreamToChat(dep.model)
        wants_usage = bool((req.body.get("stream_options") or {}).get("include_usage"))
        stopped = False
        async with aclosing(self.sse_json(dep, req, resp)) as events:  # closed on every path: the connection too
            async for item in events:
                if item is HEARTBEAT:
                    yield HEARTBEAT
                    continue
                event, payload = item
                name = event or (payload.get("type") if isinstance(payload, dict) else None)
                for chunk in translate.feed(name, payload):
                    yield chunk
                if name == "message_stop":
                    stopped = True
                    break
        if not stopped:
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} ended the stream without message_stop",
                                deployment=dep.id)
        usage = translate.usage_chunk()
        if usage is not None:
            req.meta.usage = usage.get("usage")
            if wants_usage:
                yield usage
