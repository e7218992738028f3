"""Escalated tool calls in model answers, through real HTTP with the official openai and
anthropic SDKs (the simulator as the model): the call is held as an approval the agent can
read ("pending approval <id>"); after a person approves, the same call in the same
conversation is released on the client's next attempt, once; a denial reads as a refusal, an
edit releases the approver's arguments, and another conversation is not released. Chat
completions, Responses and Anthropic Messages, streamed and not."""
from __future__ import annotations

import json
import re
import sqlite3
import time

import anthropic
import openai
import pytest

from procs import http, start_gateway, start_simulator

ADMIN = "adm-held-test-4c0a"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
POLICIES = """
@id("reads") permit (principal, action, resource) when { context.effect == "read" };
@id("deletes-need-approval") @escalate("approval")
permit (principal, action, resource) when { context.tool == "agent.delete_records" };
@id("purges-approved-briefly") @escalate("approval") @ttl("2")
permit (principal, action, resource) when { context.tool == "agent.purge_records" };
"""
SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
NAMES = ("read_record", "update_record", "delete_records", "purge_records")
PENDING = re.compile(r"pending approval (apr_[0-9a-f]+)")


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=9)
    target = [{"provider": "sim", "model": "gpt-4o-mini"}]
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "checked", "targets": target, "actions": {"tool_calls": True, "server": "agent"}},
                   {"name": "plain", "targets": target}],
        "jobs": {"enabled": True, "workers": 1, "poll_s": 0.1},  # /v1/responses
        "governance": {"audit": {"flush_interval_s": 0.05}},
        "actions": {"enabled": True, "policy_text": POLICIES,
                    "effects": {"agent.read_record": "read", "agent.update_record": "write"}},
    })
    _, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"user": "agent"}).encode(), ADMIN_H)
    key = json.loads(raw)["key"]
    gw.openai = openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0)
    gw.anthropic = anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0)
    yield gw
    gw.stop()
    sim.stop()


# ---- one attempt per surface: -> ([(tool name, arguments)], text) ----------------------------

def chat(gw, prompt, stream, history=(), model="checked"):
    kw = dict(model=model, messages=[{"role": "user", "content": prompt}, *history],
              tools=[{"type": "function", "function": {"name": n, "parameters": SCHEMA}} for n in NAMES])
    if not stream:
        msg = gw.openai.chat.completions.create(**kw).choices[0].message
        return [(c.function.name, json.loads(c.function.arguments)) for c in msg.tool_calls or []], msg.content or ""
    calls, text = {}, ""
    for chunk in gw.openai.chat.completions.create(stream=True, **kw):
        for ch in chunk.choices:
            text += ch.delta.content or ""
            for tc in ch.delta.tool_calls or []:
                cur = calls.setdefault(tc.index, ["", ""])
                cur[0] += tc.function.name or ""
                cur[1] += tc.function.arguments or ""
    return [(n, json.loads(a)) for n, a in calls.values()], text


def responses(gw, prompt, stream, model="checked"):
    kw = dict(model=model, input=prompt,
              tools=[{"type": "function", "name": n, "parameters": SCHEMA} for n in NAMES])
    if not stream:
        out = gw.openai.responses.create(**kw)
    else:
        out = None
        for event in gw.openai.responses.create(stream=True, **kw):
            if event.type == "response.completed":
                out = event.response
    calls = [(i.name, json.loads(i.arguments)) for i in out.output if i.type == "function_call"]
    text = "".join(c.text for i in out.output if i.type == "message" for c in i.content if c.type == "output_text")
    return calls, text


def messages(gw, prompt, stream, model="checked"):
    kw = dict(model=model, max_tokens=300, messages=[{"role": "user", "content": prompt}],
              tools=[{"name": n, "input_schema": SCHEMA} for n in NAMES])
    if not stream:
        msg = gw.anthropic.messages.create(**kw)
    else:
        with gw.anthropic.messages.stream(**kw) as s:
            msg = s.get_final_message()
    calls = [(b.name, b.input) for b in msg.content if b.type == "tool_use"]
    return calls, "".join(b.text for b in msg.content if b.type == "text")


SURFACES = [(f, s) for f in (chat, responses, messages) for s in (False, True)]


def decide(gw, aid, verb, **extra):
    return http("POST", gw.url + f"/admin/approvals/{aid}/{verb}",
                json.dumps({"reason": "ticket 7", "approver": "rita", **extra}).encode(), ADMIN_H)


def approval(gw, aid):
    return json.loads(http("GET", gw.url + f"/admin/approvals/{aid}", None, ADMIN_H)[2])


@pytest.mark.parametrize("ask,stream", SURFACES, ids=[f"{f.__name__}-{'stream' if s else 'complete'}"
                                                      for f, s in SURFACES])
