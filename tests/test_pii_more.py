"""Usernames, passwords with punctuation, crypto wallets, MACs, IMEIs, BICs, birth dates,
card CVV / expiry and whole street addresses, each with look-alikes that must stay untouched.

The example strings are our own probes (issue 14), not taken from any evaluation set.
"""
from __future__ import annotations

import asyncio
import hashlib

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII
from seawall.guard.policy import DEFAULT_PII_ACTIONS

NEW_KINDS = ("USERNAME", "CRYPTO_WALLET", "MAC_ADDRESS", "IMEI", "SWIFT_CODE", "DATE_OF_BIRTH", "CARD_CVV", "CARD_EXPIRY",
             "GPS_COORDINATES")


def found(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in FastPII().analyze(text)]


# ---- independent encoders, so the tests do not trust the detector's own decoders

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(version: int, payload: bytes) -> str:
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def bech32(hrp: str, data5: list[int]) -> str:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

    def polymod(vals):
        chk = 1
        for v in vals:
            b = chk >> 25
            chk = ((chk & 0x1FFFFFF) << 5) ^ v
            for i in range(5):
                chk ^= gen[i] if (b >> i) & 1 else 0
        return chk

    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = polymod(exp + data5 + [0] * 6) ^ 1
    return hrp + "1" + "".join(charset[d] for d in data5 + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])


LTC_BASE58 = b58check(0x30, bytes(range(1, 21)))  # an L... address
LTC_BECH32 = bech32("ltc", [0] + [(7 * i + 3) % 32 for i in range(32)])
BAD_BASE58 = LTC_BASE58[:-1] + ("a" if LTC_BASE58[-1] != "a" else "b")  # checksum broken


