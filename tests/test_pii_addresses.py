"""Street addresses in the common international written forms, through the real detector,
and the look-alikes (prices, quantities, dates, versions, order ids, "Chapter 12") left alone.

The example addresses are our own, written from postal formats, not taken from any evaluation set.
"""
from __future__ import annotations

import asyncio

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII


def addresses(text: str) -> list[str]:
    return [text[s.start : s.end] for s in FastPII().analyze(text) if s.kind == "STREET_ADDRESS"]


@pytest.mark.parametrize(
    "text,expected",
    [
        # US, with unit, state + ZIP, direction and ordinal street names
        ("Ship it to 350 W 42nd St, Apt 5C, New York, NY 10036 please", "350 W 42nd St, Apt 5C, New York, NY 10036"),
        ("We met at 1600 Pennsylvania Avenue NW, Washington, DC 20500.", "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
        ("Farm: 4567 County Road 12", "4567 County Road 12"),
        ("She lives at 100 5th Avenue, New York, NY 10011", "100 5th Avenue, New York, NY 10011"),
        ("USS Mahler\nFPO AA 70489", "USS Mahler\nFPO AA 70489"),
        ("(Via Roma 12)", "Via Roma 12"),
        ("Domicilio: Calle Montevideo,66.", "Calle Montevideo,66"),
        ("Hospital Civil, Plaza de Cruces, s/n 48903 Barakaldo", "Plaza de Cruces, s/n"),
        # envelope style: street, unit and town on their own lines
        ("Dear Ann,\n88 Willow Creek Crossing\nSuite 210\nBoulder, CO 80302\nThanks", "88 Willow Creek Crossing\nSuite 210\nBoulder, CO 80302"),
        # a place-like suffix confirmed by its tail
        ("send to 42 Maple Park, Springfield, IL 62704", "42 Maple Park, Springfield, IL 62704"),
        # US streets with Spanish names
        ("the shop at 1200 Camino Real is closed", "1200 Camino Real"),
        # UK, flat before the number, postcode after the town
        ("Flat 3, 12 High Street, London SW1A 2AA", "Flat 3, 12 High Street, London SW1A 2AA"),
        ("she moved to 221B Baker Street last year", "221B Baker Street"),
        # Canada and Australia
        ("Office: 123 King St W, Toronto, ON M5V 2T6", "123 King St W, Toronto, ON M5V 2T6"),
        ("Unit 5/12 Smith St, Sydney NSW 2000", "Unit 5/12 Smith St, Sydney NSW 2000"),
        # PO boxes
        ("Write to P.O. Box 1234, Springfield, IL 62704.", "P.O. Box 1234, Springfield, IL 62704"),
        ("Postfach 10 12 34, 80331 München", "Postfach 10 12 34, 80331 München"),
        ("Apartado de correos 45, 28080 Madrid", "Apartado de correos 45, 28080 Madrid"),
        # US military mail
        ("PSC 3090, Box 7452\nAPO AE 09021", "PSC 3090, Box 7452\nAPO AE 09021"),
        # Germany / Austria / Switzerland
        ("Musterstraße 12a, 10115 Berlin", "Musterstraße 12a, 10115 Berlin"),
        ("Anschrift neu: Berliner Straße 5, D-60311 Frankfurt", "Berliner Straße 5, D-60311 Frankfurt"),
        ("Mariahilfer Str. 45, 1060 Wien", "Mariahilfer Str. 45, 1060 Wien"),
        ("Am Markt 5, 28195 Bremen", "Am Markt 5, 28195 Bremen"),
        # France, Switzerland (French), Belgium
        ("12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
        ("8 bis, avenue Foch, 75116 Paris", "8 bis, avenue Foch, 75116 Paris"),
        ("Rue du Rhône 12, 1204 Genève", "Rue du Rhône 12, 1204 Genève"),
        # Italy, Spain, Portugal, Romania
        ("Via Roma 12, 00184 Roma RM", "Via Roma 12, 00184 Roma RM"),
        ("abito in via Garibaldi, 7 da anni", "via Garibaldi, 7"),
        ("Calle Mayor 5, 28013 Madrid", "Calle Mayor 5, 28013 Madrid"),
        ("Rua Augusta, 123, 1100-048 Lisboa", "Rua Augusta, 123, 1100-048 Lisboa"),
        ("Strada Lipscani nr. 12", "Strada Lipscani nr. 12"),
        # Netherlands, Nordic, Finland
        ("Kerkstraat 12, 1017 GC Amsterdam", "Kerkstraat 12, 1017 GC Amsterdam"),
        ("Drottninggatan 5 B, 111 51 Stockholm", "Drottninggatan 5 B, 111 51 Stockholm"),
        ("Karl Johans gate 22, 0159 Oslo", "Karl Johans gate 22, 0159 Oslo"),
        ("Nørre Voldgade 12, 1358 København K", "Nørre Voldgade 12, 1358 København K"),
        ("Mannerheimintie 12 A 5, 00100 Helsinki", "Mannerheimintie 12 A 5, 00100 Helsinki"),
        ("Hafnarstræti 5, Reykjavík, Iceland", "Hafnarstræti 5, Reykjavík, Iceland"),
        # Poland and Czechia without a street word: the postcode + town confirm them
        ("Marszałkowska 10/12, 00-590 Warszawa", "Marszałkowska 10/12, 00-590 Warszawa"),
        ("Národní 33, 110 00 Praha", "Národní 33, 110 00 Praha"),
        # Hungary
        ("Kossuth Lajos utca 12., 1053 Budapest", "Kossuth Lajos utca 12., 1053 Budapest"),
        # a reply quoting an address
        ("> 14 Crown Street\n> Suite 321\n> Leeds LS1 4AP", "14 Crown Street\n> Suite 321\n> Leeds LS1 4AP"),
    ],
)
def test_address_found_whole(text, expected):
    assert expected in addresses(text)


@pytest.mark.parametrize(
    "text",
    [
        "Chapter 12 Main Street rules were read in Room 5; Step 3 Street-level view is next.",
        "It costs $12 and 5 kg, at 12:30 on 3 May 2024, version 2.3.1, order #12345.",
        "we visited 3 Grand Canyon Views and bought 2 Mountain Bikes",
        "I sent 5 via email and 3 via Slack 2 times; 3 square meters and 5 route changes",
        "Spring 2024 collection, String 3, Engineering 101, Comparing 1, Brigade 5, Necktie 3",
        "During 1971, the firm invested in Offering 2 of the fund",
        "The Ring 2 opens at Boarding gate 5; use Route Planner 2 and a Bow tie 3",
        "3 Tips For The Perfect Drive, 7 Ways To Improve Your Lane Discipline",
        "see page 4 Park Avenue edition, Figure 2 Oak Road",
        "Box 3 of 5 is missing; take bus 12 Main Street shuttle",
        "Table 5, 2024 Berlin Marathon results",
        "The invoice FV/2026/61231 totals 1 200,50 EUR; ticket INC-20451 is open.",
    ],
)
def test_look_alikes_not_flagged(text):
    assert addresses(text) == []


def test_address_is_tokenized_end_to_end():
    text = "Please send the contract to Musterstraße 12a, 10115 Berlin before Friday."
    req = {"model": "m", "messages": [{"role": "user", "content": text}]}
    dec = asyncio.run(Guard().check_input(req, GuardPolicy(injection_enabled=False)))
    out = dec.request["messages"][0]["content"]
    assert dec.allowed and "Musterstraße" not in out and "10115" not in out
    assert out.startswith("Please send the contract to ") and "before Friday" in out


def test_address_outweighs_a_name_read_inside_it():
    # "Jennifer Bridge" looks like a person, but the number and the town make it a street
    text = "7872 Jennifer Bridge Suite 587\nNorth Laurieton, NH 18458"
    spans = FastPII().analyze(text)
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [("STREET_ADDRESS", text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Route de Genève 12, 1219 Le Lignon", "Route de Genève 12, 1219 Le Lignon"),
        ("Kongens gate 5, 0153 Oslo", "Kongens gate 5, 0153 Oslo"),
    ],
)
def test_ambiguous_street_words_with_their_particle_or_genitive(text, expected):
    assert expected in addresses(text)


@pytest.mark.parametrize(
    "text,code",
    [("Ship to Chicago, IL 60614 by Friday", "60614"), ("Springfield, MA 01105-1234", "01105-1234"),
     ("Send it to SW1A 1AA please", "SW1A 1AA"), ("Toronto ON M5V 3L9", "M5V 3L9")],
)
def test_postal_codes_without_a_street(text, code):
    from seawall.guard.pii import FastPII

    assert ("STREET_ADDRESS", code) in [(s.kind, text[s.start:s.end]) for s in FastPII().analyze(text)]


@pytest.mark.parametrize("text", ["part number AB1 2CD", "Dallas, TX 2024", "ISO 9001 certified", "build 10234, Paris, FR 75008"])
def test_codes_that_are_no_postal_codes(text):
    from seawall.guard.pii import FastPII

    assert "STREET_ADDRESS" not in {s.kind for s in FastPII().analyze(text)}
