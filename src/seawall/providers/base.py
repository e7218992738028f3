"""What every upstream adapter shares: pooled HTTP, timeouts, SSE reading, upstream errors.

An adapter turns an internal (OpenAI-format) request into its provider's wire call and the
answer back into internal form. Failures leave as `UpstreamError`, already classified, so
the resilience stages decide about retries and fallbacks without knowing the provider.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator

import orjson

from ..core.errors import GatewayError
from ..core.types import HEARTBEAT, Completion, Request, Stream
from ..net.client import Client, HTTPClientError, Response, ResponseTooLarge
from .classify import ErrorClass, classify_exception, classify_response, upstream_limits

if TYPE_CHECKING:
    from ..config import Price, ProviderConfig, Timeouts


class UpstreamError(GatewayError):
    """An upstream call that failed, with its class (see providers.classify)."""

    def __init__(self, error_class: ErrorClass, message: str, *, deployment: str | None = None,
                 upstream_status: int | None = None, retry_after: float | None = None,
                 param: str | None = None) -> None:
        super().__init__(error_class.client_code, message, param=param, retry_after=retry_after,
                         status=error_class.client_status(upstream_status))
        self.error_class = error_class
        self.deployment = deployment
        self.upstream_status = upstream_status


@dataclass(slots=True, eq=False)
class Deployment:
    """One place an alias can be served: a provider plus the model name there."""

    id: str
    provider: "Provider"
    model: str
    weight: float
    priority: int
    region: str | None
    tags: frozenset[str]
    price: "Price"
    timeouts: "Timeouts"


class Provider:
    """Base adapter: owns one pooled keep-alive HTTP client (seawall.net.client) for its upstream."""

    def __init__(self, cfg: "ProviderConfig", heartbeat_s: float) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.heartbeat_s = heartbeat_s
        self._session: Client | None = None

    @property
    def session(self) -> Client:
        # Timeouts are enforced per call from the request's deadline, not by the client.
        if self._session is None or self._session.closed:
            self._session = Client(limit=self.cfg.max_connections, keepalive_s=30.0,
                                   max_response_bytes=self.cfg.max_response_bytes)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # Adapters implement these three.
    async def chat(self, dep: Deployment, req: Request) -> Completion:
        raise NotImplementedError

    async def stream(self, dep: Deployment, req: Request) -> Stream:
        raise NotImplementedError

    async def embed(self, dep: Deployment, req: Request) -> Completion:
        raise GatewayError("invalid_request", f"provider kind {self.cfg.kind!r} does not serve embeddings",
                           param="model")

    # ---- shared mechanics -------------------------------------------------------------

    async def post(self, dep: Deployment, req: Request, url: str, data: bytes,
                   headers: dict) -> Response:
        """Send the request and wait for the response head within the first-token timeout."""
        t = dep.timeouts
        wait = _within_deadline(req, t.first_token)
        try:
            async with asyncio.timeout(wait):
                resp = await self.session.request("POST", url, body=data, headers=headers, connect_timeout=t.connect)
        except (TimeoutError, HTTPClientError, OSError) as e:
            raise self._failure(dep, e) from None
        if resp.status >= 300:
            try:
                async with asyncio.timeout(min(5.0, t.connect + 1.0)):
                    raw = await resp.read_some(65536)
            except (TimeoutError, HTTPClientError, OSError):
                raw = b""
            finally:
                resp.release()
            raise self.http_error(dep, resp.status, resp.headers, raw)
        limits = upstream_limits(resp.headers)
        if limits is not None:
            req.meta.upstream_limits = limits
        return resp

    async def read_json(self, dep: Deployment, req: Request, resp: Response) -> tuple[dict, bytes]:
        try:
            if resp.complete:  # usually the body came with the head: no timer to arm
                raw = await resp.read()  # releases the connection to the pool
            else:
                async with asyncio.timeout(_within_deadline(req, dep.timeouts.total)):
                    raw = await resp.read()
        except (TimeoutError, HTTPClientError, OSError) as e:
            raise self._failure(dep, e) from None
        finally:
            resp.release()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} sent a body that is not JSON",
                                deployment=dep.id, upstream_status=resp.status) from None
        if not isinstance(body, dict) or body.get("error") is not None:  # Responses objects carry "error": null
            raise self.http_error(dep, resp.status, resp.headers, raw, body=body)
        return body, raw

    async def sse(self, dep: Deployment, req: Request, resp: Response) -> AsyncIterator[tuple[str | None, bytes] | dict]:
        """Yield (event, data) per SSE event; HEARTBEAT while the upstream is silent.

        A silence longer than the stall timeout, or a stream that outlives the deadline,
        fails as a timeout. Closing this generator before the body's end closes the upstream
        connection; a stream read to its end gives the connection back to the pool.
        """
        stall = dep.timeouts.stream_stall
        beat = min(self.heartbeat_s, stall)
        readline, buffered = resp.readline, resp.readline_nowait
        event: str | None = None
        silent_since = time.perf_counter()
        try:
            while True:
                line = buffered()  # lines of a burst are already here: no timer needed for them
                try:
                    if line is None:
                        async with asyncio.timeout(beat):
                            line = await readline()
                except TimeoutError:
                    if time.perf_counter() - silent_since >= stall:
                        raise UpstreamError(ErrorClass.TIMEOUT, f"upstream {dep.id} stream stalled for {stall:g}s",
                                            deployment=dep.id) from None
                    if req.deadline is not None and time.perf_counter() > req.deadline:
                        raise UpstreamError(ErrorClass.TIMEOUT, f"upstream {dep.id} passed the request deadline",
                                            deployment=dep.id) from None
                    yield HEARTBEAT
                    continue
                except (HTTPClientError, OSError) as e:
                    raise self._failure(dep, e) from None
                if not line:
                    return
                silent_since = time.perf_counter()
                line = line.rstrip(b"\r\n")
                if not line:
                    event = None
                elif line.startswith(b"data:"):
                    yield event, line[5:].lstrip()
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                # comments (":") and other fields are ignored
        finally:
            resp.release()

    async def sse_json(self, dep: Deployment, req: Request, resp: Response) -> AsyncIterator[tuple[str | None, object] | dict]:
        """`sse`, with each event's data parsed as JSON; data that is not JSON is a malformed answer."""
        async with aclosing(self.sse(dep, req, resp)) as events:  # closed on every path: the connection too
            async for item in events:
                if item is HEARTBEAT:
                    yield HEARTBEAT
                    continue
                event, data = item
                try:
                    yield event, orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise UpstreamError(ErrorClass.MALFORMED, f"upstream {dep.id} sent a stream event that is not JSON",
                                        deployment=dep.id) from None

    def http_error(self, dep: Deployment, status: int, headers, raw: bytes, body: object = None) -> UpstreamError:
        if body is None:
            try:
                body = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                body = None
        cls, retry_after, upstream_msg = classify_response(status, headers, body)
        msg = f"upstream {dep.id} answered {status}"
        if upstream_msg and cls.show_upstream_message:
            msg = upstream_msg
        return UpstreamError(cls, msg, deployment=dep.id, upstream_status=status, retry_after=retry_after,
                             param=_param(body) if cls.show_upstream_message else None)

    def _failure(self, dep: Deployment, exc: BaseException) -> UpstreamError:
        cls = classify_exception(exc)
        what = "timed out" if cls is ErrorClass.TIMEOUT else f"could not be reached ({type(exc).__name__})"
        if isinstance(exc, ResponseTooLarge):  # its message holds only our limit
            what = f"sent a {exc.args[0].removeprefix('upstream ')}"
        return UpstreamError(cls, f"upstream {dep.id} {what}", deployment=dep.id)


def _within_deadline(req: Request, limit: float) -> float:
    left = req.remaining()
    return limit if left is None else max(0.001, min(limit, left))


def _param(body: object) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        p = body["error"].get("param")
        return p if isinstance(p, str) else None
    return None


async def primed(chunks: AsyncIterator[dict], req: Request) -> Stream:
    """Wait for the first real chunk, then hand back a Stream that starts with it.

    Until the first chunk arrives nothing has been sent to the client, so a failure here
    is still an ordinary error that retries and fallbacks can act on.
    """
    try:
        first = await anext(chunks)
        while first is HEARTBEAT:
            first = await anext(chunks)
    except StopAsyncIteration:
        raise UpstreamError(ErrorClass.MALFORMED, "upstream ended the stream before any chunk",
                            deployment=req.meta.deployment) from None
    except BaseException:
        await chunks.aclose()
        raise
    req.meta.ttft_ms = (time.perf_counter() - req.started) * 1000.0

    async def rest() -> AsyncIterator[dict]:
        try:
            yield first
            async for c in chunks:
                yield c
        finally:
            await chunks.aclose()

    return Stream(rest(), req.meta)
