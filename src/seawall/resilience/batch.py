"""Embedding micro-batcher: requests for the same deployment that arrive within
`max_wait_ms` go upstream as one call (at most `max_inputs` inputs); each caller gets its
own slice of the answer, re-indexed, with its share of the usage.

The first request of a window leads: it waits the window out, sends the batch and hands
the answer to the others. A leader that is cancelled (its client left) fails the batch with
a retryable connection error, so the others retry on their own.
"""
from __future__ import annotations

import asyncio

from ..core.types import Completion, Meta, Request
from ..providers.classify import ErrorClass

_PLAIN_KEYS = frozenset(("model", "input", "encoding_format", "user"))


class _Batch:
    __slots__ = ("inputs", "future", "callers")

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.future: asyncio.Future | None = None
        self.callers = 0


class EmbedBatcher:
    def __init__(self, policy, metrics) -> None:
        self.wait = policy.max_wait_ms / 1000.0
        self.max_inputs = policy.max_inputs
        self.metrics = metrics
        self.pending: dict[str, _Batch] = {}

    async def embed(self, dep, req: Request) -> Completion:
        body = req.body
        inputs = body.get("input")
        single = isinstance(inputs, str)
        if single:
            inputs = [inputs]
        if (not isinstance(inputs, list) or not inputs or not all(isinstance(x, str) for x in inputs)
                or not body.keys() <= _PLAIN_KEYS or body.get("encoding_format") not in (None, "float")
                or len(inputs) >= self.max_inputs):
            return await dep.provider.embed(dep, req)  # token arrays, options, big requests: as is
        batch = self.pending.get(dep.id)
        if batch is None or len(batch.inputs) + len(inputs) > self.max_inputs:
            return await self._lead(dep, req, inputs)
        start = len(batch.inputs)
        batch.inputs.extend(inputs)
        batch.callers += 1
        if batch.future is None:
            batch.future = asyncio.get_running_loop().create_future()
        result = await asyncio.shield(batch.future)
        return _slice(req, result, start, len(inputs), len(batch.inputs))

    async def _lead(self, dep, req: Request, inputs: list[str]) -> Completion:
        batch = _Batch()
        batch.inputs.extend(inputs)
        batch.callers = 1
        self.pending[dep.id] = batch
        try:
            await asyncio.sleep(self.wait)
        finally:
            if self.pending.get(dep.id) is batch:
                del self.pending[dep.id]
        if batch.callers == 1:
            return await dep.provider.embed(dep, req)  # nobody joined: the original bytes go up
        breq = Request(kind="embeddings", alias=req.alias, body={"model": req.body.get("model"), "input": batch.inputs},
                       stream=False, meta=Meta(req.request_id + "-batch"), deadline=req.deadline)
        fut = batch.future
        try:
            result = await dep.provider.embed(dep, breq)
        except BaseException as e:
            if fut is not None and not fut.done():
                if isinstance(e, Exception):
                    fut.set_exception(e)
                else:
                    from ..providers.base import UpstreamError

                    fut.set_exception(UpstreamError(ErrorClass.CONNECTION, "the batch this request joined was cancelled",
                                                    deployment=dep.id))
                fut.exception()  # retrieved by the joiners; do not warn if none is left
            raise
        if fut is not None and not fut.done():
            fut.set_result(result)
        self.metrics.inc(self.metrics.batched, dep.id)
        return _slice(req, result, 0, len(inputs), len(batch.inputs))


def _slice(req: Request, result: Completion, start: int, n: int, total: int) -> Completion:
    body = result.body
    data = []
    for k, item in enumerate(body.get("data", [])[start:start + n]):
        data.append({**item, "index": k})
    usage = body.get("usage") or {}
    prompt = int(round(usage.get("prompt_tokens", 0) * n / max(1, total)))
    mine = {"prompt_tokens": prompt, "total_tokens": prompt}
    req.meta.usage = mine
    return Completion(req.meta, {"object": "list", "data": data, "model": body.get("model"), "usage": mine})
