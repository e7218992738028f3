"""Passwords and credentials written in prose, names, and e-mail addresses in angle brackets."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.types import Span
from pii_util import found  # noqa: E402

POLICY = GuardPolicy(injection_enabled=False)


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my password is hunter2", ("PASSWORD", "hunter2")),
        ("pwd: x9!kQ", ("PASSWORD", "x9!kQ")),
        ('the wifi password is "Blue Fox 42"', ("PASSWORD", "Blue Fox 42")),
        ("contraseña: Segura#2024", ("PASSWORD", "Segura#2024")),
        ("hasło: Tajne123", ("PASSWORD", "Tajne123")),
        ("PIN: 4821", ("PASSWORD", "4821")),
        ("login: alice pass: Winter2024!", ("PASSWORD", "Winter2024!")),  # bare "pass" before ":" / "="
        ("the api key is a8f5f167f44f4964e6c998dee827110c", ("CREDENTIAL", "a8f5f167f44f4964e6c998dee827110c")),
    ],
)
def test_prose_credentials_found(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "my password is incorrect",
        "the password features are new",
        "set the password (using the old one)",
        "Your PIN is required",
        'We can read the "token" as both an "anchor" and a key',
        "you pass the test when 3 of 4 checks pass",
        "the pass rate was 82% in 2024",
    ],
)
def test_talk_about_passwords_is_not_a_password(text):
    assert [f for f in found(text) if f[0] != "DATE_TIME"] == []  # "in 2024" is a date, allowed


async def test_prose_password_is_redacted_not_blocked_and_never_reported():
    d = await Guard().check_input(chat("I can't log in, my password is Hunter2!x, what now?"), POLICY)
    assert d.allowed
    forwarded = d.request["messages"][0]["content"]
    assert "Hunter2!x" not in forwarded and "[PASSWORD]" in forwarded
    assert {"detector": "pii", "kind": "PASSWORD", "action": "redact", "source": "user", "count": 1} in d.findings
    assert "Hunter2" not in repr(d.findings)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Please ask Maria Kowalska to call", "Maria Kowalska"),
        ("Dr. Ernesto Rivera called", "Ernesto Rivera"),
        ("Feng Haoran: I am here", "Feng Haoran"),
        ("Nombre: Ernesto.", "Ernesto"),
        ("Wniosek Anny Kowalskiej poddano pod głosowanie", "Anny Kowalskiej"),
        ("my name is Aantje", "Aantje"),
        ("Tell Jan the report is late", "Jan"),
        ("Tomasz Kaczmarek wrote it. Later Kaczmarek said no.", "Kaczmarek"),
        # a first name that is also an everyday word or a place, named by its bearer
        ("Hi, I'm Sofia. My phone is broken", "Sofia"),
        ("My name is Will and I need help", "Will"),
        ("I am Grace from accounting", "Grace"),
    ],
)
def test_names_found_without_ner(text, expected):
    assert ("PERSON", expected) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Say access granted",
        "Will you review the Art Museum plan?",
        "We flew to New York in May 2024",
        "Hospital Universitario La Paz",
        "Hope this helps",
        "This is Paris in spring",
        "It is May already",
        "No, I am Sure it is fine",
    ],
)
def test_capitalised_words_that_are_not_names(text):
    assert [k for k, _ in found(text) if k == "PERSON"] == []


async def test_names_are_tokenized_by_default_and_restored():
    d = await Guard().check_input(chat("Please send the contract to Maria Kowalska today."), POLICY)
    forwarded = d.request["messages"][0]["content"]
    assert "Maria Kowalska" not in forwarded and "<PERSON_1>" in forwarded
    assert d.vault.restore(forwarded) == "Please send the contract to Maria Kowalska today."


async def test_email_in_angle_brackets_is_masked_and_recorded():
    text = "From: Jane Doe <jane@example.com>\nTo: <bob.smith@corp.example>"
    d = await Guard().check_input(chat(text), POLICY)
    forwarded = d.request["messages"][0]["content"]
    assert "jane@example.com" not in forwarded and "bob.smith@corp.example" not in forwarded
    assert "<<EMAIL_ADDRESS_1>>" in forwarded
    assert {"detector": "pii", "kind": "EMAIL_ADDRESS", "action": "tokenize", "source": "user", "count": 2} in d.findings
    assert d.vault.restore(forwarded) == text


class _NerThatSeesPlaceholders:
    """NER runs after the pattern path: it must not re-tokenize our own placeholders."""

    loaded = True

    def analyze(self, text):
        i = text.find("EMAIL_ADDRESS_1")
        return [Span("ORGANIZATION", i, i + len("EMAIL_ADDRESS_1"), 0.9, "ner")] if i >= 0 else []


async def test_spans_inside_our_placeholders_are_skipped():
    policy = POLICY.model_copy(update={"pii_ner": True, "pii_actions": {**POLICY.pii_actions, "ORGANIZATION": "redact"}})
    d = await Guard(ner=_NerThatSeesPlaceholders()).check_input(chat("write to jane@example.com"), policy)
    forwarded = d.request["messages"][0]["content"]
    assert forwarded == "write to <EMAIL_ADDRESS_1>"
    assert d.vault.restore(forwarded) == "write to jane@example.com"
