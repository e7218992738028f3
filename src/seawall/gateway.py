"""The library face: `Gateway` runs the same pipeline the HTTP server runs, in process.

    gw = Gateway.from_config("seawall.yaml")
    result = await gw.chat(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    print(result.text, result.meta.deployment, result.meta.attempts)
    async with gw.stream(model=..., messages=...) as s:
        async for chunk in s: ...
    await gw.aclose()
"""
from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass
from typing import Any, AsyncIterator

from . import config as config_mod
from .actions.service import ActionsService
from .assembly import Assembly, assemble
from .cache.stage import CacheService
from .config import Config
from .core import validate
from .core.errors import GatewayError
from .core.stage import Handler
from .core.types import HEARTBEAT, Completion, Meta, Principal, Request, Stream
from .core.credentials import check_key, presented_key
from .govern.keys import LIBRARY
from .govern.service import Governance
from .guard.stage import GuardService
from .observe.logging import request_id as request_id_var
from .observe.metrics import Metrics
from .providers.routing import Router
from .jobs.service import JobsService
from .resilience.engine import Resilience
from .sandbox.service import SandboxService


_ID_PREFIX = os.urandom(6).hex()  # per process: ids stay unique across workers and restarts
_id_counter = itertools.count(1)


def _new_id_prefix() -> None:
    global _ID_PREFIX, _id_counter
    _ID_PREFIX, _id_counter = os.urandom(6).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_new_id_prefix)


def new_request_id() -> str:
    """Unique, cheap (a counter, not a uuid4 per request); ids need not be unguessable."""
    return f"{_ID_PREFIX}{next(_id_counter):010x}"


@dataclass(slots=True)
class ChatResult:
    """A complete answer in OpenAI's chat.completion shape, with what happened."""

    data: dict
    meta: Meta

    @property
    def text(self) -> str | None:
        choices = self.data.get("choices") or [{}]
        return (choices[0].get("message") or {}).get("content")

    @property
    def usage(self) -> dict | None:
        return self.data.get("usage")


@dataclass(slots=True)
class EmbeddingResult:
    data: dict
    meta: Meta

    @property
    def vectors(self) -> list[list[float]]:
        return [item["embedding"] for item in self.data["data"]]


class StreamResult:
    """Chat completion chunks as they arrive; `meta` says who answered."""

    def __init__(self, gw: "Gateway", req: Request) -> None:
        self._gw, self._req = gw, req
        self._stream: Stream | None = None
        self.meta = req.meta

    async def __aenter__(self) -> "StreamResult":
        self._stream = await self._gw._run(self._req)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._stream is not None:
            await self._stream.aclose()

    def __aiter__(self) -> AsyncIterator[dict]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[dict]:
        if self._stream is None:
            await self.__aenter__()
        try:
            async for chunk in self._stream:
                if chunk is not HEARTBEAT:
                    yield chunk
        finally:
            await self._stream.aclose()


