"""Tool calls in model answers pass the action policies before the client sees them (through
real HTTP with the openai SDK, the simulator as the model): a denied call is never seen by the
client, complete or streamed, and reads as a refusal; an allowed one is untouched (the same as
from an alias without the check); an escalated one is held."""
from __future__ import annotations

import json

import openai
import pytest

from procs import http, start_gateway, start_simulator

ADMIN = "adm-toolcalls-test-91b2"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.tool == "agent.delete_records" };
"""
TOOLS = [{"type": "function", "function": {"name": name, "parameters": {
    "type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}
    for name in ("read_record", "update_record", "delete_records")]


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=5)
    target = [{"provider": "sim", "model": "gpt-4o-mini"}]
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "checked", "targets": target, "actions": {"tool_calls": True, "server": "agent"}},
                   {"name": "plain", "targets": target}],
        "actions": {"enabled": True, "policy_text": POLICIES,
                    "effects": {"agent.read_record": "read", "agent.update_record": "write"}},
    })
    _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "agent"}).encode(), ADMIN_H)
    gw.client = openai.OpenAI(base_url=gw.url + "/v1", api_key=json.loads(raw)["key"], max_retries=0)
    yield gw
    gw.stop()
    sim.stop()


def ask(gw, model, tool, stream=False):
    kw = dict(model=model, tools=TOOLS, messages=[{"role": "user", "content": f"please call {tool}"}])
    if not stream:
        return gw.client.chat.completions.create(**kw)
    calls, content, finish = {}, "", None
    for chunk in gw.client.chat.completions.create(stream=True, **kw):
        for ch in chunk.choices:
            d = ch.delta
            content += d.content or ""
            for tc in d.tool_calls or []:
                cur = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                cur["id"] = tc.id or cur["id"]
                cur["name"] += (tc.function.name or "") if tc.function else ""
                cur["arguments"] += (tc.function.arguments or "") if tc.function else ""
            finish = ch.finish_reason or finish
    return calls, content, finish


def test_an_allowed_call_is_untouched(stack):
    checked = ask(stack, "checked", "read_record")
    plain = ask(stack, "plain", "read_record")
    msg = checked.choices[0].message
    assert checked.choices[0].finish_reason == "tool_calls"
    assert msg.tool_calls[0].id.startswith("call_")  # ids are the simulator's draws, per request
    assert [(c.function.name, c.function.arguments) for c in msg.tool_calls] == [
        (c.function.name, c.function.arguments) for c in plain.choices[0].message.tool_calls]


def test_a_denied_call_is_never_seen_and_reads_as_a_refusal(stack):
    out = ask(stack, "checked", "update_record")
    msg = out.choices[0].message
    assert not msg.tool_calls and out.choices[0].finish_reason == "stop"
    assert "refused the tool call update_record" in msg.content
    assert ask(stack, "plain", "update_record").choices[0].message.tool_calls  # the model did ask


def test_an_escalated_call_is_held(stack):
    msg = ask(stack, "checked", "delete_records").choices[0].message
    assert not msg.tool_calls and "held the tool call delete_records" in msg.content


def test_streamed_allowed_calls_are_untouched(stack):
    calls, _, finish = ask(stack, "checked", "read_record", stream=True)
    plain, _, _ = ask(stack, "plain", "read_record", stream=True)
    strip = lambda cs: {i: {**c, "id": bool(c["id"])} for i, c in cs.items()}  # noqa: E731
    assert finish == "tool_calls" and strip(calls) == strip(plain) and calls[0]["name"] == "read_record"
    json.loads(calls[0]["arguments"])


def test_a_streamed_denied_call_is_never_seen(stack):
    calls, content, finish = ask(stack, "checked", "update_record", stream=True)
    assert calls == {} and finish == "stop" and "refused the tool call update_record" in content
