"""A stage and how stages compose. The stage list itself lives in seawall/assembly.py.

Each stage is a callable `stage(req, call_next) -> Result` with one job; it may act before
the call (reject, rewrite, answer from cache), after it (inspect, account), or around it.
"""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol

from .types import Request, Result

Handler = Callable[[Request], Awaitable[Result]]


class Stage(Protocol):
    async def __call__(self, req: Request, call_next: Handler) -> Result: ...


def compose(stages: list[Stage], terminal: Handler) -> Handler:
    handler = terminal
    for stage in reversed(stages):
        handler = _link(stage, handler)
    return handler


def _link(stage: Stage, call_next: Handler) -> Handler:
    async def handler(req: Request) -> Result:
        return await stage(req, call_next)

    return handler
