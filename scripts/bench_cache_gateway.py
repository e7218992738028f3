#!/usr/bin/env python
"""The cache through the gateway over HTTP (figures for docs/benchmarks.md, section Caching).

    python scripts/bench_cache_gateway.py [--entries 100000] [--n 400] [--shared auto|none]
                                          [--embedder onnx-int8-l3|onnx-int8]

A child process serves a gateway (embedded default, one alias with the exact and semantic
caches on) in front of an in-process simulator, and pre-fills the caches:
`--entries` exact entries in the alias's tenant scope, and `--entries` semantic entries in
the namespace the queries use (a few hundred real prompts embedded, the rest random unit
vectors, so the index runs its large tier). The parent sends sequential requests over one
keep-alive connection and reports p50/p99 of:

- client round trip of an exact hit, of a semantic hit (each query a new text: the embedding
  is paid), and of a miss to the simulator (no latency injected) for scale;
- the gateway's own `x-seawall-latency-ms` for the same requests;
- where a semantic hit's time goes in the server: the embedding, the index search, the
  verifier, the alignment gate (p50 of each, timed during the semantic phase only);
- in process: the stage's cost when the alias has no cache, of an exact miss lookup
  (decide + key + LRU get), and of storing an answer (checks + output guard scan + insert).
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

PROMPT = "What is the boiling point of substance number {i} at sea level?"
PARA = "What's the boiling point of substance number {i} at sea level?"


def body(text: str, **kw) -> dict:
    return {"model": "chat", "temperature": 0, "messages": [{"role": "user", "content": text}], **kw}


def serve(entries: int, real: int, conn, shared: str = "auto", embedder: str = "onnx-int8-l3") -> None:
    from seawall.api.server import start_in_process
    from seawall.cache.exact import Entry
    from seawall.cache.keys import exact_key
    from seawall.config import parse
    from seawall.gateway import Gateway
    from seawall.sim import Simulator

    async def main():
        sim = Simulator(seed=1)
        await sim.start(port=0)
        tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-cache-{os.getpid()}.db"
        gw = Gateway(parse({
            "server": {"access_log": False},
            "store": {"sql": f"sqlite:///{tmp}"},
            "governance": {"audit": {"enabled": False}},
            "cache": {"local_max_entries": 2 * entries, "shared": shared, "embedder": embedder},
            "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
            "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}],
                        "cache": {"category": "long", "semantic": {"enabled": True}}},
                       {"name": "nocache", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        }))
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        stop = await start_in_process(gw, sock=sock)
        svc = gw.cache
        try:
            stage_costs = await stage_micro(gw)  # before the fill: it empties the LRU when done
        except AttributeError as exc:  # written before requests carried the alias's profile (issue 12)
            stage_costs = {"stage_micro": f"skipped: {exc}"}
        answer = json.dumps({"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": "About 100 C."},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}).encode()
        scope = "anonymous"
        t0 = time.perf_counter()
        for i in range(entries):
            svc.local.set(Entry.new(exact_key(scope, "chat", body(PROMPT.format(i=i))), answer, 86400))
        t_exact = time.perf_counter() - t0
        sem = svc.semantic
        view = sem.view(body(PROMPT.format(i=0)))
        ns = (scope, "chat", view.fingerprint)
        texts = [PROMPT.format(i=i) for i in range(real)]
        vecs = sem.embedder.embed(texts)
        now = time.time()
        for t, v in zip(texts, vecs):
            sem.add_entry(ns, v, t, "", answer, now, now + 86400, now + 86400)
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        rest = entries - real
        step = 20_000
        for k in range(0, rest, step):
            x = rng.standard_normal((min(step, rest - k), sem.embedder.dim)).astype(np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            sem.add_vectors(scope, "chat", view.fingerprint, x, ["filler"] * len(x), [answer] * len(x), 86400)
        t_sem = time.perf_counter() - t0
        srv_port = sock.getsockname()[1]
        conn.send({"port": srv_port, "fill_exact_s": t_exact, "fill_semantic_s": t_sem,
                   "index": sem._spaces[ns].index.kind, "ns_entries": len(sem._spaces[ns].index), **stage_costs})
        parts = time_parts(sem)
        while await asyncio.to_thread(conn.recv) == "parts":  # without blocking the event loop
            conn.send({k: {"p50_ms": round(pct(v, 0.5) * 1e3, 3), "n": len(v)} for k, v in parts.items() if v})
            for v in parts.values():
                v.clear()
        await stop()
        await sim.stop()

    asyncio.run(main())


def time_parts(sem) -> dict[str, list[float]]:
    """Time the parts of a semantic lookup in the server (embedding, index search, verifier)
    from now on: where a hit's time goes, next to the gateway's total."""
    parts: dict[str, list[float]] = {"embed": [], "search": [], "verify": [], "align": []}

    def timed(obj, name, into):
        fn = getattr(obj, name)

        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                into.append(time.perf_counter() - t)

        setattr(obj, name, wrapper)

    timed(sem, "_vector", parts["embed"])
    timed(sem, "_refusal", parts["verify"])  # the pair judge (or the rule verifier) on a candidate
    if hasattr(sem, "_misaligned"):
        timed(sem, "_misaligned", parts["align"])  # the token-alignment gate on a candidate
    for space in sem._spaces.values():
        timed(space.index, "search", parts["search"])
    return parts


async def stage_micro(gw) -> dict:
    from seawall.cache.stage import CacheStage
    from seawall.core.types import Completion, Meta, Request

    stage = CacheStage.__new__(CacheStage)
    stage.svc = gw.cache
    answer = {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "A short answer of a few words."},
                           "finish_reason": "stop"}], "usage": {"prompt_tokens": 20, "completion_tokens": 8}}
    raw = json.dumps(answer).encode()
    svc = gw.cache
    sem_policy = svc.policies["chat"]
    svc.policies["chat"] = sem_policy.model_copy(update={"semantic": sem_policy.semantic.model_copy(update={"enabled": False})})

    async def upstream(req):
        return Completion(req.meta, raw=raw)

    async def time_it(alias, make_text, n=3000, store=True):
        ts = []
        for i in range(n):
            req = Request("chat", alias, body(make_text(i)), False, Meta(str(i)))
            if not store:
                svc.local._d.clear()
            t = time.perf_counter()
            await stage(req, upstream)
            ts.append(time.perf_counter() - t)
        ts.sort()
        return ts[len(ts) // 2] * 1e3

    async def bare(req):
        return await upstream(req)

    ts = []
    for i in range(3000):
        req = Request("chat", "chat", body(f"x {i}"), False, Meta(str(i)))
        t = time.perf_counter()
        await bare(req)
        ts.append(time.perf_counter() - t)
    ts.sort()
    base = ts[len(ts) // 2] * 1e3
    off = await time_it("nocache", lambda i: f"off {i}")
    # miss with store (the full miss path), then the lookup alone: remove the store by making
    # answers uncacheable (finish_reason length skips the guard scan and the insert)
    full = await time_it("chat", lambda i: f"miss {i} " * 3)
    raw_len = json.dumps({**answer, "choices": [{**answer["choices"][0], "finish_reason": "length"}]}).encode()

    async def upstream_len(req):
        return Completion(req.meta, raw=raw_len)

    ts = []
    for i in range(3000):
        req = Request("chat", "chat", body(f"lookup {i} " * 3), False, Meta(str(i)))
        t = time.perf_counter()
        await stage(req, upstream_len)
        ts.append(time.perf_counter() - t)
    ts.sort()
    lookup = ts[len(ts) // 2] * 1e3
    svc.policies["chat"] = sem_policy
    svc.local._d.clear()
    return {"stage_bare_ms": base, "stage_off_ms": off, "stage_miss_lookup_ms": lookup, "stage_miss_and_store_ms": full}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def run(port: int, bodies, expect: str) -> dict:
    """Latencies of the requests that came back as `expect`; the others are counted (a semantic
    query the approximate index does not find among 100k is a miss, and costs a miss's time)."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    rt, own, other = [], [], {}
    for b in bodies:
        data = json.dumps(b).encode()
        t = time.perf_counter()
        c.request("POST", "/v1/chat/completions", data, {"content-type": "application/json"})
        r = c.getresponse()
        r.read()
        took = (time.perf_counter() - t) * 1e3
        assert r.status == 200, r.status
        status = (r.getheader("x-seawall-cache") or "").split(";")[0]
        if not status.startswith(expect):
            other[status] = other.get(status, 0) + 1
            continue
        rt.append(took)
        own.append(float(r.getheader("x-seawall-latency-ms")))
    c.close()
    return {"p50": pct(rt, 0.5), "p99": pct(rt, 0.99), "own_p50": pct(own, 0.5), "own_p99": pct(own, 0.99),
            "n": len(rt), "other_outcomes": other}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--shared", default="auto", help="cache.shared: auto (SQLite here), none, ...")
    ap.add_argument("--embedder", default="onnx-int8-l3", help="cache.embedder")
    args = ap.parse_args()
    real = min(args.entries, max(2 * args.n + 50, 500))
    parent, child = mp.Pipe()
    p = mp.get_context("fork").Process(target=serve, args=(args.entries, real, child, args.shared, args.embedder))
    p.start()
    try:
        info = parent.recv()
        print(json.dumps(info, indent=1))
        port = info["port"]
        run(port, [body(PROMPT.format(i=i)) for i in range(50)], "hit-exact")  # warm the connection
        res = {"exact_hit": run(port, [body(PROMPT.format(i=i)) for i in range(1000, 1000 + args.n)], "hit-exact")}
        parent.send("parts")
        parent.recv()
        res["semantic_hit"] = run(port, [body(PARA.format(i=i)) for i in range(args.n)], "hit-semantic")
        parent.send("parts")
        res["semantic_hit"]["server_parts"] = parent.recv()  # where a hit's time goes, in the server
        res["miss_to_simulator"] = run(port, [body(f"never seen {i} {time.time()}") for i in range(args.n)], "miss")
        parent.send("stop")
        print(json.dumps(res, indent=1))
        p.join(30)
    finally:  # a failed phase must not leave the server waiting for "stop" forever
        if p.is_alive():
            p.terminate()
            p.join(5)


if __name__ == "__main__":
    main()
