"""OpenAI-compatible upstreams: OpenAI, Azure OpenAI, vLLM, TGI, Ollama, llama.cpp.

They all speak Chat Completions; what differs is small and lives in a `Dialect`: how the
URL is built, which header carries the key, and which request fields the server rejects.
When nothing has to change, the client's bytes go upstream untouched.
"""
from __future__ import annotations

from contextlib import aclosing

from dataclasses import dataclass
from typing import AsyncIterator

import orjson

from ..core.types import HEARTBEAT, Completion, Request, Stream
from .base import Deployment, Provider, UpstreamError, primed
from .classify import ErrorClass


@dataclass(frozen=True, slots=True)
class Dialect:
    auth_header: str = "authorization"  # "authorization" sends "Bearer KEY"; others send the key as is
    azure_urls: bool = False
    max_tokens_field: str | None = None  # rename max_completion_tokens -> max_tokens for older servers
    drop: tuple[str, ...] = ()  # request fields the server rejects
    usage_in_stream: bool = True  # server honours stream_options.include_usage


DIALECTS = {
    "openai": Dialect(),
    "azure": Dialect(auth_header="api-key", azure_urls=True),
    "vllm": Dialect(max_tokens_field="max_tokens"),
    "tgi": Dialect(max_tokens_field="max_tokens", drop=("parallel_tool_calls", "stream_options", "store", "metadata"),
                   usage_in_stream=False),
    "ollama": Dialect(max_tokens_field="max_tokens", drop=("parallel_tool_calls", "store", "metadata")),
    "llamacpp": Dialect(max_tokens_field="max_tokens", drop=("store", "metadata")),
}


class OpenAIProvider(Provider):
    def __init__(self, cfg, heartbeat_s: float) -> None:
        super().__init__(cfg, heartbeat_s)
        self.dialect = DIALECTS[cfg.kind]
        self._urls: dict[tuple[str, str], str] = {}
        self._headers = {"content-type": "application/json", **{k.lower(): v for k, v in cfg.headers.items()}}
        key = cfg.api_key.get() if cfg.api_key else None
        if key:
            a = self.dialect.auth_header
            self._headers[a] = f"Bearer {key}" if a == "authorization" else key

    def url(self, dep: Deployment, path: str) -> str:
        """Built once per deployment and path."""
        key = (dep.model, path)
        url = self._urls.get(key)
        if url is None:
            base = self.cfg.base_url
            if self.dialect.azure_urls:
                url = f"{base}/openai/deployments/{dep.model}/{path}?api-version={self.cfg.api_version}"
            else:
                url = f"{base}/{path}"
            self._urls[key] = url
        return url

    def _payload(self, dep: Deployment, req: Request, *, want_usage: bool = False) -> bytes:
        body = req.body
        raw = getattr(req, "raw", None)
        d = self.dialect
        changes = body.get("model") != dep.model or want_usage or any(k in body for k in d.drop) or (
            d.max_tokens_field and "max_completion_tokens" in body)
        if not changes and raw is not None:
            return raw
        out = dict(body)
        out["model"] = dep.model
        for k in d.drop:
            out.pop(k, None)
        if d.max_tokens_field and "max_completion_tokens" in out:
            out.setdefault(d.max_tokens_field, out.pop("max_completion_tokens"))
        if want_usage:
            out["stream_options"] = {**(out.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(out)

    async def chat(self, dep: Deployment, req: Request) -> Completion:
        return await self._complete(dep, req, "chat/completions", "choices")

    async def embed(self, dep: Deployment, req: Request) -> Completion:
        return await self._complete(dep, req, "embeddings", "data")

    async def _complete(self, dep: Deployment, req: Request, path: str, required: str) -> Completion:
        """One non-streaming call; an answer without its `required` list is malformed."""
        resp = await self.post(dep, req, self.url(dep, path), self._payload(dep, req), self._headers)
        body, raw = await self.read_json(dep, req, resp)
        if not isinstance(body.get(required), list):
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} answered without {required}",
                                deployment=dep.id, upstream_status=resp.status)
        req.meta.usage = body.get("usage")
        return Completion(req.meta, body, raw)

    async def stream(self, dep: Deployment, req: Request) -> Stream:
        # Ask for usage so accounting works even when the client did not; drop it again
        # for a client that did not ask.
        client_wants_usage = bool((req.body.get("stream_options") or {}).get("include_usage"))
        want_usage = self.dialect.usage_in_stream and not client_wants_usage
        resp = await self.post(dep, req, self.url(dep, "chat/completions"),
                               self._payload(dep, req, want_usage=want_usage), self._headers)
        return await primed(self._chunks(dep, req, resp, client_wants_usage), req)

    async def _chunks(self, dep: Deployment, req: Request, resp, client_wants_usage: bool) -> AsyncIterator[dict]:
        done = False
        async with aclosing(self.sse(dep, req, resp)) as events:  # closed on every path: the connection too
            async for item in events:
                if item is HEARTBEAT:
                    yield HEARTBEAT
                    continue
                _, data = item
                if data == b"[DONE]":
                    done = True
                    break
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} sent a stream event that is not JSON",
                                        deployment=dep.id) from None
                if not isinstance(chunk, dict) or "error" in chunk:
                    raise self.http_error(dep, 200, None, b"", body=chunk)
                usage = chunk.get("usage")
                if usage:
                    req.meta.usage = usage
                    if not client_wants_usage:
                        if not chunk.get("choices"):
                            continue  # the usage-only chunk we asked for on our own account
                        chunk = {k: v for k, v in chunk.items() if k != "usage"}
                yield chunk
        if not done:
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} ended the stream without [DONE]",
                                deployment=dep.id)
