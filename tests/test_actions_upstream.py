"""Seawall's own client for streamable-HTTP MCP upstreams (actions/upstream.py), against the
real test MCP server (tests/mcp_records_server.py, the official SDK): one session reused;
a restarted server's 404 for an expired session answered by initialising again; a server
that is down, or that accepts and never answers, fails with a clear error and no hang; and
through a gateway, the official client gets that error as a tool result."""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from procs import _env, free_port, start_gateway
from seawall.actions.upstream import HttpUpstream, UpstreamFailure, UpstreamRefused
from seawall.net.client import Client
from test_actions_mcp import ADMIN, ADMIN_H, _wait_port, mcp, text

HERE = Path(__file__).parent


def _server(port: int, counts: Path, *mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(HERE / "mcp_records_server.py"), str(port), str(counts), *mode],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _wait_port(port, proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def test_one_session_is_reused_and_a_restarted_server_gets_a_new_one(tmp_path):
    port, counts = free_port(), tmp_path / "calls.json"
    server = _server(port, counts, "stateful")

    async def run():
        nonlocal server
        http = Client(limit=4)
        up = HttpUpstream("records", f"http://127.0.0.1:{port}/mcp", 10.0, http, discover=False)
        try:
            listed = await up.list_tools()
            assert {t.name for t in listed.tools} >= {"read_record", "refund"}
            assert up.modern is None  # the handshake era, as asked
            first = up.session_id
            assert first  # a stateful server issued one at initialize
            got = await up.call_tool("read_record", {"id": 7})
            assert not got.is_error and json.loads(got.content[0].text) == {"id": 7, "name": "record 7"}
            assert up.session_id == first  # reused, not initialised per call
            with pytest.raises(UpstreamRefused, match="MCP server records refused no/such-method"):
                await up.request("no/such-method", {})  # a JSON-RPC error: the server is up, it refused

            _stop(server)  # the server restarts: it knows no session any more (404)
            server = await asyncio.to_thread(_server, port, counts, "stateful")
            got = await up.call_tool("read_record", {"id": 8})
            assert json.loads(got.content[0].text)["id"] == 8
            assert up.session_id and up.session_id != first
        finally:
            await http.close()

    try:
        asyncio.run(run())
    finally:
        _stop(server)
    assert [c["arguments"]["id"] for c in json.loads(counts.read_text())] == [8]  # the restarted server's count


def test_a_server_that_serves_the_2026_era_is_spoken_to_in_it_without_a_session(tmp_path):
    port, counts = free_port(), tmp_path / "calls.json"
    server = _server(port, counts, "stateful")  # it would issue a session at initialize: none is asked for

    async def run():
        http = Client(limit=4)
        up = HttpUpstream("records", f"http://127.0.0.1:{port}/mcp", 10.0, http)
        try:
            listed = await up.list_tools()
            assert {t.name for t in listed.tools} >= {"read_record", "refund"}
            assert up.modern == "2026-07-28" and up.session_id is None
            got = await up.call_tool("read_record", {"id": 9})
            assert not got.is_error and json.loads(got.content[0].text) == {"id": 9, "name": "record 9"}
            with pytest.raises(UpstreamRefused, match="MCP server records refused no/such-method"):
                await up.request("no/such-method", {})
            # a tool that declares Mcp-Param-Order: the client mirrors the argument, as the spec asks
            assert json.loads((await up.call_tool("lookup_order", {"order": "A 1"})).content[0].text) == {
                "order": "A 1"}
            maps, up._header_maps = up._header_maps, {}
            with pytest.raises(UpstreamRefused, match="Mcp-Param-Order"):  # without it the server refuses
                await up.call_tool("lookup_order", {"order": "A 2"})
            up._header_maps = maps
            _stop(server_box[0])  # restarted: nothing to re-establish in this era
            server_box[0] = await asyncio.to_thread(_server, port, counts, "stateful")
            got = await up.call_tool("read_record", {"id": 10})
            assert json.loads(got.content[0].text)["id"] == 10 and up.session_id is None
        finally:
            await http.close()

    server_box = [server]
    try:
        asyncio.run(run())
    finally:
        _stop(server_box[0])
    assert [c["arguments"] for c in json.loads(counts.read_text())] == [{"id": 10}]  # the restarted server's


def test_a_server_that_is_down_fails_at_once_with_a_clear_error():
    async def run():
        http = Client(limit=4)
        up = HttpUpstream("records", f"http://127.0.0.1:{free_port()}/mcp", 10.0, http)
        try:
            with pytest.raises(UpstreamFailure) as caught:
                await asyncio.wait_for(up.call_tool("read_record", {"id": 1}), 10)
            return str(caught.value)
        finally:
            await http.close()

    message = asyncio.run(run())
    assert message.startswith("MCP server records is unreachable")


def test_a_server_that_never_answers_times_out_instead_of_hanging():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) and never answers a byte

    async def run():
        http = Client(limit=4)
        up = HttpUpstream("slow", f"http://127.0.0.1:{listener.getsockname()[1]}/mcp", 0.5, http)
        try:
            with pytest.raises(UpstreamFailure) as caught:
                await asyncio.wait_for(up.list_tools(), 10)  # the outer bound only catches a hang
            return str(caught.value)
        finally:
            await http.close()

    try:
        assert asyncio.run(run()) == "MCP server slow did not answer within 0.5s"
    finally:
        listener.close()


def test_through_the_gateway_a_down_server_is_a_clear_tool_error_and_the_others_still_serve(tmp_path):
    port, counts = free_port(), tmp_path / "calls.json"
    server = _server(port, counts)
    gw = None
    try:
        gw = start_gateway({
            "admin_key": ADMIN, "server": {"access_log": False},
            "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
            "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
            "actions": {"enabled": True, "effects": {"records.read_record": "read", "down.read_record": "read"},
                        "policy_text": '@id("reads") permit (principal, action, resource) '
                                       'when { context.effect == "read" };',
                        "mcp_servers": {"records": {"url": f"http://127.0.0.1:{port}/mcp", "timeout_s": 5},
                                        "down": {"url": f"http://127.0.0.1:{free_port()}/mcp", "timeout_s": 2}}},
        })
        from procs import http
        raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "u"}).encode(), ADMIN_H)[2]
        gw.keys = {"any": json.loads(raw)["key"]}
        listed = mcp(gw, "any", lambda c: c.list_tools())
        assert [t.name for t in listed.tools] == ["records.read_record"]
        ok = mcp(gw, "any", lambda c: c.call_tool("records.read_record", {"id": 3}))
        assert not ok.is_error and json.loads(text(ok))["id"] == 3
        down = mcp(gw, "any", lambda c: c.call_tool("down.read_record", {"id": 3}))
        assert down.is_error and "MCP server down is unreachable" in text(down)
    finally:
        if gw is not None:
            gw.stop()
        _stop(server)
