"""Fast LOCATION and DATE_TIME detection (guard/pii_places.py): found, look-alikes left alone,
other kinds unchanged on overlap, reported but forwarded as written by default."""
from __future__ import annotations

import asyncio

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII
from seawall.guard.policy import DEFAULT_PII_ACTIONS

FAST = FastPII()


def found(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in FAST.analyze(text) if kind is None or s.kind == kind]


@pytest.mark.parametrize(
    "text, place",
    [
        ("We flew from Buenos Aires last week.", "Buenos Aires"),
        ("The plant is in North Rhine-Westphalia, near the border.", "North Rhine-Westphalia"),
        ("She moved to New York in the spring.", "New York"),
        ("Our office in Toronto, Ontario is closed.", "Ontario"),
        ("Shipping to Germany takes three days.", "Germany"),
        ("He grew up in Texas.", "Texas"),
        ("I'm visiting Paris, France next month.", "Paris"),
        ("Send it to our Tokyo branch.", "Tokyo"),
    ],
)
def test_places_found(text, place):
    assert ("LOCATION", place) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Reading is fun. Nice work! The Mobile team will Split the Bath budget.",
        "Male patients with Normal results; Independence Day sale.",
        "The Washington Post ran the story.",  # a place glued to another capitalised word
        "Victoria and Austin joined the call.",  # given names that are also cities
        "I drive a Toyota and read Batman comics.",  # brands and characters that are also cities
    ],
)
def test_place_look_alikes_not_found(text):
    assert found(text, "LOCATION") == []


@pytest.mark.parametrize(
    "text, date",
    [
        ("The call is on Tuesday, March 5, 2024 at 3 pm.", "Tuesday, March 5, 2024 at 3 pm"),
        ("Deadline: the 5th of March.", "5th of March"),
        ("Let's meet at 14:30 tomorrow.", "14:30"),
        ("Released 2024-01-15 09:00:27 to everyone.", "2024-01-15 09:00:27"),
        ("Invoice dated 12.03.2024 is unpaid.", "12.03.2024"),
        ("Visit on 6/24/1991 was noted.", "6/24/1991"),
        ("She has worked here since 2019.", "2019"),
        ("See you on Friday.", "Friday"),
        ("Contract renewal due 30 June.", "30 June"),
    ],
)
def test_dates_found(text, date):
    assert ("DATE_TIME", date) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade to v1.2.3 or 2.10.4 before Monday_release.",  # versions
        "Revenue grew 12% to 4.3 million; costs were $1,250.50.",  # amounts
        "The final score was 3:1 and then 2-1.",  # scores
        "Order 12/34/5678 shipped; ticket 2024-99-99 is invalid.",  # order ids, impossible dates
        "We sold 2020 units and hired 1998 people.",  # counts that look like years
    ],
)
def test_date_look_alikes_not_found(text):
    assert found(text, "DATE_TIME") == []


def test_existing_kinds_win_on_overlap():
    text = "Born 04/12/1985, lives at 12 Main Street, Springfield, IL 62704. Card exp 12/25."
    kinds = found(text)
    assert ("DATE_OF_BIRTH", "04/12/1985") in kinds
    assert ("CARD_EXPIRY", "12/25") in kinds
    assert ("STREET_ADDRESS", "12 Main Street, Springfield, IL 62704") in kinds
    assert not any(k in ("LOCATION", "DATE_TIME") for k, _ in kinds)


def test_default_action_allow_and_text_forwarded_unchanged():
    assert DEFAULT_PII_ACTIONS["LOCATION"] == "allow" and DEFAULT_PII_ACTIONS["DATE_TIME"] == "allow"
    text = "Book a table in Buenos Aires on Friday, 5 March 2024 at 7 pm."
    req = {"model": "m", "messages": [{"role": "user", "content": text}]}
    dec = asyncio.run(Guard().check_input(req, GuardPolicy(injection_enabled=False)))
    assert dec.allowed and dec.request["messages"][0]["content"] == text
    # an operator can still take them out
    pol = GuardPolicy(injection_enabled=False, pii_actions={**DEFAULT_PII_ACTIONS, "LOCATION": "redact", "DATE_TIME": "redact"})
    out = asyncio.run(Guard().check_input(req, pol)).request["messages"][0]["content"]
    assert "Buenos Aires" not in out and "5 March 2024" not in out


def test_kinds_filter():
    text = "Meet in Berlin on 5 March 2024."
    only = FastPII(kinds=["LOCATION"]).analyze(text)
    assert [text[s.start : s.end] for s in only] == ["Berlin"]