def test_a_held_call_is_released_once_after_approval(stack, ask, stream):
    prompt = f"please call delete_records ({ask.__name__}, stream={stream})"
    calls, text = ask(stack, prompt, stream)
    assert calls == [] and (m := PENDING.search(text)), text  # held: never seen, an approval named
    aid = m.group(1)
    view = approval(stack, aid)
    assert view["status"] == "pending" and view["tool"] == "agent.delete_records"
    calls, text = ask(stack, prompt, stream)  # before a decision: the same approval, still pending
    assert calls == [] and PENDING.search(text).group(1) == aid
    assert decide(stack, aid, "approve")[0] == 200
    calls, text = ask(stack, prompt, stream)  # the next attempt: released, untouched
    assert calls == [("delete_records", view["request"]["arguments"])] and not PENDING.search(text)
    assert approval(stack, aid)["status"] == "executed"
    calls, text = ask(stack, prompt, stream)  # single use: the next one waits for a new approval
    assert calls == [] and (m := PENDING.search(text)) and m.group(1) != aid


def test_a_continued_conversation_gets_the_call_and_another_does_not(stack):
    prompt = "please call delete_records (a conversation that goes on)"
    calls, text = chat(stack, prompt, False)
    aid = PENDING.search(text).group(1)
    assert decide(stack, aid, "approve")[0] == 200
    other, text = chat(stack, "please call delete_records (another conversation)", False)
    assert other == [] and PENDING.search(text).group(1) != aid  # not this conversation's approval
    turn = [{"role": "assistant", "content": text}, {"role": "user", "content": "please call delete_records now"}]
    calls, _ = chat(stack, prompt, True, history=turn)  # the same opening, a later turn
    assert [n for n, _ in calls] == ["delete_records"]


def test_a_denied_approval_reads_as_a_refusal(stack):
    prompt = "please call delete_records (denied)"
    aid = PENDING.search(chat(stack, prompt, False)[1]).group(1)
    assert decide(stack, aid, "deny")[0] == 200
    for stream in (False, True):
        calls, text = chat(stack, prompt, stream)
        assert calls == [] and f"an approver denied it (approval {aid})" in text


def test_an_edited_approval_releases_the_approvers_arguments(stack):
    prompt = "please call delete_records (edited)"
    calls, text = messages(stack, prompt, False)
    aid = PENDING.search(text).group(1)
    status, _, raw = decide(stack, aid, "approve", arguments={"id": 4242})
    assert status == 200 and json.loads(raw)["verdict"] == "edit"
    calls, _ = messages(stack, prompt, True)
    assert calls == [("delete_records", {"id": 4242})]


def test_allowed_calls_pass_untouched_and_denied_ones_never_show(stack):
    for ask in (chat, responses, messages):
        for stream in (False, True):
            calls, _ = ask(stack, "please call read_record", stream)
            assert [n for n, _ in calls] == ["read_record"]
            assert calls == ask(stack, "please call read_record", stream, model="plain")[0]  # as without the check
            calls, text = ask(stack, "please call update_record", stream)
            assert calls == [] and "refused the tool call update_record" in text
            assert ask(stack, "please call update_record", stream, model="plain")[0]  # the model did ask


def test_every_step_of_a_held_call_is_audited(stack):
    prompt = "please call delete_records (audited)"
    aid = PENDING.search(chat(stack, prompt, False)[1]).group(1)
    chat(stack, prompt, False)  # still pending
    assert decide(stack, aid, "approve")[0] == 200
    chat(stack, prompt, False)  # released
    want = {"escalated", "held", "approved"}
    for _ in range(100):
        rows = sqlite3.connect(stack.db_path).execute(
            "SELECT outcome, detail FROM audit_log WHERE kind = 'action'").fetchall()
        mine = {r[0] for r in rows if json.loads(r[1]).get("approval_id") == aid}
        if want <= mine:
            break
        time.sleep(0.1)
    assert want <= mine and all(json.loads(r[1])["via"] == "model_answer" for r in rows
                                if json.loads(r[1]).get("approval_id") == aid)
    rows = sqlite3.connect(stack.db_path).execute(
        "SELECT user_id, detail FROM audit_log WHERE kind = 'action_approval'").fetchall()
    assert any(u == "rita" and json.loads(d)["approval_id"] == aid for u, d in rows)


def test_an_approval_that_expired_unused_releases_nothing(stack):
    prompt = "please call purge_records (expires)"
    aid = PENDING.search(chat(stack, prompt, False)[1]).group(1)
    assert decide(stack, aid, "approve")[0] == 200
    time.sleep(2.2)  # the policy's @ttl("2") passes before the agent tries again
    calls, text = chat(stack, prompt, True)
    assert calls == [] and (m := PENDING.search(text)) and m.group(1) != aid  # a new approval is needed
    assert approval(stack, aid)["status"] == "expired"
