"""PII and secret detection, per-entity actions and reversible tokenization (no ML model needed)."""
from __future__ import annotations

import json

import pytest

from seawall.core.errors import GatewayError
from seawall.guard import Guard, GuardPolicy, StreamRestorer, TokenVault
from seawall.guard.pii import FastPII, iban_ok, luhn_ok, ssn_ok
from seawall.guard.secrets import FastSecrets

POLICY = GuardPolicy(injection_enabled=False)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in FastPII().analyze(text)]


def test_validators():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    assert iban_ok("GB82WEST12345698765432")
    assert ssn_ok("536221234") and not ssn_ok("666221234") and not ssn_ok("536001234")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("write to jane.doe+x@corp.example.co.uk today", ("EMAIL_ADDRESS", "jane.doe+x@corp.example.co.uk")),
        ("card 4111 1111 1111 1111 please", ("CREDIT_CARD", "4111 1111 1111 1111")),
        ("IBAN DE89 3704 0044 0532 0130 00 and more", ("IBAN_CODE", "DE89 3704 0044 0532 0130 00")),
        ("iban gb82-west-1234-5698-7654-32", ("IBAN_CODE", "gb82-west-1234-5698-7654-32")),
        ("my ssn is 536-22-1234", ("US_SSN", "536-22-1234")),
        ("call +44 20 7946 0958 now", ("PHONE_NUMBER", "+44 20 7946 0958")),
        ("ring 06 12 34 56 78 tomorrow", ("PHONE_NUMBER", "06 12 34 56 78")),
        ("client 84.23.112.9 keeps timing out", ("IP_ADDRESS", "84.23.112.9")),
        ("host 2a00:1450:4001:82b::200e up", ("IP_ADDRESS", "2a00:1450:4001:82b::200e")),
        ("ship to 123 Main St, Apt 4 soon", ("STREET_ADDRESS", "123 Main St, Apt 4")),
        ("wohnt in der Hauptstraße 5, Berlin", ("STREET_ADDRESS", "Hauptstraße 5")),
    ],
)
def test_fast_pii_finds(text, expected):
    assert expected in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        # unlabeled: the checksum decides (labeled values are kept, see test_guard_pii_labeled.py)
        "got 4111 1111 1111 1112, fails Luhn",
        "ref DE89 3704 0044 0532 0130 01 fails mod-97",
        "code 666-22-1234 is not a valid area",
        "python 3.11.7 released in 2023 with 12 fixes",
        "order number 12345678",
        "meeting at 12:30:45",
        "build 2024.1234 costs 12543.2100 EUR",  # decimal numbers, not dotted phones
        # loopback and documentation addresses name no host (private ones map the internal
        # network and count: tests/test_pii_chat.py)
        "dns 127.0.0.53 answers on the loopback",
        "host 2001:db8::ff00:42:8329 and 203.0.113.7 in the example",
    ],
)
def test_fast_pii_rejects_lookalikes(text):
    assert [k for k in kinds(text) if k[0] != "DATE_TIME"] == []  # times and dates: allowed, pii_places.py


