"""The one way a stage watches or rewrites a stream.

A stage that must see a stream's chunks or its end wraps it with `tap`: a callback per
chunk, an optional rewrite of each chunk and extra chunks at the end, and one callback with
the outcome (ok, an error's code, client_closed when the consumer went away). The inner
stream is closed on every path: end, error, and a client that leaves mid-stream (the
consumer's aclose), so the upstream connection never outlives its reader.
"""
from __future__ import annotations

from typing import AsyncIterator, Callable, Iterable

from .errors import Outcome, outcome_of
from .types import HEARTBEAT, Stream

ChunkFn = Callable[[dict], None]
MapFn = Callable[[dict], dict]
EndFn = Callable[[Outcome], None]


def tap(stream: Stream, *, on_chunk: ChunkFn | None = None, rewrite: MapFn | None = None,
        tail: Callable[[], Iterable[dict] | AsyncIterator[dict]] | None = None, on_end: EndFn | None = None) -> Stream:
    """Wrap `stream` in place and return it. `on_chunk` sees every content chunk (heartbeats
    pass untouched), `rewrite` replaces it, `tail()` yields chunks to send after the last one
    (a plain or an async generator),
    `on_end(outcome)` runs exactly once however the stream ends."""
    stream.chunks = _watch(stream.chunks, on_chunk, rewrite, tail, on_end)
    return stream


async def _watch(chunks: AsyncIterator[dict], on_chunk, rewrite, tail, on_end) -> AsyncIterator[dict]:
    error: BaseException | None = None
    try:
        async for c in chunks:
            if c is not HEARTBEAT:
                if on_chunk is not None:
                    on_chunk(c)
                if rewrite is not None:
                    c = rewrite(c)
            yield c
        if tail is not None:
            more = tail()
            if hasattr(more, "__aiter__"):  # a tail that must await (a database look-up) is async
                async for c in more:
                    yield c
            else:
                for c in more:
                    yield c
    except BaseException as e:  # GeneratorExit when the consumer closes us early: client_closed
        error = e
        raise
    finally:
        try:
            if error is not None:
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    await close()
        finally:
            if on_end is not None:
                on_end(outcome_of(error))
