"""HTTP plumbing shared by the routes: body reading, error and SSE rendering."""
from __future__ import annotations

import logging
from typing import Callable

import orjson

from ..core.errors import GatewayError
from ..core.jsonbody import parse_object
from ..core.types import HEARTBEAT, Stream
from ..net.server import BodyTooLarge, Request, Response, StreamResponse

log = logging.getLogger("seawall.http")

JSON = "application/json"
_HEARTBEAT_BYTES = b": keep-alive\n\n"


async def read_json(request: Request, max_bytes: int) -> tuple[dict, bytes]:
    """Read and parse a JSON body; 413 past the limit, 400 for anything that is not an object."""
    length = request.content_length
    try:
        if length is not None and length > max_bytes:
            raise BodyTooLarge(max_bytes)
        raw = await request.read(max_bytes)
    except BodyTooLarge:
        raise GatewayError("request_too_large", f"the request body is larger than {max_bytes} bytes") from None
    if not raw:
        raise GatewayError("invalid_request", "the request body is empty; send a JSON object")
    return parse_object(raw), raw  # 400 for invalid JSON, a non-object or a duplicate key


def error_response(err: GatewayError, headers: dict[str, str], render: Callable[[GatewayError], dict]) -> Response:
    h = dict(headers)
    h.update(err.headers)
    if err.retry_after is not None:
        h["retry-after"] = str(max(1, int(err.retry_after + 0.999)))
    h["x-seawall-error-code"] = err.code
    return Response(body=orjson.dumps(render(err)), status=err.status, headers=h, content_type=JSON)


def internal_error() -> GatewayError:
    return GatewayError("internal_error", "the gateway failed to handle this request; it has been logged")


class SSEEncoder:
    """How one wire format writes chunks, the end of a stream and a mid-stream error."""

    def chunk(self, chunk: dict) -> bytes:
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def end(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, err: GatewayError) -> bytes:
        return b"data: " + orjson.dumps(err.to_openai()) + b"\n\n"


async def write_stream(request: Request, stream: Stream, headers: dict[str, str],
                       encoder: SSEEncoder) -> StreamResponse:
    """Relay a stream chunk by chunk. Its first chunk is already in hand, so the status is
    final; a later failure ends the stream with an error event. A client that goes away
    cancels this task, and closing the stream closes the upstream connection."""
    resp = StreamResponse(status=200, headers={
        **headers, "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no",
    })
    await resp.prepare(request)
    try:
        async for chunk in stream:
            if chunk is HEARTBEAT:
                await resp.write(_HEARTBEAT_BYTES)
            else:
                data = encoder.chunk(chunk)
                if data:
                    await resp.write(data)
        await resp.write(encoder.end())
    except GatewayError as e:
        log.warning("stream failed after it started", extra={"code": e.code, "error": e.message})
        await _try_write(resp, encoder.error(e))
    except (ConnectionError, OSError):
        pass  # the client went away
    except Exception:
        log.exception("stream failed after it started")
        await _try_write(resp, encoder.error(internal_error()))
    finally:
        await stream.aclose()
    return resp


async def _try_write(resp: StreamResponse, data: bytes) -> None:
    try:
        await resp.write(data)
    except (ConnectionError, OSError):
        pass
