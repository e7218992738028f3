"""Leak classes found with our own enterprise-text probes (e-mails, tickets, forms, HR and
finance text): each has positives and the look-alikes that must stay."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from pii_util import found  # noqa: E402

POLICY = GuardPolicy(injection_enabled=False)


def kinds(text: str) -> set[str]:
    return {k for k, _ in found(text)}


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "text,number",
    [
        ("Rufen Sie mich unter 030 12345678 an.", "030 12345678"),
        ("oder mobil 0171 2345678.", "0171 2345678"),
        ("Bel me op 06-12345678.", "06-12345678"),
        ("Tel. +49 (0)89 1234567", "+49 (0)89 1234567"),
        ("Mobile +31 (0)6 1234 5678", "+31 (0)6 1234 5678"),
    ],
)
def test_national_long_subscriber_and_trunk_zero_phones(text, number):
    assert ("PHONE_NUMBER", number) in found(text)


@pytest.mark.parametrize(
    "text",
    ["Invoice 0124 20240518 is overdue.", "TVA : 1 250,00 EUR", "Order 0001-12345678 shipped.", "Ticket 2024/1234567 closed.",
     # a phone-shaped value right after the document's own number label
     "Invoice No: 2024-00913 is overdue.", "Order no. 2024-11873 shipped on 3 May.", "Rechnungsnummer: 2024-00913",
     "Kundennummer: 0301234567"],
)
def test_document_numbers_are_not_phones(text):
    assert "PHONE_NUMBER" not in kinds(text)


@pytest.mark.parametrize("text", ["Order hotline: 030 12345678", "Order 4411, phone 030 12345678",
                                  "Please call 030 12345678 about invoice 4411"])
def test_phones_near_document_words_are_still_phones(text):
    assert "PHONE_NUMBER" in kinds(text)


# ---------------------------------------------------------------- usernames and passwords


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ("Wachtwoord: Tulp3nVeld", "PASSWORD", "Tulp3nVeld"),
        ("Mein Passwort lautet Herbst!2024", "PASSWORD", "Herbst!2024"),
        ("La password è Cielo#88", "PASSWORD", "Cielo#88"),
        ("Benutzername kschmidt", "USERNAME", "kschmidt"),
        ("gebruikersnaam: pvandijk", "USERNAME", "pvandijk"),
        ("nome utente gverdi", "USERNAME", "gverdi"),
        ("mon identifiant jdupont", "USERNAME", "jdupont"),
        ("user: mwright pass: BlueSky77", "USERNAME", "mwright"),
        ("accessed by user jsmith_admin.", "USERNAME", "jsmith_admin"),
        ("Login attempts from user 'c.robinson' were blocked.", "USERNAME", "c.robinson"),
        ("3 failed logins for account jdoe42 today", "USERNAME", "jdoe42"),
    ],
)
def test_labeled_credentials_in_more_languages(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "User: hello, can you summarise this?\nAssistant: sure",  # a chat transcript's speaker label
        "User: thanks",
        "the user interface is slow",
        "account 2024 budget review",
        "identifiant unique du dossier",
        "das Passwort lautet falsch",
    ],
)
def test_speaker_labels_and_prose_are_not_credentials(text):
    assert not kinds(text) & {"USERNAME", "PASSWORD"}


# ---------------------------------------------------------------- labeled identifiers


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ("Passport No: A09876543", "PASSPORT", "A09876543"),
        ("Account Number: 12345678", "BANK_ACCOUNT", "12345678"),
        ("Pasaporte n.º PAA123456", "PASSPORT", "PAA123456"),
        ("Reisepassnummer C01X00T47", "PASSPORT", "C01X00T47"),
        ("Führerscheinnummer B072RRE2I55", "DRIVER_LICENSE", "B072RRE2I55"),
        ("Steueridentifikationsnummer 86095742719", "TAX_ID", "86095742719"),
        ("Tax ID (EIN): 47-1234567", "TAX_ID", "47-1234567"),
        ("N° TVA intracommunautaire : FR40303265045", "TAX_ID", "FR40303265045"),
        ("NIR : 2 69 05 49 588 157 80", "NATIONAL_ID", "2 69 05 49 588 157 80"),
        ("Numéro de sécurité sociale : 1 85 05 78 006 084 36", "NATIONAL_ID", "1 85 05 78 006 084 36"),
        ("Ihre Sozialversicherungsnummer lautet 12 150385 B 012.", "NATIONAL_ID", "12 150385 B 012"),
        ("Membership number: MBR-9921-4410", "ID_NUMBER", "MBR-9921-4410"),
        ("student ID 2019384756", "ID_NUMBER", "2019384756"),
        ("Karte 5500 0000 0000 0004, Prüfnummer 123", "CARD_CVV", "123"),
        ("CVV: 918, caducidad 12/29", "CARD_EXPIRY", "12/29"),
    ],
)
def test_labeled_ids(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Invoice No: INV-2024-00913 dated 12/03/2024",
        "Order Number: 55120, amount 1,240.00",
        "Version No. 2.4.1 released",
        "the passport office opens at 9",
        "Ticket No: INC0012345",
    ],
)
def test_look_alikes_after_capitalised_filler_stay(text):
    assert not kinds(text) - {"DATE_TIME", "LOCATION", "ORGANIZATION"}


def test_ip_before_a_full_stop():
    assert ("IP_ADDRESS", "84.17.43.210") in found("Workstation IP 84.17.43.210.")
    assert "IP_ADDRESS" not in kinds("Upgrade from 1.2.3.4.5 to 2.0.")


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "text,name",
    [
        ("Bonjour Mme Lefèvre, votre dossier est prêt.", "Lefèvre"),
        ("Beste meneer De Vries, uw pakket is onderweg.", "De Vries"),
        ("Geachte mevrouw Bakker,", "Bakker"),
        ("Thanks,\nRaj", "Raj"),
        ("Assigned to: Harpreet Gill", "Harpreet Gill"),
        ("We need to onboard contractor Yerlan Abenov next week.", "Yerlan Abenov"),
        ("Please add Herr Dr. Matthias Krüger to the list.", "Matthias Krüger"),
    ],
)
def test_names_after_titles_sign_offs_headers_and_roles(text, name):
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Bill to: Greenfield Dental, invoice attached",
        "Ship to: Northwind Logistics",
        "Thanks,\nThe Team",
        "Please add Herr Dr. to the salutation list.",
        "Assigned to: Finance Department",
    ],
)
def test_companies_and_titles_alone_are_not_names(text):
    assert "PERSON" not in kinds(text)


# ---------------------------------------------------------------- postal codes and ages


@pytest.mark.parametrize(
    "text,code",
    [
        ("ZIP code 60614", "60614"),
        ("my zip is 30309-1234", "30309-1234"),
        ("Postcode: SW1A 1AA", "SW1A 1AA"),
        ("PLZ 80331 München", "80331"),
        ("Code postal : 13001", "13001"),
        ("Código postal 08001", "08001"),
        ("postcode 1015 CJ", "1015 CJ"),
    ],
)
def test_labeled_postal_codes_are_address_parts(text, code):
    assert ("STREET_ADDRESS", code) in found(text)


@pytest.mark.parametrize("text", ["zip the 12 files", "unzip 2024-report.zip", "post code review notes", "code 40404"])
def test_zip_and_code_in_prose_are_not_postal_codes(text):
    assert "STREET_ADDRESS" not in kinds(text)


@pytest.mark.parametrize(
    "text,age",
    [
        ("Applicant age: 31. Gender: female.", "31"),
        ("Our client, aged 42, lives in Bristol.", "42"),
        ("at the age of 29 she joined", "29"),
        ("Patient Aaron Goldberg, 67 years old, was discharged.", "67"),
        ("A 45-year-old male presented with chest pain.", "45"),
        ("Edad: 58", "58"),
        ("Er ist 45 Jahre alt.", "45"),
    ],
)
def test_ages(text, age):
    assert ("AGE", age) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Age group: 18-25",
        "alter 3 settings in the config",
        "the 2024 report is old",
        "age 150 is not valid",
        "a 1.5-year-old dataset",
        "Stone Age tools",
    ],
)
def test_age_look_alikes(text):
    assert "AGE" not in kinds(text)


# ---------------------------------------------------------------- end to end


async def test_forwarded_text_holds_none_of_the_planted_values():
    text = (
        "Hallo Herr Brandt,\nbitte rufen Sie 030 12345678 an. Benutzername kschmidt, Passwort lautet Herbst!2024.\n"
        "Applicant age: 31, ZIP code 60614.\nThanks,\nRaj"
    )
    d = await Guard().check_input(chat(text), POLICY)
    forwarded = d.request["messages"][0]["content"]
    for value in ("Brandt", "030 12345678", "kschmidt", "Herbst!2024", "60614", "Raj"):
        assert value not in forwarded, value
    assert "age: 31" in forwarded  # an age is reported but forwarded, like dates and places
    assert d.vault.restore(forwarded).replace("[PASSWORD]", "Herbst!2024") == text


# ---------------------------------------------------------------- structured records (JSON, forms, CSV)


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ('{"first_name": "Helga", "last_name": "Sørensen"}', "PERSON", "Sørensen"),
        ("first_name=Ole&last_name=Hansen", "PERSON", "Hansen"),
        ("lastname: Dubois, firstname: Camille", "PERSON", "Dubois"),
        ('{"user": "mtorres", "password": "Verano#2023"}', "USERNAME", "mtorres"),
        ('{"user": "mtorres", "password": "Verano#2023"}', "PASSWORD", "Verano#2023"),
        ("Beneficiary IBAN: IT02 L123 4512 3451 2345 6789 012", "IBAN_CODE", "IT02 L123 4512 3451 2345 6789 012"),
        ("Employee No.: 004417", "ID_NUMBER", "004417"),
        ("BSB 062-000, account 1234 5678", "ROUTING_NUMBER", "062-000"),
        ("SIN 046 454 286", "NATIONAL_ID", "046 454 286"),
        ("TFN 123 456 782", "TAX_ID", "123 456 782"),
        ("Matrícula 1234 BCD", "LICENSE_PLATE", "1234 BCD"),
        ("Kenteken: 12-ABC-3", "LICENSE_PLATE", "12-ABC-3"),
        ("PLZ/Ort: 70173 Stuttgart", "STREET_ADDRESS", "70173"),
    ],
)
def test_structured_records(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        'He said "Hope Springs" was his favourite film.',
        '{"status": "Open", "priority": "High"}',
        '{"user": "anonymous"}',
        "config: sin(x) = 0.5, pan = 0",
    ],
)
def test_quoted_prose_and_config_values_stay(text):
    assert not kinds(text) - {"DATE_TIME", "LOCATION", "ORGANIZATION"}


# ---------------------------------------------------------------- one-time codes


@pytest.mark.parametrize(
    "text,value",
    [
        ("Your one-time code is 482913", "482913"),
        ("verification code: 482913", "482913"),
        ("OTP 482913", "482913"),
        ("Reset code: A7K2-9QX4", "A7K2-9QX4"),
        ("backup code 8841-2290", "8841-2290"),
    ],
)
def test_one_time_codes_are_secrets(text, value):
    assert ("PASSWORD", value) in found(text)


@pytest.mark.parametrize(
    "text",
    ["Enter the verification code we sent you.", "The login code expired, send a new one.", "error code 404",
     "Use code SAVE20 at checkout", "one of the 12345 users"],
)
def test_code_words_without_a_code_stay(text):
    assert "PASSWORD" not in kinds(text)


# ---------------------------------------------------------------- names in capitals after a label


@pytest.mark.parametrize(
    "text,name",
    [("Customer name: JANE DOE", "JANE DOE"), ("NAME: MARIA GARCIA LOPEZ", "MARIA GARCIA LOPEZ"),
     ("Name: HIROSHI YAMAMOTO", "HIROSHI YAMAMOTO")],
)
def test_names_in_capitals_after_a_name_label(text, name):
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize("text", ["Name: ADMIN USER", "STATUS: ACTIVE", "Guest: VIP", "name=TEST"])
def test_capital_words_after_a_label_that_are_no_names_stay(text):
    assert "PERSON" not in kinds(text)


# ---------------------------------------------------------------- handles and profile links


@pytest.mark.parametrize(
    "text,handle",
    [("profile: https://www.linkedin.com/in/anna-kowalska-88/", "anna-kowalska-88"),
     ("see https://github.com/jsmith-dev", "jsmith-dev"), ("Follow me on Twitter @sam_okoro", "sam_okoro"),
     ("ping @jdoe42 about the deploy", "jdoe42"), ("cc @maria.lopez", "maria.lopez")],
)
def test_handles_in_profile_links_and_mentions(text, handle):
    assert ("USERNAME", handle) in found(text)


@pytest.mark.parametrize(
    "text",
    ["repo https://github.com/acme/app", "https://github.com/features", "Use the @lru_cache decorator",
     "@media screen and (max-width: 600px)", "Put it on @Override methods", "mail jane@example.com"],
)
def test_code_and_site_pages_are_no_handles(text):
    assert "USERNAME" not in kinds(text)