@pytest.mark.parametrize(
    "text,kind",
    [
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY"),
        ("id AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----", "PRIVATE_KEY"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JWT"),
        ("DATABASE_URL=postgresql://app:s3cr3tPass@db.internal:5432/prod", "CONNECTION_STRING_PASSWORD"),
        ("Server=db;User Id=sa;Password=hunter22x;", "CONNECTION_STRING_PASSWORD"),
        ("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx1234", "OPENAI_API_KEY"),
        ("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "ANTHROPIC_API_KEY"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GITHUB_TOKEN"),
        ("slack xoxb-123456789012-abcdefghijkl", "SLACK_TOKEN"),
    ],
)
def test_fast_secrets_finds(text, kind):
    assert kind in [s.kind for s in FastSecrets().analyze(text)]


@pytest.mark.parametrize(
    "text",
    ["see https://example.com/docs", "postgres://user:${PASS}@host/db", "a task-based approach", "the secret to good bread"],
)
def test_fast_secrets_ignores_benign(text):
    assert FastSecrets().analyze(text) == []


async def test_secret_blocks_and_message_never_echoes_value():
    secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"
    d = await Guard().check_input({"messages": [{"role": "user", "content": f"use {secret} please"}]}, POLICY)
    assert not d.allowed and d.code == "guard_blocked"
    assert secret not in d.reason and "anthropic api key" in d.reason
    assert secret not in json.dumps(d.findings)
    with pytest.raises(GatewayError) as ei:
        d.raise_if_blocked()
    assert ei.value.code == "guard_blocked" and ei.value.status == 400


async def test_per_entity_actions():
    pol = GuardPolicy(
        injection_enabled=False,
        pii_actions={"EMAIL_ADDRESS": "mask", "CREDIT_CARD": "redact", "PHONE_NUMBER": "allow", "US_SSN": "tokenize"},
    )
    text = "mail bob@example.org card 4111 1111 1111 1111 tel +44 20 7946 0958 ssn 536-22-1234"
    d = await Guard().check_input({"messages": [{"role": "user", "content": text}]}, pol)
    out = d.request["messages"][0]["content"]
    assert d.allowed and d.rewritten
    assert "bob@example.org" not in out and ".org" in out and "***" in out  # masked, tail kept
    assert "[CREDIT_CARD]" in out and "4111" not in out
    assert "+44 20 7946 0958" in out  # allowed
    assert "<US_SSN_1>" in out and d.vault.original("<US_SSN_1>") == "536-22-1234"
    assert d.sensitive_kinds == {"EMAIL_ADDRESS", "CREDIT_CARD", "PHONE_NUMBER", "US_SSN"}
    # the caller's request is never mutated
    assert text == "mail bob@example.org card 4111 1111 1111 1111 tel +44 20 7946 0958 ssn 536-22-1234"


async def test_pii_block_action():
    pol = GuardPolicy(injection_enabled=False, pii_actions={"US_SSN": "block"})
    d = await Guard().check_input({"messages": [{"role": "user", "content": "ssn 536-22-1234"}]}, pol)
    assert not d.allowed and d.code == "guard_blocked" and "536" not in d.reason


async def test_sensitivity_routing_tags():
    pol = GuardPolicy(injection_enabled=False, sensitive_kinds_route_to_tags={"IBAN_CODE": ["self_hosted", "eu"]})
    d = await Guard().check_input({"messages": [{"role": "user", "content": "pay DE89 3704 0044 0532 0130 00"}]}, pol)
    assert d.allowed and d.required_tags == ["self_hosted", "eu"]
    d2 = await Guard().check_input({"messages": [{"role": "user", "content": "hello"}]}, pol)
    assert d2.required_tags == []


async def test_size_limits():
    pol = GuardPolicy(injection_enabled=False, max_input_chars=10)
    d = await Guard().check_input({"messages": [{"role": "user", "content": "x" * 11}]}, pol)
    assert not d.allowed and d.code == "request_too_large"


# ---------------------------------------------------------------- reversible tokenization


async def test_tokenize_round_trip_through_tool_call_arguments():
    guard = Guard()
    args = json.dumps({"to": "jane.o'neil@acme.com", "note": "call +44 20 7946 0958"})
    req = {
        "messages": [
            {"role": "user", "content": "Email jane.o'neil@acme.com please"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "send", "arguments": args}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "queued"},
        ]
    }
    d = await guard.check_input(req, POLICY)
    upstream = json.dumps(d.request)
    assert "acme.com" not in upstream and "7946" not in upstream
    sent_args = json.loads(d.request["messages"][1]["tool_calls"][0]["function"]["arguments"])
    assert sent_args["to"] == "<EMAIL_ADDRESS_1>"  # same value -> same placeholder everywhere

    # the model answers with a tool call that uses the placeholders
    resp = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Sending to <EMAIL_ADDRESS_1>.",
                    "tool_calls": [
                        {"id": "c2", "type": "function", "function": {"name": "send", "arguments": '{"to": "<EMAIL_ADDRESS_1>", "tel": "<PHONE_NUMBER_1>"}'}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    out = guard.output_filter(POLICY, d.vault, req).filter_response(resp)
    msg = out["choices"][0]["message"]
    assert msg["content"] == "Sending to jane.o'neil@acme.com."
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == {"to": "jane.o'neil@acme.com", "tel": "+44 20 7946 0958"}


def test_stream_restorer_placeholder_split_across_chunks():
    v = TokenVault()
    tok = v.tokenize("PERSON", "Ada Lovelace")
    assert tok == "<PERSON_1>"
    r = StreamRestorer(v)
    pieces = ["Dear <", "PERS", "ON_", "1", "> and <NOT_A_TOKEN_9> bye <"]
    out = "".join(r.feed(p) for p in pieces) + r.finish()
    assert out == "Dear Ada Lovelace and <NOT_A_TOKEN_9> bye <"


def test_stream_restorer_json_mode_escapes():
    v = TokenVault()
    v.tokenize("PERSON", 'Bob "the" Builder')
    r = StreamRestorer(v, json_mode=True)
    out = r.feed('{"name": "<PER') + r.feed('SON_1>"}') + r.finish()
    assert json.loads(out) == {"name": 'Bob "the" Builder'}


def _chunk(content=None, tool_args=None, finish=None):
    delta = {}
    if content is not None:
        delta["content"] = content
    if tool_args is not None:
        delta["tool_calls"] = [{"index": 0, "function": {"arguments": tool_args}}]
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def test_tokenize_round_trip_through_streamed_response():
    guard = Guard()
    req = {"messages": [{"role": "user", "content": "Write to ada@example.com about invoice 7"}]}
    d = await guard.check_input(req, POLICY)
    assert d.request["messages"][0]["content"] == "Write to <EMAIL_ADDRESS_1> about invoice 7"
    of = guard.output_filter(POLICY, d.vault, req)
    stream = [_chunk("Sure, I will write to <EMAIL"), _chunk("_ADDRESS_1> now. "), _chunk("Done", finish=None), _chunk("", finish="stop")]
    text = "".join(of.filter_chunk(c)["choices"][0]["delta"].get("content") or "" for c in stream)
    assert of.finish() == []
    assert text == "Sure, I will write to ada@example.com now. Done"

    # tool-call arguments streamed in fragments, placeholder split between them
    of = guard.output_filter(POLICY, d.vault, req)
    frags = ['{"to": "<EMAIL_AD', 'DRESS_1>", "subject": "hi"}']
    got = ""
    for f in frags:
        for tc in of.filter_chunk(_chunk(tool_args=f))["choices"][0]["delta"].get("tool_calls", []):
            got += tc["function"]["arguments"]
    for tc in of.filter_chunk(_chunk(finish="tool_calls"))["choices"][0]["delta"].get("tool_calls", []):
        got += tc["function"]["arguments"]
    assert json.loads(got) == {"to": "ada@example.com", "subject": "hi"}
