"""The shape of the house (issue 12): the core imports no feature, packages import each other
without cycles, the stage order is the assembly's, tenants never share a coalesced answer, and
every stream wrapper closes its upstream when the client goes away."""
from __future__ import annotations

import ast
import asyncio
import contextlib
import socket
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from seawall.config import parse
from seawall.gateway import Gateway
from seawall.govern.admin import Admin
from seawall.sim import Simulator

SRC = Path(__file__).resolve().parents[1] / "src" / "seawall"
FEATURES = {"api", "assembly", "gateway", "cache", "govern", "guard", "observe", "resilience", "vector",
            "sandbox", "jobs", "actions", "cli", "demo", "sections"}


def _imports() -> dict[str, set[str]]:
    """unit -> the units it imports, where a unit is a subpackage (core, cache, ...) or a
    top-level module (config, gateway, ...). Every import counts: module level, inside
    functions and under TYPE_CHECKING."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        unit = module.split(".")[1] if "." in module else "seawall"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    names = [".".join(base + [node.module])] if node.module else \
                        [".".join(base + [a.name]) for a in node.names]
                else:
                    names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "seawall" and len(parts) > 1 and parts[1] != unit:
                    edges[unit].add(parts[1])
    return edges


def test_core_imports_no_feature():
    core = _imports()["core"]
    assert core <= {"config"}, f"core/ imports {sorted(core - {'config'})}"
    assert not (core & FEATURES)


def test_no_import_cycle_between_packages():
    edges = _imports()
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(u: str) -> None:
        state[u] = 1
        path.append(u)
        for v in sorted(edges.get(u, ())):
            if state.get(v) == 1:
                cycle = path[path.index(v):] + [v]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if v not in state:
                visit(v)
        path.pop()
        state[u] = 2

    for unit in sorted(edges):
        if unit not in state:
            visit(unit)


def _config(sim_url: str, **extra) -> dict:
    return {"providers": [{"name": "sim", "base_url": sim_url + "/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}], **extra}


def test_the_assembled_stage_order(tmp_path):
    gw = Gateway(parse(_config("http://127.0.0.1:9", store={"sql": f"sqlite:///{tmp_path}/s.db"})))
    assert [type(s).__name__ for s in gw.assembly.stages] == [
        "Account", "AuditStage", "Identify", "RouteStage", "Admit", "GuardIn", "ActionsStage", "CacheStage",
        "Coalesce"]
    assert [type(s).__name__ for s in gw.assembly.services] == [
        "Governance", "GuardService", "Resilience", "CacheService", "ActionsService", "SandboxService",
        "JobsService"]


async def test_two_tenants_never_share_a_coalesced_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("KEY_A", "sk-tenant-a")
    monkeypatch.setenv("KEY_B", "sk-tenant-b")
    async with Simulator(seed=3) as sim:
        sim.set_faults(latency_ms=300)
        cfg = parse(_config(sim.url, server={"api_keys": ["${KEY_A}", "${KEY_B}"]},
                            store={"sql": f"sqlite:///{tmp_path}/s.db"},
                            governance={"audit": {"spool_dir": str(tmp_path / "spool")}}))
        gw = Gateway(cfg)
        await gw.start()
        try:
            body = {"model": "m", "messages": [{"role": "user", "content": "the same question"}], "temperature": 0}

            async def ask(key: str):
                headers = {"authorization": f"Bearer {key}"}
                req = gw.request("chat", dict(body), headers=headers, principal=gw.authenticate(headers))
                return await gw.handle(req)

            same = await asyncio.gather(ask("sk-tenant-a"), ask("sk-tenant-a"))
            assert sim.stats["received"] == 1  # one tenant: identical in-flight requests share a call
            assert same[1].meta.extra.get("x-seawall-coalesced") == same[0].meta.request_id
            sim.reset_stats()
            both = await asyncio.gather(ask("sk-tenant-a"), ask("sk-tenant-b"))
            assert sim.stats["received"] == 2  # two tenants: each its own call
            assert all("x-seawall-coalesced" not in r.meta.extra for r in both)
        finally:
            await gw.aclose()


async def _wait_idle(sim: Simulator, timeout: float = 5.0) -> int:
    for _ in range(int(timeout / 0.02)):
        if sim.stats["in_flight"] == 0:
            return 0
        await asyncio.sleep(0.02)
    return sim.stats["in_flight"]


def _full_stack(sim_url: str, tmp_path) -> dict:
    """Every stage that wraps a stream is on: account, audit, admit (a budget), guard (output),
    cache (an alias that caches) and execute."""
    cfg = _config(sim_url, store={"sql": f"sqlite:///{tmp_path}/s.db"},
                  governance={"audit": {"spool_dir": str(tmp_path / "spool"), "content": "full"}})
    cfg["models"][0]["cache"] = {"category": "short", "opt_in_any_temperature": True}
    return cfg


@contextlib.contextmanager
def explicit_close_only():
    """Generators the code forgets to close are not rescued by the event loop's finalizer
    (which would close them some time later): only explicit closing counts. Entered inside
    the test's coroutine, since the loop installs its own hooks when it starts running."""
    old = sys.get_asyncgen_hooks()
    kept: list = []  # a forgotten generator stays open, as it would while a reference lingers
    sys.set_asyncgen_hooks(firstiter=None, finalizer=kept.append)
    try:
        yield
    finally:
        sys.set_asyncgen_hooks(*old)


async def _limit(gw: Gateway) -> None:
    """A tokens-per-minute limit, so the admit stage settles the stream too."""
    await Admin(gw.governance).set_limit(scope="model", scope_id="m", rpm=1000, tpm=10_000_000)


async def test_a_library_client_leaving_a_stream_closes_the_upstream(tmp_path):
    async with Simulator(seed=4) as sim:
        sim.set_faults(chunk_ms=10, stall_after_chunks=5)  # the upstream never ends by itself
        gw = Gateway(parse(_full_stack(sim.url, tmp_path)))
        await gw.start()
        try:
            await _limit(gw)
            with explicit_close_only():
                async with gw.stream(model="m", messages=[{"role": "user", "content": "write a long story"}],
                                     max_tokens=400) as s:
                    got = 0
                    async for _ in s:
                        got += 1
                        if got == 3:
                            break
                    assert sim.stats["in_flight"] == 1
                assert await _wait_idle(sim) == 0
        finally:
            await gw.aclose()


async def test_an_http_client_leaving_a_stream_closes_the_upstream(tmp_path):
    from seawall.api.server import start_in_process

    async with Simulator(seed=5) as sim:
        sim.set_faults(chunk_ms=10, stall_after_chunks=5)  # the upstream never ends by itself
        gw = Gateway(parse(_full_stack(sim.url, tmp_path)))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        stop = await start_in_process(gw, port=port)
        try:
            await _limit(gw)
            with explicit_close_only():
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                body = (b'{"model": "m", "stream": true, "max_tokens": 400, '
                        b'"messages": [{"role": "user", "content": "write a long story"}]}')
                writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                seen = b""
                while seen.count(b"data: ") < 3:
                    seen += await asyncio.wait_for(reader.read(4096), 5)
                assert b" 200 " in seen.split(b"\r\n", 1)[0] and sim.stats["in_flight"] == 1
                writer.close()  # the client goes away mid-stream
                assert await _wait_idle(sim) == 0
        finally:
            await stop()
