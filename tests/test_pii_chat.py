"""Informal chat and machine text in English (issue 14, fourth probe round): names after chat
cues and sign-offs, log handles and mentions, lower-case addresses, header-less CSV rows, and
the private-IP policy. Everyday words that are names too stay words."""
from __future__ import annotations

import asyncio

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII, phone_ok


def found(text: str, kind: str | None = None) -> list[str]:
    return [text[s.start : s.end] for s in FastPII().analyze(text) if kind is None or s.kind == kind]


@pytest.mark.parametrize("text,name", [
    ("this is sarah from accounts, can you reset my access", "sarah"),
    ("my name's priya and i need help with billing", "priya"),
    ("yo it's jess. the app keeps crashing", "jess"),
    ("can someone check my refund?\nthanks,\nrachel", "rachel"),
    ("ok will try again later - tom", "tom"),
    ("please call me back asap. regards tom hughes", "tom hughes"),
    ("hi team, amir here. my laptop is slow", "amir"),
    ("my wife jenny's number changed", "jenny"),
    ("Can you pull up the account for chris evans?", "chris evans"),
])
def test_names_after_chat_cues(text, name):
    assert name in found(text, "PERSON")


@pytest.mark.parametrize("text", [
    "i will mark the task done and bill the client",
    "summer sale starts in may, rose prices up",
    "to be frank the build is slow",
    "thanks, that worked!",
    "it's fine, this is normal here",
    "cheers for the quick fix",
])
def test_everyday_words_stay(text):
    assert found(text) == []


@pytest.mark.parametrize("text,handle", [
    ("2024-05-01T10:22:13Z INFO login ok user=jdoe ip=203.0.113.7", "jdoe"),
    ("WARN auth failed for user 'kwalker' from 198.51.100.23", "kwalker"),
    ("Backup job run by user kvandijk at night", "kvandijk"),
    ("sshd[2231]: Accepted password for rpatel from 172.16.8.21 port 52144", "rpatel"),
    ("pinging @rbrown - the deploy is blocked", "rbrown"),
    ("cc @mark.wilson and @s.patel on this thread", "s.patel"),
])
def test_handles(text, handle):
    assert handle in found(text, "USERNAME")


@pytest.mark.parametrize("text", [
    "@pytest.fixture\ndef client():\n    return make()",
    "the user experience got better for every user",
    "notify @here when the deploy is done",
    "a C++ program that asks for user input",
    "a function that takes an array of user objects",
    "const user = req.body; const other = exampleUsers[0]",
])
def test_not_handles(text):
    assert found(text, "USERNAME") == []


@pytest.mark.parametrize("text,parts", [
    ("i live at 42 elm st apt 3b springfield il 62704", ["42 elm st apt 3b", "il 62704"]),
    ("ship it to 10 downing st, london", ["10 downing st"]),
    ("my place is 18 maple drive, austin tx 78701, ring twice", ["18 maple drive", "tx 78701"]),
])
def test_lower_case_addresses(text, parts):
    got = " | ".join(found(text, "STREET_ADDRESS"))
    assert all(p in got for p in parts), got


def test_state_words_need_a_comma():
    assert found("we waited in 12345 ms loops", "STREET_ADDRESS") == []


def test_csv_row_without_header():
    text = "Rebecca,Morris,rmorris@outlook.com,555-201-3344"
    people = " ".join(found(text, "PERSON"))
    assert "Rebecca" in people and "Morris" in people
    people = " ".join(found("1043;Hans;Weber;hans.weber@gmx.de;1984-03-09", "PERSON"))
    assert "Hans" in people and "Weber" in people
    assert "12 River Rd" in " ".join(found("jlopez,Jorge Lopez,12 River Rd,Tampa,FL,33602", "STREET_ADDRESS"))


def test_company_and_city_leftovers():
    text = "Partita IVA 01234567890, ragione sociale Rossi Srl, sede Corso Buenos Aires 1, Milano"
    assert found(text, "PERSON") == []
    assert "Corso Buenos Aires 1" in found(text, "STREET_ADDRESS")


def test_private_ip_is_an_ip_not_a_phone():
    assert not phone_ok("192.168.10.45")
    assert found("Server login from 192.168.10.45 by user kvandijk", "IP_ADDRESS") == ["192.168.10.45"]
    assert found("ping 127.0.0.1 and 0.0.0.0", "IP_ADDRESS") == []  # the same on every network
    assert found("server 10.0.0.1 is down, gateway 192.168.1.254", "IP_ADDRESS") == ["10.0.0.1", "192.168.1.254"]
    assert found("test host 192.0.2.61 and 2001:db8::1:2:3 in the docs", "IP_ADDRESS") == []  # documentation ranges


def _forward(text: str, **policy) -> str:
    d = asyncio.run(Guard().check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, GuardPolicy(**policy)))
    assert d.allowed
    return d.request["messages"][0]["content"]


def test_private_ip_switch():
    text = "the db at 10.0.4.17 and the proxy at 81.2.69.142 are down"
    assert "10.0.4.17" not in _forward(text)
    kept = _forward(text, pii_private_ips=False)
    assert "10.0.4.17" in kept and "81.2.69.142" not in kept


@pytest.mark.parametrize("text,value,kind", [
    ('{"dateOfBirth": "1990-01-02"}', "1990-01-02", "DATE_OF_BIRTH"),
    ('{"accountNumber": "12345678"}', "12345678", "BANK_ACCOUNT"),
    ('{"driverLicense": "D1234567"}', "D1234567", "DRIVER_LICENSE"),
    ("{'zip_code': '33101'}", "33101", "STREET_ADDRESS"),
    ('{"first_name": "chloe"}', "chloe", "PERSON"),
    ("callback?first_name=Ivan&last_name=Petrov", "Petrov", "PERSON"),
    ('{"licensePlate": "7ABC123"}', "7ABC123", "LICENSE_PLATE"),
])
def test_machine_keys(text, value, kind):
    assert value in found(text, kind)


@pytest.mark.parametrize("text", [
    '{"firstName": null, "phone": get_phone()}',
    "if zip == 5: pass",
    "street=Main",  # a bare word outside a query string or quotes
    "the motor sees 380 divided by the square root of 3",
    "Use the @lru_cache decorator; the post by @FashionInsider went to @kanal_roboczy_733",
])
def test_machine_key_and_prose_lookalikes(text):
    assert [s.kind for s in FastPII().analyze(text) if s.kind not in ("DATE_TIME", "LOCATION")] == []