@pytest.mark.parametrize(
    "text,expected",
    [
        # 1. usernames / logins
        ("username: jdoe_82", ("USERNAME", "jdoe_82")),
        ("please reset login jsmith today", ("USERNAME", "jsmith")),
        ("user id: ab1234", ("USERNAME", "ab1234")),
        ("Benutzername = m.mueller", ("USERNAME", "m.mueller")),
        # 2. passwords with punctuation, whole
        ("password: P@ss-w0rd!2024", ("PASSWORD", "P@ss-w0rd!2024")),
        ('pwd="x9!k;Q"', ("PASSWORD", "x9!k;Q")),
        ("my password is P@ss-w0rd!", ("PASSWORD", "P@ss-w0rd!")),
        # 3. wallets
        ("send it to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 today", ("CRYPTO_WALLET", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")),
        ("P2SH 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", ("CRYPTO_WALLET", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")),
        ("to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.", ("CRYPTO_WALLET", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")),
        ("eth 0x52908400098527886E0F7030069857D2E4169EE7", ("CRYPTO_WALLET", "0x52908400098527886E0F7030069857D2E4169EE7")),
        (f"my litecoin: {LTC_BASE58}", ("CRYPTO_WALLET", LTC_BASE58)),
        (f"pay {LTC_BASE58} now", ("CRYPTO_WALLET", LTC_BASE58)),
        (f"pay {LTC_BECH32} now", ("CRYPTO_WALLET", LTC_BECH32)),
        (f"BTC wallet: {BAD_BASE58}", ("CRYPTO_WALLET", BAD_BASE58)),  # labeled: kept despite its checksum
        # 4. MAC, IMEI
        ("device 3c:22:fb:8e:11:0f joined", ("MAC_ADDRESS", "3c:22:fb:8e:11:0f")),
        ("NIC 00-1A-2B-3C-4D-5E", ("MAC_ADDRESS", "00-1A-2B-3C-4D-5E")),
        ("switch port 0011.22aa.bbcc", ("MAC_ADDRESS", "0011.22aa.bbcc")),
        ("MAC address: 00-14-22-01-23-45", ("MAC_ADDRESS", "00-14-22-01-23-45")),
        ("my phone 490154203237518 was stolen", ("IMEI", "490154203237518")),
        ("serial 35-209900-176148-1", ("IMEI", "35-209900-176148-1")),
        ("IMEI: 123456789012347", ("IMEI", "123456789012347")),
        # 5. BIC / SWIFT
        ("BIC: DEUTDEFF", ("SWIFT_CODE", "DEUTDEFF")),
        ("SWIFT code BOFAUS3N", ("SWIFT_CODE", "BOFAUS3N")),
        ("BIC/SWIFT: COBADEFFXXX", ("SWIFT_CODE", "COBADEFFXXX")),
        # 6. birth dates
        ("DOB: 04/12/1987", ("DATE_OF_BIRTH", "04/12/1987")),
        ("date of birth 12 March 1987", ("DATE_OF_BIRTH", "12 March 1987")),
        ("she was born on March 12, 1987", ("DATE_OF_BIRTH", "March 12, 1987")),
        ("fecha de nacimiento: 12 de marzo de 1987", ("DATE_OF_BIRTH", "12 de marzo de 1987")),
        ("data urodzenia 12.03.1987", ("DATE_OF_BIRTH", "12.03.1987")),
        # 7. card extras
        ("CVV 123", ("CARD_CVV", "123")),
        ("security code: 0412", ("CARD_CVV", "0412")),
        ("exp 04/27", ("CARD_EXPIRY", "04/27")),
        ("expiry date: 04/2027", ("CARD_EXPIRY", "04/2027")),
        # 8. whole street addresses
        ("ship to 123 Main St, Apt 4B, Springfield, IL 62704 please",
         ("STREET_ADDRESS", "123 Main St, Apt 4B, Springfield, IL 62704")),
        ("at 742 Evergreen Terrace, Springfield, OR 97403, USA.", ("STREET_ADDRESS", "742 Evergreen Terrace, Springfield, OR 97403, USA")),
        ("Hauptstraße 5, 10115 Berlin", ("STREET_ADDRESS", "Hauptstraße 5, 10115 Berlin")),
        ("10 Downing Street, London SW1A 2AA", ("STREET_ADDRESS", "10 Downing Street, London SW1A 2AA")),
        # a bare "user" before a handle-shaped word
        ("Login failed for user mike_r88 from the VPN", ("USERNAME", "mike_r88")),
        ("user jdoe87 logged in", ("USERNAME", "jdoe87")),
        # 9. GPS coordinates (4+ decimals: ~10 m)
        ("meet me at 40.7128, -74.0060 by the fountain", ("GPS_COORDINATES", "40.7128, -74.0060")),
        ("location: [51.5074,-0.1278]", ("GPS_COORDINATES", "51.5074,-0.1278")),
        ("48.8584° N, 2.2945° E", ("GPS_COORDINATES", "48.8584° N, 2.2945° E")),
        (".5 mile from -33.8688, 151.2093", ("GPS_COORDINATES", "-33.8688, 151.2093")),
    ],
)
def test_found(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        # usernames
        "the login page failed again, login with google",
        "the user id is required",
        "usuario habitual de cocaína",
        "User: hello there",
        # passwords
        "password is incorrect",
        "password is incorrect!",
        # wallets / hex
        "commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 fixed it",
        "tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
        f"code {BAD_BASE58} unlabeled with a broken checksum",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # one character changed
        # MAC / IMEI
        "the run took 12:30:45 and 01:02:03",
        "version 1.2.3-beta.4 and 2024-01-15",
        "order 123456789012345 shipped",
        "ids 12-34-56-78-90-12",
        "lab NIC 02:00:20:4D:4C:01 (locally administered), group 01:00:5e:00:00:fb",
        "ref IMEI-490154203237518 is a code",
        # BIC
        "SWIFT TRANSFER pending; swift is a language",
        # birth dates
        "we met on 12 March 1987 and again on 04/12/1987",
        "born in 1987 in Paris",
        # CVV / expiry
        "CVV is required, exp(1.25) is 3.49",
        "the contract expires 04/27/2025",
        # order ids, invoices
        "invoice FV/2026/61231, order #202503031201",
        "the user interface is slow for user 2 of 5; user config.yaml is missing",
        # number pairs that are not places
        "AUC 0.9123, 0.8712 on the two splits",
        "row 12.3456, 45.6789, 78.9012 of the table",
        "latency 1.5, 2.5 ms",
        "pair 95.1234, 200.5678 is off the globe",
    ],
)
def test_not_flagged(text):
    assert [k for k, _ in found(text) if k in NEW_KINDS + ("PASSWORD",)] == []


def test_short_address_tail_is_not_the_next_clause():
    # ", Tom said" is no city + state / postcode: the street alone is masked
    assert ("STREET_ADDRESS", "5 Main St") in found("I met him at 5 Main St, Tom said")


def test_every_new_kind_has_a_default_action():
    for kind in NEW_KINDS:
        assert DEFAULT_PII_ACTIONS[kind] in ("mask", "tokenize", "redact")


def test_guard_keeps_new_kinds_back():
    values = ["jdoe_82", "P@ss-w0rd!2024", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3c:22:fb:8e:11:0f",
              "490154203237518", "DEUTDEFF", "04/12/1987", "CVV 731", "04/27", "Springfield, IL 62704"]
    text = (f"username: {values[0]}, password: {values[1]}, wallet {values[2]}, MAC {values[3]}, "
            f"IMEI {values[4]}, BIC: {values[5]}, DOB: {values[6]}, {values[7]}, exp {values[8]}, "
            f"address 123 Main St, {values[9]}. The meeting is on 30 June at 12:30.")
    req = {"model": "m", "messages": [{"role": "user", "content": text}]}
    dec = asyncio.run(Guard().check_input(req, GuardPolicy(injection_enabled=False)))
    assert dec.allowed
    out = dec.request["messages"][0]["content"]
    for v in values:
        assert v.split()[-1] not in out, v
    assert "30 June at 12:30" in out


@pytest.mark.parametrize("text", ["my login is inevitably slow", "your login - records", "user name is required"])
def test_login_prose_is_no_username(text):
    assert [k for k, _ in found(text) if k == "USERNAME"] == []


def test_grown_address_swallows_a_city_read_as_a_name():
    got = found("Send it to 123 Main St, Jackson, MS 39201 please, thanks Maria")
    assert ("STREET_ADDRESS", "123 Main St, Jackson, MS 39201") in got and ("PERSON", "Jackson") not in got
    spans = sorted(FastPII().analyze("Send it to 123 Main St, Jackson, MS 39201 please"), key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
