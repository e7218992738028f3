"""Issue 14 recall: phones confirmed by a phone word or a phone list, record / episode ids,
and name cues (middle initials, titles, lists of surnames, lower-case text), each with the
look-alikes that must stay unflagged."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII
from seawall.guard.pii_phones import number_ok

POLICY = GuardPolicy(injection_enabled=False)


def found(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in FastPII().analyze(text)]


def kinds(text: str) -> set[str]:
    return {k for k, _ in found(text)}


@pytest.mark.parametrize(
    "text,expected",
    [
        # national formats libphonenumber does not confirm for the regions we try (or, as in the
        # first, a "-Office" suffix the plain pattern refuses): a phone word touches them
        ("Kloof St 12\nCape Town\n071 555 0123-Office", "071 555 0123"),
        ("HQ\n61-48-27-93 office\n", "61-48-27-93"),
        ("Budapest\n72-18-45-96 (mobile)", "72-18-45-96"),
        ("They keep not answering at 72-18-45-96", "72-18-45-96"),
        ("please ring 55-73-21-09 after six", "55-73-21-09"),
        ("Desk: 3105550147\nFax: none", "3105550147"),
        ("Oficina: 93-61-72-48", "93-61-72-48"),
        # a form field whose value is on the next line
        ("Contact\nPhone:\n48-20-19-77\n\nE-mail:", "48-20-19-77"),
        # the rest of a list that starts with a labeled phone
        ("Tlf.: 915550101 / 915550102 / 655500103. Correo", "655500103"),
        ("tel. 915550201 - 655500202 e-mail", "655500202"),
        ("Telf.: 955500301, 955500302", "955500302"),
    ],
)
def test_phone_confirmed_by_context(text, expected):
    assert ("PHONE_NUMBER", expected) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        # numbers next to a phone word that are no phones: dates, ranges, times, amounts, codes
        "office 24.12.2026 closed",
        "the office 2019-2020 budget",
        "office hours 9-17, call 2024 times",
        "home 12345678 items sold",  # "home" is a phone word only as a field label ("Home: ...")
        "biuro SUMA 41755,35 zł",
        "ZAM-0603202021 office copy",  # glued to a prefix: an order number
        "FV/2026/61231 office",
        "call 4.300.000 customers",
        "call at 12:30 today",
    ],
)
def test_numbers_near_phone_words_that_are_not_phones(text):
    assert "PHONE_NUMBER" not in kinds(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        # after a country code, groups as countries write them (no phone word needed)
        ("Paris office: +33 1 23 45 67 89.", "+33 1 23 45 67 89"),
        ("I called +61 2 9876 5432 yesterday.", "+61 2 9876 5432"),
        ("NL +31 6 12345678 ok", "+31 6 12345678"),
        ("Stockholm +46 8 123 456 78", "+46 8 123 456 78"),
        ("+44 7700 900123", "+44 7700 900123"),
        ("+353 1 234 5678", "+353 1 234 5678"),
    ],
)
def test_international_numbers_in_their_countries_grouping(text, expected):
    assert ("PHONE_NUMBER", expected) in found(text)


@pytest.mark.parametrize(
    "text",
    ["delta +5 2024-01-01", "+44 2024-05-01 release", "balance +1 2 500 000", "score was +3 4 to 2",
     "revenue grew +12 345678 units", "+1 5 1000 2000"],
)
def test_signed_numbers_and_dates_after_a_plus_are_not_phones(text):
    assert "PHONE_NUMBER" not in kinds(text)


def test_number_shape_rules():
    assert number_ok("71-33-52-22")  # no date: 71 is no day, 33 no month
    assert not number_ok("12-05-2024") and not number_ok("2024-05-17") and not number_ok("2019-2020")
    assert not number_ok("123 456")  # too short to dial


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Servicio: Urgencias.\nEpisodio: 3620184.\nMédico:", "3620184"),
        ("encounter number 55120934 closed", "55120934"),
        ("visit id: 881203 on file", "881203"),
    ],
)
def test_episode_and_visit_ids(text, expected):
    assert ("ID_NUMBER", expected) in found(text)


def test_episode_word_without_a_number_is_nothing():
    assert found("the episode 12 of the series was long") == []  # fewer than 4 digits
    assert "ID_NUMBER" not in kinds("The visit lasted 2 hours")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("the verses from Halina D. Wrzosek's diary", "Halina D. Wrzosek"),
        ("What's your name? Jildau S Bouts", "Jildau S Bouts"),
        ("Ms. Austin flew to Oslo", "Austin"),  # a title makes an everyday word a name
        ("sometimes people call me Csanád", "Csanád"),
        ("founders: Kónya, Becker and Vasquez.", "Kónya"),
        ("Usamov and Bowers were the engineers", "Usamov"),
        ("follow up with patricia desrosiers next week", "patricia desrosiers"),
        ("hi, my name is lena andersson.", "lena andersson"),
        ("ask benjamin a seiler about it", "benjamin a seiler"),
    ],
)
def test_name_cues(text, expected):
    assert ("PERSON", expected) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Vitamin D Deficiency is common",  # an initial between words that are no known names
        "Servicio de Cirugía de Cabeza y Cuello",  # a list inside a title
        "Unidad Funcional de Cabeza y Cuello",
        "Poland and Germany signed it",  # places
        "the grace period and rose garden",  # lower-case everyday words
        "bicarbonato 1 M. Asimismo se pautó",  # "M." after a number is a unit, not monsieur
    ],
)
def test_name_cue_lookalikes(text):
    assert "PERSON" not in kinds(text)


async def test_context_phone_is_kept_back_end_to_end():
    text = "Reach the site lead: 071 555 0123-Office"
    d = await Guard().check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, POLICY)
    forwarded = d.request["messages"][0]["content"]
    assert "071 555 0123" not in forwarded
    assert d.vault.restore(forwarded) == text
