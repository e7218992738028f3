#!/usr/bin/env python3
"""What the guard stage adds to a request, in process: GuardIn (check_input, rewrite, output
filter on the answer) around a terminal that returns a canned answer, against the same chain
with `guard.enabled: false`. Prints p50 / p95 in microseconds, as a Markdown table.

    HF_HUB_OFFLINE=1 python scripts/bench_guard_stage.py [--n 3000]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_guard import prompt_1kb  # noqa: E402
from seawall import Gateway, GatewayError  # noqa: E402
from seawall.config import parse  # noqa: E402
from seawall.core.types import Completion, Meta, Request, Stream  # noqa: E402
from seawall.guard.stage import GuardIn, GuardService  # noqa: E402

ANSWER = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
    "role": "assistant", "content": "Here is a short answer to your question. " * 6}}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 40, "total_tokens": 50}}
CHUNKS = [{"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": w + " "},
                                                           "finish_reason": None}]}
          for w in ("Here is a short answer to your question. " * 6).split()] + [
    {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]


def gateway(guard: dict) -> Gateway:
    return Gateway(parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
                          "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
                          "governance": {"enabled": False}, "guard": guard}))


async def terminal(req: Request):
    if req.stream:
        async def gen():
            for c in CHUNKS:
                yield c
        return Stream(gen(), req.meta)
    return Completion(req.meta, ANSWER, None)


async def run(stage: GuardIn, text: str, stream: bool, n: int) -> list[float]:
    profile = stage.svc_profile
    out = []
    for i in range(n):
        body = {"model": "m", "stream": stream, "messages": [
            {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": text}]}
        req = Request("chat", "m", body, stream, Meta(str(i)), profile=profile)
        t0 = time.perf_counter()
        try:
            res = await stage(req, terminal)
        except GatewayError:  # blocked: the input check was all the work
            out.append(-(time.perf_counter() - t0) * 1e6)
            continue
        if stream:
            async for _ in res.chunks:
                pass
        else:
            res.raw  # noqa: B018  (serialise, as the HTTP face does)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def cell(xs: list[float]) -> str:
    blocked = " (blocked)" if any(x < 0 for x in xs) else ""
    xs = [abs(x) for x in xs]
    return f"{statistics.median(xs):.0f}{blocked} | {pct(xs, 0.95):.0f}"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    n = ap.parse_args().n
    cases = [("default policy", {}), ("+ classifier (fast)", {"injection_classifier": True}),
             ("guard disabled", {"enabled": False})]
    prompts = [("'Hello there'", "Hello there"),
               ("1 KB prompt with an e-mail", prompt_1kb())]
    print(f"guard stage, in process, {platform.python_version()}, n={n}; microseconds\n")
    print("| policy | prompt | complete p50 | p95 | stream (13 chunks) p50 | p95 |")
    print("|---|---|---|---|---|---|")
    for label, guard in cases:
        gw = gateway(guard)
        await gw.guard.engine.warm_up(classifier=bool(guard.get("injection_classifier")), injection_model="fast")
        # a second guard service for the same gateway needs its own metrics registry
        stage = GuardIn(GuardService(gw.config, gw.router, CollectorRegistry()))
        stage.svc_profile = gw.config.profile("m")
        for plabel, text in prompts:
            await run(stage, text, False, 50)  # warm caches and code paths
            c = await run(stage, text, False, n)
            s = await run(stage, text, True, n)
            print(f"| {label} | {plabel} | {cell(c)} | {cell(s)} |")


if __name__ == "__main__":
    asyncio.run(main())
