"""Identifier recognizers: checksums, labeled values (kept when the checksum fails), look-alikes."""
from __future__ import annotations

import pytest

from seawall.guard.pii_ids import aba_ok, dni_ok, dowod_ok, nino_ok, nip_ok, pesel_ok, regon_ok, vin_ok
from pii_util import found  # noqa: E402


def test_checksums_accept_valid_and_reject_altered_values():
    assert pesel_ok("44051401359") and not pesel_ok("44051401358")
    assert nip_ok("5261040828") and not nip_ok("5261040829")
    assert regon_ok("123456785") and not regon_ok("123456786")
    assert dni_ok("12345678Z") and not dni_ok("12345678A")
    assert dni_ok("X1234567L") and not dni_ok("X1234567A")  # NIE
    assert nino_ok("AB123456C") and not nino_ok("BG123456C")  # BG is never issued
    assert aba_ok("021000021") and not aba_ok("021000022")
    assert vin_ok("1M8GDM9AXKP042788") and not vin_ok("1M8GDM9AYKP042788")
    assert dowod_ok("ABA300000") and not dowod_ok("ABA400000")


@pytest.mark.parametrize(
    "text,expected",
    [
        # checksum-backed, no label needed
        ("PESEL 44051401359 here", ("NATIONAL_ID", "44051401359")),
        ("wrote 44051401359 on the form", ("NATIONAL_ID", "44051401359")),
        ("his DNI is 12345678Z", ("NATIONAL_ID", "12345678Z")),
        ("residence permit X1234567L", ("NATIONAL_ID", "X1234567L")),
        ("NI number AB 12 34 56 C", ("NATIONAL_ID", "AB 12 34 56 C")),
        ("seller 526-104-08-28 pays", ("TAX_ID", "526-104-08-28")),
        ("car 1M8GDM9AXKP042788 sold", ("VEHICLE_ID", "1M8GDM9AXKP042788")),
        ("przelew na 61 1090 1014 0000 0712 1981 2874", ("BANK_ACCOUNT", "61 1090 1014 0000 0712 1981 2874")),
        # labeled, several languages
        ("passport no. X1234567", ("PASSPORT", "X1234567")),
        ("numer paszportu: HX6 088035", ("PASSPORT", "HX6 088035")),
        ("Pasaporte: PAB123456", ("PASSPORT", "PAB123456")),
        ("driver's license number D1234-5678-9012", ("DRIVER_LICENSE", "D1234-5678-9012")),
        ("prawo jazdy: 04-8736370", ("DRIVER_LICENSE", "04-8736370")),
        ("account number 12345678", ("BANK_ACCOUNT", "12345678")),
        ("routing number 021000021", ("ROUTING_NUMBER", "021000021")),
        ("sort code 12-34-56", ("ROUTING_NUMBER", "12-34-56")),
        ("EIN 12-3456789", ("TAX_ID", "12-3456789")),
        ("Steuer-ID 12345678901", ("TAX_ID", "12345678901")),
        ("NHC: 368503.", ("ID_NUMBER", "368503")),
        ("NASS: 26 63514095.", ("ID_NUMBER", "26 63514095")),
        ("numer telefonu kontaktowego: 510070906", ("PHONE_NUMBER", "510070906")),
        ("Domicilio: Calle del pez, 28.\nLocalidad: Madrid", ("STREET_ADDRESS", "Calle del pez, 28")),
        # "driver license" without the "s", and values in dashed letter-digit groups
        ("Driver license: S530-4712-9981 issued in Illinois", ("DRIVER_LICENSE", "S530-4712-9981")),
        ("drivers license D1234567", ("DRIVER_LICENSE", "D1234567")),
        ("My Medicare number is 1EG4-TE5-MK73.", ("ID_NUMBER", "1EG4-TE5-MK73")),
        # licence plates mix letters and digits
        ("drove a car with plate 7ABC123", ("LICENSE_PLATE", "7ABC123")),
        ("vehicle registration AB12 CDE was seen", ("LICENSE_PLATE", "AB12 CDE")),
        ("Kennzeichen: M-AB 1234", ("LICENSE_PLATE", "M-AB 1234")),
    ],
)
def test_identifiers_found(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("SSN 937-42-6810", ("US_SSN", "937-42-6810")),  # area 9xx is never issued
        ("my social security number is 666-22-1234", ("US_SSN", "666-22-1234")),
        ("card number 4111 1111 1111 1112", ("CREDIT_CARD", "4111 1111 1111 1112")),  # fails Luhn
        # "card" alone labels a card-length number too ("my card", "Card:")
        ("my card 4111 1111 1111 1112", ("CREDIT_CARD", "4111 1111 1111 1112")),
        ("Card: 4111-1111-1111-1112 exp 04/27", ("CREDIT_CARD", "4111-1111-1111-1112")),
        # a bare "account" labels an account-length number (8 digits or more) only
        ("routing number 021000021 account 123456789012", ("BANK_ACCOUNT", "123456789012")),
        ("IBAN DE89 3704 0044 0532 0130 01", ("IBAN_CODE", "DE89 3704 0044 0532 0130 01")),  # fails mod-97
        ("PESEL: 44051401358", ("NATIONAL_ID", "44051401358")),
        ("NIP 526-104-08-29", ("TAX_ID", "526-104-08-29")),
        ("DNI 12345678A", ("NATIONAL_ID", "12345678A")),
    ],
)
def test_labeled_value_is_kept_when_its_checksum_fails(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "invoice INV-2024-000123 is paid",
        "order #202503031201 shipped",
        "dates 2024-05-17 and 17.05.2024",
        "FV 0932/01/2026 zaksięgowano",
        "ZAM-0603202021 oraz MAG-5339795",
        # a label glued to the value is a reference code, and these checksums fail
        "PESEL-20463348319 oraz NIP-060-280-27-47",
        "KARTA-4167 6152 8641 6760",
        "RACH-PL46 0000 0000 2046 3409 7300 4502",
        "serial 44051401358 in stock",  # an unlabeled 11-digit number with a bad PESEL checksum
        "test host 192.0.2.61 replied",  # RFC 5737 documentation range
        "the sort order is 12 34 56",
        "card 12345678 of the deck",  # labeled, but not card-length and not Luhn-valid
        "see card 3 of 5 in the 2024 report",
        "the account 2024 review is done",
        "the plate 12345 in the rack, plate number 3",
        "registration is open until May 5",
    ],
)
def test_lookalikes_are_left_alone(text):
    # a date among them is reported as DATE_TIME (allowed by default, pii_places.py), nothing else
    assert [f for f in found(text) if f[0] != "DATE_TIME"] == []


def test_every_labeled_kind_has_a_default_action():
    from seawall.guard.pii_ids import _LABELS
    from seawall.guard.policy import DEFAULT_PII_ACTIONS

    for kind, _ in _LABELS:
        assert DEFAULT_PII_ACTIONS[kind] in ("mask", "tokenize", "redact"), kind
