"""Action proxy benchmarks (docs/benchmarks.md, "Action proxy"):

1. one policy decision (risk + Cedar) with N policies, through ActionsService.decide: wall
   time and this thread's CPU time per decision (on a loaded machine the gap is scheduling),
   with Cedar evaluating each (the remembered verdicts cleared first), then the same
   decisions answered from the verdicts the policy set remembers ("remembered_*");
2. what the proxy adds to an allowed MCP call: the same tools/call straight to the test MCP
   server (tests/mcp_records_server.py) and through a gateway process at /mcp, alternated;
   with the gateway's CPU time per proxied call and the server's per call in each phase (from
   /proc, Linux); SEAWALL_BENCH_SRC=<checkout>/src runs another checkout's gateway (before/after);
3. where a proxied call's CPU goes inside the gateway (`--breakdown`): a tools/call the SDK's
   client sent, captured once, then replayed in this process with a stub upstream, through the
   SDK's session manager ("sdk") and through the /mcp handler's fast path ("fast"), timing the
   whole handler, Seawall's own tools/call work (perform) and the decision; "protocol" is the rest.

    PYTHONPATH=src python scripts/bench_actions.py --policies 200 --decisions 20000 --calls 400
    make bench-actions
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def policies(n: int) -> str:
    """n policies of the shapes the cookbook uses: per-tool permits, caps, forbids by team/time."""
    out = ['@id("reads") permit (principal, action, resource) when { context.effect == "read" };']
    for i in range(n - 1):
        k = i % 4
        if k == 0:
            out.append(f'@id("p{i}") permit (principal, action, resource) when {{ context.tool == "sys{i}.op" }};')
        elif k == 1:
            out.append(f'@id("p{i}") @degrade("cap") @field("amount") @max("{100 + i}") permit (principal, action, '
                       f'resource) when {{ context.tool == "sys{i}.refund" && context.amount > {i} }};')
        elif k == 2:
            out.append(f'@id("p{i}") forbid (principal in Team::"t{i}", action, resource) '
                       f'when {{ context.effect != "read" && context.hour < {i % 24} }};')
        else:
            out.append(f'@id("p{i}") forbid (principal, action, resource in System::"sys{i}") '
                       f'when {{ context.risk > 90 || context.arguments.contains("force=true") }};')
    return "\n".join(out)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def bench_decisions(n_policies: int, n: int) -> dict:
    from seawall import config as config_mod
    from seawall.actions.service import Action, ActionsService
    from seawall.core.types import Principal

    cfg = config_mod.parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
                            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
                            "actions": {"enabled": True, "policy_text": policies(n_policies),
                                        "effects": {"crm.read_record": "read"}}})
    svc = ActionsService(cfg, None)
    svc.reload()
    who = Principal(key_id="k1", user_id="u1", team_id="t3", department_id="d1")
    actions = [Action("crm", "read_record", {"id": i, "filter": "name=x"}) for i in range(64)]
    assert svc.decide(who, actions[0]).decision == "allow"
    times, cpu, switched = [], [], []
    usage = lambda: resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw  # noqa: E731
    answers = getattr(svc.engine, "_answers", {})  # the verdicts the policy set remembers (policy.py)
    for i in range(n):
        answers.clear()  # Cedar evaluates every one of these: the figure is not a remembered answer
        v = usage()
        t, c = time.perf_counter(), time.thread_time()
        svc.decide(who, actions[i % 64], track_rate=False)
        cpu.append((time.thread_time() - c) * 1000)
        times.append((time.perf_counter() - t) * 1000)
        switched.append(usage() != v)  # the kernel took the CPU away during this decision
    remembered = []  # the same decisions when the policy set has seen the request before
    for i in range(n):
        t = time.perf_counter()
        svc.decide(who, actions[i % 64], track_rate=False)
        remembered.append((time.perf_counter() - t) * 1000)
    kept = [w for w, s in zip(times, switched) if not s]
    slow = [s for w, s in zip(times, switched) if w > 2.0]
    return {"policies": n_policies, "decisions": n, "p50_ms": round(pct(times, 0.5), 4),
            "p99_ms": round(pct(times, 0.99), 4), "mean_ms": round(statistics.mean(times), 4),
            "cpu_p50_ms": round(pct(cpu, 0.5), 4), "cpu_p99_ms": round(pct(cpu, 0.99), 4),
            "cpu_mean_ms": round(statistics.mean(cpu), 4),
            # why the wall-time tail: decisions over 2 ms, and how many of them were preempted
            "preempted": sum(switched), "over_2ms": len(slow), "over_2ms_preempted": sum(slow),
            "p99_not_preempted_ms": round(pct(kept, 0.99), 4) if kept else None,
            "remembered_p50_ms": round(pct(remembered, 0.5), 4), "remembered_p99_ms": round(pct(remembered, 0.99), 4)}


def cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str | None = None) -> None:
    for _ in range(400):
        try:
            if path:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} did not come up")


async def timed_calls(url: str, headers: dict, n: int) -> list[float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers, timeout=30) as hc:
        async with Client(streamable_http_client(url, http_client=hc)) as client:
            name = "records.read_record" if "/mcp" in url and headers else "read_record"
            for _ in range(20):
                await client.call_tool(name, {"id": 1})
            out = []
            for i in range(n):
                t = time.perf_counter()
                await client.call_tool(name, {"id": i})
                out.append((time.perf_counter() - t) * 1000)
            return out


def bench_mcp(n: int) -> dict:
    # SEAWALL_BENCH_SRC: run another checkout's gateway under this harness (a before/after)
    env = {**os.environ, "PYTHONPATH": os.environ.get("SEAWALL_BENCH_SRC", str(ROOT / "src"))}
    work = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    mport, gport = free_port(), free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "mcp_records_server.py"), str(mport),
                               str(work / "calls.json")], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    admin = "bench-admin-key-0001"
    cfg = {"admin_key": admin, "server": {"access_log": False}, "store": {"sql": f"sqlite:///{work}/s.db"},
           "providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}],
           "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
           "actions": {"enabled": True, "effects": {"records.read_record": "read"},
                       "policy_text": policies(200),
                       "mcp_servers": {"records": {"url": f"http://127.0.0.1:{mport}/mcp"}}}}
    (work / "c.json").write_text(json.dumps(cfg))
    gw = None
    try:
        wait_for(mport)
        gw = subprocess.Popen([sys.executable, "-m", "seawall.cli", "serve", "-c", str(work / "c.json"), "--port",
                               str(gport)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(gport, "/healthz")
        req = urllib.request.Request(f"http://127.0.0.1:{gport}/admin/keys", data=b'{"user": "bench"}',
                                     headers={"authorization": f"Bearer {admin}", "content-type": "application/json"})
        key = json.loads(urllib.request.urlopen(req).read())["key"]
        direct, proxied = [], []
        gw_cpu = srv_direct = srv_proxied = 0.0
        for block in range(4):  # alternate, so drifting load hits both alike
            # and swap which goes first: the test server rewrites its whole call log on every
            # call, so it gets slower as calls add up, and a fixed order favours the first phase
            for phase in (("direct", "proxied") if block % 2 == 0 else ("proxied", "direct")):
                if phase == "direct":
                    before = cpu_s(server.pid)
                    direct += asyncio.run(timed_calls(f"http://127.0.0.1:{mport}/mcp", {}, n // 4))
                    srv_direct += cpu_s(server.pid) - before
                else:
                    before, before_srv = cpu_s(gw.pid), cpu_s(server.pid)
                    proxied += asyncio.run(timed_calls(f"http://127.0.0.1:{gport}/mcp",
                                                       {"authorization": f"Bearer {key}"}, n // 4))
                    gw_cpu += cpu_s(gw.pid) - before
                    srv_proxied += cpu_s(server.pid) - before_srv
        # per proxied call; the 20 warm-up calls and the session set-up of each round included
        per_call = gw_cpu * 1000 / (len(proxied) + 4 * 20)
        calls = len(proxied) + 4 * 20
        return {"calls": len(direct), "gateway_cpu_per_call_ms": round(per_call, 3),
                # the MCP server's own CPU per call, called directly and through the gateway
                "server_cpu_direct_ms": round(srv_direct * 1000 / calls, 3),
                "server_cpu_proxied_ms": round(srv_proxied * 1000 / calls, 3),
                "direct_p50_ms": round(pct(direct, 0.5), 3),
                "seawall_p50_ms": round(pct(proxied, 0.5), 3),
                "added_p50_ms": round(pct(proxied, 0.5) - pct(direct, 0.5), 3),
                "direct_p99_ms": round(pct(direct, 0.99), 3), "seawall_p99_ms": round(pct(proxied, 0.99), 3)}
    finally:
        for p in (gw, server):
            if p is not None:
                p.terminate()
                p.wait(10)
        shutil.rmtree(work, ignore_errors=True)


async def _breakdown(n: int) -> dict:
    import httpx2
    import mcp_types as types
    from types import SimpleNamespace
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from seawall import config as config_mod
    from seawall.actions import service as service_mod
    from seawall.actions.mcp import McpGateway, asgi_call
    from seawall.core.types import Principal

    cfg = config_mod.parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
                            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
                            "actions": {"enabled": True, "policy_text": policies(200),
                                        "effects": {"records.read_record": "read"},
                                        "mcp_servers": {"records": {"url": "http://127.0.0.1:9/mcp"}}}})
    svc = service_mod.ActionsService(cfg, None)
    svc.reload()
    gw = McpGateway(svc)
    await gw.start()
    result = types.CallToolResult(content=[types.TextContent(type="text", text='{"id": 1, "name": "record 1"}')])
    tool = types.Tool(name="read_record", input_schema={"type": "object", "properties": {"id": {"type": "integer"}}},
                      annotations=types.ToolAnnotations(read_only_hint=True))

    class Stub:  # an upstream that answers at once: what remains is the gateway's own work
        async def list_tools(self):
            return types.ListToolsResult(tools=[tool])

        async def call_tool(self, name, args):
            return result

    gw.clients["records"] = Stub()
    who = Principal(key_id="k1", user_id="u1", team_id="t3", department_id="d1")
    calls = []

    async def capture(scope, receive, send):
        body = (await receive()).get("body", b"")
        if b'"tools/call"' in body:
            calls.append((scope, body))
        req = SimpleNamespace(method=scope["method"], path=scope["path"], query_string="",
                              headers={k.decode(): v.decode() for k, v in scope["headers"]})
        resp = await asgi_call(gw.manager.handle_request, req, body, {"seawall_principal": who}, {})
        await send({"type": "http.response.start", "status": resp.status,
                    "headers": [(k.encode(), v.encode()) for k, v in resp.headers.items()]
                    + [(b"content-type", (resp.content_type or "application/json").encode())]})
        await send({"type": "http.response.body", "body": resp.body})

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(capture), base_url="http://gw") as hc:
        async with Client(streamable_http_client("http://gw/mcp", http_client=hc)) as client:
            await client.call_tool("records.read_record", {"id": 1})
    scope, body = calls[-1]
    req = SimpleNamespace(method="POST", path="/mcp", query_string="",
                          headers={k.decode(): v.decode() for k, v in scope["headers"]})
    spent = {"handler": 0.0, "decide": 0.0}
    inner_perform, inner_decide = svc.perform, svc.decide

    async def timed_perform(*a, **k):  # Seawall's part of a tools/call: decide, call upstream, audit
        t = time.thread_time()
        try:
            return await inner_perform(*a, **k)
        finally:
            spent["handler"] += time.thread_time() - t

    def timed_decide(*a, **k):
        t = time.thread_time()
        try:
            return inner_decide(*a, **k)
        finally:
            spent["decide"] += time.thread_time() - t

    svc.perform, svc.decide = timed_perform, timed_decide
    from seawall.net.headers import Headers
    from seawall.net.messages import Request

    def fast_call():  # the same request as net.server hands it to the /mcp route
        r = Request(None)
        r.method, r.path, r._buf, r._done = "POST", "/mcp", bytearray(body), True
        r.headers = Headers.from_raw(scope["headers"])
        r.content_length = len(body)
        return SimpleNamespace(request=r, principal=who, headers={}, request_id="req-bench")

    async def sdk():
        return await asgi_call(gw.manager.handle_request, req, body, {"seawall_principal": who}, {})

    async def fast():
        return await gw.handle(fast_call())

    out = {"calls": n}
    for label, run in (("sdk", sdk), ("fast", fast)):
        for _ in range(50):
            await run()
        spent.update(handler=0.0, decide=0.0)
        total = 0.0
        for _ in range(n):
            t = time.thread_time()
            resp = await run()
            total += time.thread_time() - t
        assert resp.status == 200 and b"record 1" in resp.body, resp.body[:300]
        ms = lambda x: round(x * 1000 / n, 4)  # noqa: E731
        out[label] = {"handle_cpu_ms": ms(total), "seawall_perform_cpu_ms": ms(spent["handler"]),
                      "decision_cpu_ms": ms(spent["decide"]), "protocol_cpu_ms": ms(total - spent["handler"])}
    await gw.aclose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", type=int, default=200)
    ap.add_argument("--decisions", type=int, default=20000)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--breakdown", type=int, default=0, help="replayed calls for the in-process breakdown")
    a = ap.parse_args()
    if a.breakdown:
        print(json.dumps({"load_avg": os.getloadavg()[0], "breakdown": asyncio.run(_breakdown(a.breakdown))}))
    print(json.dumps({"load_avg": os.getloadavg()[0], "decision": bench_decisions(a.policies, a.decisions)}))
    if a.calls:
        print(json.dumps({"load_avg": os.getloadavg()[0], "mcp": bench_mcp(a.calls)}))


if __name__ == "__main__":
    main()
