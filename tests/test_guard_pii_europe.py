"""Third probe round (German, French, Italian, Spanish, Dutch text): each fixed leak class with
what must be kept back and the look-alikes that must pass as written."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii_europe import codice_fiscale_ok, nir_ok
from pii_util import found  # noqa: E402


async def forwarded(text: str) -> str:
    d = await Guard().check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, GuardPolicy())
    return d.request["messages"][0]["content"]


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ("Das Kennzeichen meines Autos ist B-MW 1234.", "LICENSE_PLATE", "B-MW 1234"),
        ("Immatriculation du véhicule : AB-123-CD", "LICENSE_PLATE", "AB-123-CD"),
        ("La targa della mia auto è AB 123 CD.", "LICENSE_PLATE", "AB 123 CD"),
        ("Il mio codice fiscale è RSSGPP80A01H501Y.", "TAX_ID", "RSSGPP80A01H501Y"),
        ("Mein Führerschein hat die Nummer J010000SD51.", "DRIVER_LICENSE", "J010000SD51"),
        ("Patente di guida n. U1Z123456X", "DRIVER_LICENSE", "U1Z123456X"),
        ("N° TVA FR40303265045", "TAX_ID", "FR40303265045"),
        ("carta d'identità CA00000AA", "NATIONAL_ID", "CA00000AA"),
        ("Mi DNI es 12345678Z.", "NATIONAL_ID", "12345678Z"),
    ],
)
def test_labels_with_a_copula_or_a_noun_phrase_before_the_value(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize("text", ["Phone bill is 58.76 this month", "Das Kennzeichen ist noch nicht da.",
                                  "Il permis de construire est prêt", "la patente è scaduta nel 2019"])
def test_a_bridged_label_wants_a_code_shaped_value(text):
    assert not [k for k, _ in found(text) if k not in ("DATE_TIME", "LOCATION")]


def test_codice_fiscale_and_nir_by_checksum_without_a_label():
    assert codice_fiscale_ok("BNCLRA85M52F205I") and not codice_fiscale_ok("BNCLRA85M52F205A")
    assert nir_ok("1 85 05 78 006 084 91") and not nir_ok("1 85 05 78 006 084 92")
    assert ("TAX_ID", "VRDMRC92T10L219D") in found("Riferimento VRDMRC92T10L219D allegato")
    assert not found("Riferimento VRDMRC92T10L219A allegato")


@pytest.mark.parametrize(
    "text,value",
    [("Nata il 21 settembre 1975 a Napoli.", "21 settembre 1975"), ("Geboortedatum: 17 juni 1991", "17 juni 1991"),
     ("Geboren op 30 augustus 1987 in Groningen", "30 augustus 1987"),
     ("Ich bin am 28. Februar 1969 geboren.", "28. Februar 1969")],
)
def test_italian_and_dutch_birth_dates(text, value):
    assert ("DATE_OF_BIRTH", value) in found(text)


@pytest.mark.parametrize(
    "text,user",
    [("Il mio username è giulia_r88", "giulia_r88"), ("mein login ist moritz.engel", "moritz.engel"),
     ("Zugangsdaten: Benutzer hbaum, Kennwort Tulpe#77", "hbaum"), ("VPN account: l.fontaine", "l.fontaine"),
     ("SMTP_USER=jdoe42", "jdoe42")],
)
def test_usernames_after_copulas_config_keys_and_next_to_a_password(text, user):
    assert ("USERNAME", user) in found(text)


@pytest.mark.parametrize("text", ["Der Benutzer meldet sich an, das Passwort ist falsch", "smtp_user = get_user()",
                                  "SMTP_USER=${USER}"])
def test_user_words_without_a_login_flag_no_username(text):
    assert "USERNAME" not in {k for k, _ in found(text)}


def test_password_with_an_adjective_before_is():
    assert ("PASSWORD", "Playa_2025") in found("La contraseña nueva es Playa_2025 y ya")
    assert not found("The new password is required")


@pytest.mark.parametrize("text,name", [("Gentile dott.ssa Bianchi, le scrivo", "Bianchi"),
                                       ("Salve, sono la sig.ra Chiara Lombardi", "Chiara Lombardi"),
                                       ("Patient H. Vogelsang was admitted.", "H. Vogelsang"),
                                       ("Please call Mr O'Sullivan tomorrow.", "O'Sullivan")])
def test_dotted_italian_titles_field_word_before_an_initial_and_o_apostrophe(text, name):
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text",
    ["Beste mevrouw, bedankt.", "Hoi, alles goed?", "Mein Handy ist kaputt.", "Sehr geehrte Damen und Herren,",
     "Der Umsatz stieg auf 2,3 Mio. Euro.", "Patient Portal login", "Liebe Grüße aus Köln"],
)
def test_greetings_and_german_nouns_are_no_names(text):
    assert "PERSON" not in {k for k, _ in found(text)}


@pytest.mark.parametrize("text", ["Artikelnummer 300.445.12 kostet 49,99 EUR.", "Référence produit 72-115-04"])
def test_article_numbers_are_not_phones(text):
    assert "PHONE_NUMBER" not in {k for k, _ in found(text)}


@pytest.mark.parametrize("text,value", [("the last four of my SSN: 6810", "6810"), ("SSN ending in 6810", "6810")])
def test_the_last_four_of_an_ssn(text, value):
    assert ("US_SSN", value) in found(text)
    assert not found("The last 4 of the card are 1234")


async def test_a_german_support_ticket_forwards_no_planted_value_and_keeps_the_rest():
    text = ("Sehr geehrte Frau Schmidt, meine Steuer-ID lautet 65208517392, Passwort: Kx9#mLq2. "
            "Die Rechnung Nr. 2024-00871 über 1.249,00 € ist noch offen; Lieferung am 14.03.2025 um 10:00 Uhr.")
    fw = await forwarded(text)
    for v in ("Schmidt", "65208517392", "Kx9#mLq2"):
        assert v not in fw, v
    for v in ("Rechnung", "2024-00871", "1.249,00", "Lieferung", "14.03.2025", "10:00"):
        assert v in fw, v
