"""OpenAI upstreams called through the Responses API (`api: responses`): internal chat requests
translated both ways by wire/responses_outbound.py. Embeddings still go to /embeddings."""
from __future__ import annotations

from contextlib import aclosing
from typing import AsyncIterator

import orjson

from ..core.errors import GatewayError
from ..core.types import HEARTBEAT, Completion, Request, Stream
from ..wire import responses_outbound as wire
from .base import Deployment, UpstreamError, primed
from .classify import ErrorClass
from .openai import OpenAIProvider

# A failed response's error code -> how resilience treats it (anything else: a server error).
_FAILED = {"rate_limit_exceeded": ErrorClass.RATE_LIMITED, "invalid_prompt": ErrorClass.INVALID_REQUEST,
           "context_length_exceeded": ErrorClass.CONTEXT_LENGTH, "content_filter": ErrorClass.CONTENT_FILTER}


class ResponsesProvider(OpenAIProvider):
    async def chat(self, dep: Deployment, req: Request) -> Completion:
        payload = orjson.dumps(wire.chat_to_responses(req.body, dep.model, stream=False))
        resp = await self.post(dep, req, self.url(dep, "responses"), payload, self._headers)
        body, _ = await self.read_json(dep, req, resp)
        try:
            chat = wire.responses_to_chat(body)
        except wire.UpstreamFailed as e:
            raise self._failed(dep, e) from None
        except GatewayError as e:
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id}: {e.message}", deployment=dep.id) from None
        req.meta.usage = chat.get("usage")
        return Completion(req.meta, chat)

    async def stream(self, dep: Deployment, req: Request) -> Stream:
        payload = orjson.dumps(wire.chat_to_responses(req.body, dep.model, stream=True))
        resp = await self.post(dep, req, self.url(dep, "responses"), payload, self._headers)
        return await primed(self._events(dep, req, resp), req)

    async def _events(self, dep: Deployment, req: Request, resp) -> AsyncIterator[dict]:
        translate = wire.ResponsesStreamToChat(dep.model)
        wants_usage = bool((req.body.get("stream_options") or {}).get("include_usage"))
        async with aclosing(self.sse_json(dep, req, resp)) as events:  # closed on every path: the connection too
            async for item in events:
                if item is HEARTBEAT:
                    yield HEARTBEAT
                    continue
                event, data = item
                try:
                    chunks = translate.feed(event, data)
                except wire.UpstreamFailed as e:
                    raise self._failed(dep, e) from None
                except GatewayError as e:
                    raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id}: {e.message}",
                                        deployment=dep.id) from None
                for chunk in chunks:
                    yield chunk
                if translate.done:
                    break
        if not translate.done:
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} ended the stream before the response did",
                                deployment=dep.id)
        usage = translate.usage_chunk()
        if usage is not None:
            req.meta.usage = usage["usage"]
            if wants_usage:
                yield usage

    def _failed(self, dep: Deployment, e: "wire.UpstreamFailed") -> UpstreamError:
        cls = _FAILED.get(e.code or "", ErrorClass.SERVER_ERROR)
        msg = e.message if cls.show_upstream_message else f"upstream {dep.id} reported a failed response"
        return UpstreamError(cls, msg, deployment=dep.id)
