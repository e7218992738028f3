"""The MCP gateway end to end: a real MCP server (tests/mcp_records_server.py, the official
SDK, counting the calls it receives), a gateway process fronting it at /mcp, and the SDK's
client calling through the gateway with virtual keys. tools/list is filtered per key; an
allowed call passes; a denied one never reaches the server; a degraded one arrives rewritten
with the difference audited; an escalated delete waits and runs exactly once after approval."""
from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from procs import _env, free_port, http, start_gateway

ADMIN = "adm-mcp-test-3c9a"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
HERE = Path(__file__).parent

POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("ops-updates") permit (principal in Team::"ops", action, resource)
  when { context.tool == "records.update_record" };
@id("refunds-capped") @degrade("cap") @field("amount") @max("100")
permit (principal in Team::"ops", action, resource) when { context.tool == "records.refund" };
@id("deletes-need-approval") @escalate("approval")
permit (principal in Team::"ops", action, resource) when { context.effect == "delete" };
@id("night-deletes-expire-fast") @escalate("approval") @ttl("1")
permit (principal in Team::"night", action, resource) when { context.effect == "delete" };
"""


def _wait_port(port: int, proc, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the MCP server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the MCP server did not start")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    counts = tmp_path_factory.mktemp("mcp") / "calls.json"
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "mcp_records_server.py"), str(port), str(counts)],
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        _wait_port(port, server)
        gw = start_gateway({
            "admin_key": ADMIN, "server": {"access_log": False},
            "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
            "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
            "governance": {"audit": {"flush_interval_s": 0.05}},
            "actions": {"enabled": True, "policy_text": POLICIES, "mcp_wait_s": 20,
                        "effects": {"records.update_record": "write", "records.refund": "write",
                                    "records.delete_records": "delete", "records.read_record": "read"},
                        "mcp_servers": {"records": {"url": f"http://127.0.0.1:{port}/mcp"}}},
        })
        for team in ("ops", "guests", "night"):
            assert http("POST", gw.url + "/admin/teams", json.dumps({"id": team}).encode(), ADMIN_H)[0] == 201
        gw.keys = {}
        for team in ("ops", "guests", "night"):
            _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": f"u-{team}", "team": team}).encode(),
                             ADMIN_H)
            gw.keys[team] = json.loads(raw)["key"]
        gw.calls = lambda: json.loads(counts.read_text())
        cfg = open(gw.proc.args[gw.proc.args.index("--config") + 1]).read()
        gw.db = cfg.split("sqlite:///", 1)[1].split()[0]
        yield gw
        gw.stop()
    finally:
        server.terminate()
        server.wait(10)


async def _session(gw, team, fn):
    headers = {"authorization": f"Bearer {gw.keys[team]}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http_client:
        async with Client(streamable_http_client(gw.url + "/mcp", http_client=http_client)) as client:
            return await fn(client)


def mcp(gw, team, fn):
    return asyncio.run(_session(gw, team, fn))


def text(result) -> str:
    return result.content[0].text


def test_tools_list_is_filtered_per_key(stack):
    ops = mcp(stack, "ops", lambda c: c.list_tools())
    guests = mcp(stack, "guests", lambda c: c.list_tools())
    assert sorted(t.name for t in ops.tools) == ["records.delete_records", "records.read_record",
                                                  "records.refund", "records.update_record"]
    assert [t.name for t in guests.tools] == ["records.read_record"]


def test_an_allowed_call_passes_and_a_denied_one_never_arrives(stack):
    before = len(stack.calls())
    got = mcp(stack, "guests", lambda c: c.call_tool("records.read_record", {"id": 4}))
    assert not got.is_error and json.loads(text(got))["id"] == 4
    assert stack.calls()[-1] == {"tool": "read_record", "arguments": {"id": 4}}
    denied = mcp(stack, "guests", lambda c: c.call_tool("records.update_record", {"id": 4, "name": "x"}))
    assert denied.is_error and "refused" in text(denied)
    assert len(stack.calls()) == before + 1  # the update never reached the server


def test_a_degraded_call_arrives_rewritten_and_the_difference_is_audited(stack):
    got = mcp(stack, "ops", lambda c: c.call_tool("records.refund", {"order": "o-1", "amount": 750}))
    assert not got.is_error
    assert stack.calls()[-1] == {"tool": "refund", "arguments": {"order": "o-1", "amount": 100}}
    for _ in range(100):
        rows = sqlite3.connect(stack.db).execute(
            "SELECT detail, request_id FROM audit_log WHERE kind='action' AND outcome='degrade'").fetchall()
        if rows:
            break
        time.sleep(0.1)
    detail = json.loads(rows[-1][0])
    assert detail["diff"] == [{"policy": "refunds-capped", "field": "amount", "from": 750, "to": 100}]
    assert rows[-1][1]  # the HTTP request's id, to find the call's record from its log line


def test_an_escalated_delete_waits_and_runs_exactly_once_after_approval(stack):
    before = len(stack.calls())
    result: dict = {}

    def call():
        result["r"] = mcp(stack, "ops", lambda c: c.call_tool("records.delete_records", {"ids": [1, 2]}))

    t = threading.Thread(target=call)
    t.start()
    pending = []
    for _ in range(200):
        _, _, raw = http("GET", stack.url + "/admin/approvals?status=pending", None, ADMIN_H)
        pending = json.loads(raw)["data"]
        if pending:
            break
        time.sleep(0.05)
    assert len(pending) == 1 and pending[0]["tool"] == "records.delete_records"
    assert len(stack.calls()) == before  # waiting: nothing reached the server
    aid = pending[0]["id"]
    body = json.dumps({"reason": "cleanup ticket", "approver": "bob"}).encode()
    assert http("POST", stack.url + f"/admin/approvals/{aid}/approve", body, ADMIN_H)[0] == 200
    t.join(30)
    assert not result["r"].is_error and json.loads(text(result["r"])) == {"deleted": [1, 2]}
    assert http("POST", stack.url + f"/admin/approvals/{aid}/approve", body, ADMIN_H)[0] == 409  # second approve
    replay = mcp(stack, "ops", lambda c: c.call_tool("records.delete_records",
                                                     {"ids": [1, 2], "_seawall_approval_id": aid}))
    assert replay.is_error and "executed" in text(replay)
    changed = mcp(stack, "ops", lambda c: c.call_tool("records.delete_records",
                                                      {"ids": [1, 2, 3], "_seawall_approval_id": aid}))
    assert changed.is_error and "another action" in text(changed)
    deletes = [c for c in stack.calls()[before:] if c["tool"] == "delete_records"]
    assert deletes == [{"tool": "delete_records", "arguments": {"ids": [1, 2]}}]  # exactly once


def test_an_expired_approval_is_refused(stack):
    before = len(stack.calls())
    out = mcp(stack, "night", lambda c: c.call_tool("records.delete_records", {"ids": [7]}))  # waits 1 s: expires
    assert out.is_error and "expired" in text(out)
    _, _, raw = http("GET", stack.url + "/admin/approvals?status=expired", None, ADMIN_H)
    aid = next(a["id"] for a in json.loads(raw)["data"] if a["request"]["arguments"] == {"ids": [7]})
    body = json.dumps({"reason": "too late", "approver": "bob"}).encode()
    assert http("POST", stack.url + f"/admin/approvals/{aid}/approve", body, ADMIN_H)[0] == 409
    late = mcp(stack, "night", lambda c: c.call_tool("records.delete_records",
                                                     {"ids": [7], "_seawall_approval_id": aid}))
    assert late.is_error and "expired" in text(late)
    assert len(stack.calls()) == before  # nothing reached the server


def test_a_stdio_upstream_is_started_by_seawall_and_served_the_same_way(tmp_path):
    counts = tmp_path / "stdio-calls.json"
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": "http://127.0.0.1:9/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
        "actions": {"enabled": True, "policy_text": POLICIES,
                    "effects": {"local.read_record": "read"},
                    "mcp_servers": {"local": {"command": sys.executable,
                                              "args": [str(HERE / "mcp_records_server.py"), "stdio", str(counts)],
                                              "env": {"PYTHONPATH": _env()["PYTHONPATH"]}}}},
    })
    try:
        _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "solo"}).encode(), ADMIN_H)
        gw.keys = {"solo": json.loads(raw)["key"]}
        listed = mcp(gw, "solo", lambda c: c.list_tools())
        assert [t.name for t in listed.tools] == ["local.read_record"]
        got = mcp(gw, "solo", lambda c: c.call_tool("local.read_record", {"id": 8}))
        assert json.loads(text(got))["id"] == 8
        denied = mcp(gw, "solo", lambda c: c.call_tool("local.delete_records", {"ids": [8]}))
        assert denied.is_error
        assert json.loads(counts.read_text()) == [{"tool": "read_record", "arguments": {"id": 8}}]
    finally:
        gw.stop()