class Gateway:
    """The gateway: what the assembly built, started and closed in its order. The per-config
    parts (config, router, resilience, handle) are the running pipeline's, which a reload
    replaces (`reconfigure`); the services and the stores stay."""

    metrics: Metrics
    governance: Governance
    guard: GuardService
    cache: CacheService
    actions: ActionsService
    sandbox: SandboxService
    jobs: JobsService

    def __init__(self, config: Config) -> None:
        parts: Assembly = assemble(config)
        self.assembly = parts
        self.metrics = parts.metrics
        self.governance, self.guard, self.cache, self.sandbox = parts.governance, parts.guard, parts.cache, parts.sandbox
        self.actions, self.jobs = parts.actions, parts.jobs
        self._static_keys = [k.get() for k in config.server.api_keys if k.get()]
        self._started = False
        self._start_lock: asyncio.Lock | None = None

    config: Config = property(lambda self: self.assembly.pipeline.config)  # type: ignore[assignment]
    router: Router = property(lambda self: self.assembly.pipeline.router)  # type: ignore[assignment]
    resilience: Resilience = property(lambda self: self.assembly.pipeline.resilience)  # type: ignore[assignment]
    handle: Handler = property(lambda self: self.assembly.pipeline.handle)  # type: ignore[assignment]

    async def reconfigure(self, config: Config, before_swap=None) -> None:
        """Run on `config` from now on: new requests take its aliases, providers and policies;
        requests in flight finish on the pipeline they entered (Assembly.reconfigure)."""
        if not self._started:
            await self.start()
        await self.assembly.reconfigure(config, before_swap)
        self._static_keys = [k.get() for k in config.server.api_keys if k.get()]
        self.governance.static_keys = list(self._static_keys)  # it checks them when it is on

    async def start(self) -> None:
        """Open the stores and start every service (key directory, audit writer, guard models,
        embedder, health checks). The server calls it before it listens; library calls start
        it on first use."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:  # concurrent first calls start it once
            if not self._started:
                await self.assembly.start()
                self._started = True

    def authenticate(self, headers) -> Principal | None:
        """Who presents these headers (the HTTP edge, once per request); raises 401. The
        identify stage then only checks the alias permission."""
        if self.governance.enabled:
            return self.governance.identify(headers, None)
        if self._static_keys and not check_key(presented_key(headers), self._static_keys):
            raise GatewayError("invalid_api_key", "missing or invalid API key")
        return None

    @classmethod
    def from_config(cls, source: "str | os.PathLike | dict | Config") -> "Gateway":
        if isinstance(source, Config):
            return cls(source)
        if isinstance(source, dict):
            return cls(config_mod.parse(source))
        return cls(config_mod.load(source))

    def request(self, kind: str, body: dict, *, raw: bytes | None = None, request_id: str | None = None,
                headers: Any = None, cache: str | None = None, principal: Principal | None = None) -> Request:
        """Validate a body and wrap it for the pipeline (the HTTP server uses this too, with the
        principal it authenticated)."""
        check = validate.embeddings_body if kind == "embeddings" else validate.chat_body
        alias = check(body, self.config.server.max_json_depth)
        if principal is None and headers is None:
            principal = LIBRARY  # an in-process caller
        return Request(kind=kind, alias=alias, body=body, stream=bool(body.get("stream")) and kind == "chat",
                       meta=Meta(request_id or new_request_id()), raw=raw, headers=headers, cache=cache,
                       principal=principal)

    async def _run(self, req: Request):
        if not self._started:
            await self.start()
        token = request_id_var.set(req.request_id)
        try:
            return await self.handle(req)
        finally:
            request_id_var.reset(token)

    async def chat(self, *, model: str, messages: list[dict], request_id: str | None = None,
                   cache: str | None = None, **params) -> ChatResult:
        """One chat completion. ``cache`` overrides the alias's cache category for this call
        (long, short, none, refresh), like the x-seawall-cache header."""
        params.pop("stream", None)
        req = self.request("chat", {"model": model, "messages": messages, **params}, request_id=request_id,
                           cache=cache)
        result: Completion = await self._run(req)
        return ChatResult(result.body, result.meta)

    def stream(self, *, model: str, messages: list[dict], request_id: str | None = None,
               cache: str | None = None, **params) -> StreamResult:
        req = self.request("chat", {"model": model, "messages": messages, **params, "stream": True},
                           request_id=request_id, cache=cache)
        return StreamResult(self, req)

    async def embed(self, *, model: str, input: Any, request_id: str | None = None, **params) -> EmbeddingResult:
        req = self.request("embeddings", {"model": model, "input": input, **params}, request_id=request_id)
        result: Completion = await self._run(req)
        return EmbeddingResult(result.body, result.meta)

    def models(self) -> list[dict]:
        return [{"id": name, "object": "model", "created": 0, "owned_by": "seawall"}
                for name in self.router.routes]

    async def aclose(self) -> None:
        """Stop background work, finish the cache's background writes, flush the audit queue
        (to the spool if SQL is down), close upstream connections and the stores."""
        await self.assembly.aclose()
        self._started = False

    async def __aenter__(self) -> "Gateway":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
