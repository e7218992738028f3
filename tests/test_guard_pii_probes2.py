"""Second probe round (medical, legal, HR, bank, travel, config and multilingual documents):
each fixed leak class with positives and the look-alikes that must stay."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from pii_util import found  # noqa: E402


@pytest.mark.parametrize(
    "text,value",
    [
        ("Re: patient, Hospital No. MRN1815908, seen today", "MRN1815908"),
        ("Hospital number: 4471203", "4471203"),
        ("Policy number RX-8657975. Admitted 03.02.2024.", "RX-8657975"),
        ("Insurance policy no: GQ-2616751", "GQ-2616751"),
    ],
)
def test_hospital_and_policy_numbers_are_ids(text, value):
    assert ("ID_NUMBER", value) in found(text)


@pytest.mark.parametrize(
    "text",
    ["Our privacy policy no longer applies after 2024.", "The hospital has 120 beds.", "Policy 3 of the handbook",
     "Claim number 2401234/2023 was settled.", "Case No. CV-2023-040008"],
)
def test_policy_and_hospital_words_without_a_number_label_flag_nothing(text):
    assert not [k for k, _ in found(text) if k in ("ID_NUMBER", "PHONE_NUMBER")]


@pytest.mark.parametrize("text", ["Dossier n° 2024/00123", "Aktenzeichen: 0301 234567", "Dossier 0612345678 clos"])
def test_file_numbers_are_not_phones(text):
    assert "PHONE_NUMBER" not in {k for k, _ in found(text)}


@pytest.mark.parametrize(
    "text,name",
    [("Manager: Fiona MacAllister", "Fiona MacAllister"), ("Seen by: Dr. MacAllister", "MacAllister"),
     ("Please call Dr McKenzie today.", "McKenzie")],
)
def test_mac_and_mc_surnames(text, name):
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize("text", ["I bought a MacBook Pro and a McFlurry.", "Install PayPal and iPhone apps"])
def test_other_mixed_case_words_are_not_names(text):
    assert "PERSON" not in {k for k, _ in found(text)}


async def test_referral_letter_forwards_no_planted_value_but_keeps_readings():
    text = ("Dear Dr Whitfield,\nRe: Henrik Lindqvist, NHS No: 943 476 5919, Hospital No. MRN1815908\n"
            "BP 142/88 on 12/03/2024. Policy number RX-8657975.\nKind regards,\nDr Fiona MacAllister")
    d = await Guard().check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, GuardPolicy())
    fw = d.request["messages"][0]["content"]
    for v in ("Whitfield", "Lindqvist", "943 476 5919", "MRN1815908", "RX-8657975", "MacAllister"):
        assert v not in fw, v
    for v in ("142/88", "12/03/2024"):
        assert v in fw, v


# ---------------------------------------------------------------- forms, tables and configs


@pytest.mark.parametrize(
    "text,name,label",
    [("Name: Ingrid Lindqvist\nDate of birth: 12/03/1990", "Ingrid Lindqvist", "Date"),
     ("Guest: Fiona Okafor\nCheck-in: 21 Aug 2024", "Fiona Okafor", "Check")],
)
def test_a_name_stops_before_the_next_forms_field(text, name, label):
    assert ("PERSON", name) in found(text)
    assert not any(label in v for k, v in found(text) if k == "PERSON")


def test_a_name_broken_across_lines_still_joins():
    assert ("PERSON", "Anna\nKowalska") in found("Pacjentka Anna\nKowalska, ur. 1990")


def test_name_columns_of_a_csv_export():
    text = "id,first_name,last_name,email,amount\n1,Fiona,MacAllister,f@x.org,3.50\n2,Henrik,Delacroix,h@x.org,4.00"
    got = found(text)
    for name in ("Fiona", "MacAllister", "Henrik", "Delacroix"):
        assert ("PERSON", name) in got
    assert "3.50" not in [v for _, v in got]
    assert ("PERSON", "Vogelsang") in found('Nachname;Vorname;Ort\n"Vogelsang";"Oskar";Köln')


@pytest.mark.parametrize("text", ["sku|name|qty\nA1|Apple|3\nA2|Pear|4", "name,price\nBlue Widget,3.99\nRed Lamp,4.50",
                                  "He said hello, and then\nthe last, first one"])
def test_product_tables_and_prose_flag_no_names(text):
    assert "PERSON" not in {k for k, _ in found(text)}


@pytest.mark.parametrize("text,name", [("BETWEEN:\nDMITRI FERRARO\nClaimant", "DMITRI FERRARO"),
                                       ("KWAME MENSAH\n12 Mill Lane | kwame@example.org", "KWAME MENSAH"),
                                       ("Patient: VOGELSANG, Bernadette\nMRN: 1234567", "VOGELSANG")])
def test_names_in_capitals_on_their_own_line_or_surname_first(text, name):
    assert ("PERSON", name) in found(text)


def test_capital_headings_are_not_names():
    assert "PERSON" not in {k for k, _ in found("PATIENT DETAILS\nGRACE PERIOD\nMAY UPDATE\nEXPERIENCE\n")}


@pytest.mark.parametrize("text,user", [("db:\n  user: yokafor\n  password: abc123Kite!", "yokafor"),
                                       ("user (tomasz_whitfield): my account is locked", "tomasz_whitfield")])
def test_usernames_in_yaml_blocks_and_chat_logs(text, user):
    assert ("USERNAME", user) in found(text)


@pytest.mark.parametrize("text", ["user (admin) logged in", "the user (see below)\npassword policy", "user: 3\npass: x"])
def test_user_words_without_a_handle_flag_no_username(text):
    assert "USERNAME" not in {k for k, _ in found(text)}


@pytest.mark.parametrize(
    "text,names",
    [("Pt Y. Brandauer, MRN 1234567, presented to ED", ["Brandauer"]),
     ("APIS data: SURNAME WHITFIELD GIVEN NAMES YUKI DOB 12MAR1984 PNR WWZBYP", ["WHITFIELD", "YUKI"]),
     ("LAST NAME: SMITH JONES", ["SMITH JONES"])],
)
def test_clinical_shorthand_and_travel_record_names(text, names):
    for name in names:
        assert ("PERSON", name) in found(text)
    assert "WWZBYP" not in [v for _, v in found(text)]  # the booking reference stays


@pytest.mark.parametrize("text", ["set the body to 12 pt Arial", "Enter SURNAME AND GIVEN NAMES below", "FIRST NAME N/A"])
def test_point_sizes_and_blank_forms_flag_no_names(text):
    assert "PERSON" not in {k for k, _ in found(text)}


# ---------------------------------------------------------------- batch B: config keys, airline records


@pytest.mark.parametrize("text,value", [("SMTP_PASS=Quartz2863!x\nMAX_RETRIES=5", "Quartz2863!x"),
                                        ("DB_PASSWORD=Wint3r123Horse", "Wint3r123Horse"),
                                        ("smtp_password: Quartz2863!x", "Quartz2863!x")])
def test_prefixed_config_password_keys(text, value):
    assert ("PASSWORD", value) in found(text)


@pytest.mark.parametrize("text", ["db_password = get_secret()", 'x = os.environ["DB_PASSWORD"]',
                                  "reset_password_link: /a/b", "DB_PASSWORD=${DB_PASSWORD}"])
def test_prefixed_password_keys_in_code_flag_no_password(text):
    assert "PASSWORD" not in {k for k, _ in found(text)}


def test_unit_number_and_plural_account_holder_label():
    assert ("ID_NUMBER", "43479627") in found("Patient name: Ann Lee   Unit no: 43479627")
    assert ("PERSON", "SAOIRSE FALK") in found("Name(s) of account holder(s): SAOIRSE FALK")
    assert "ID_NUMBER" not in {k for k, _ in found("Unit number 4 of 7 is broken")}


def test_airline_name_lines_and_docs():
    text = "Booking BWGQJT\n1. O'SULLIVAN/SAOIRSE MRS\nDocument: P/GBR/N25702929/GBR/12JAN80/F/05MAR30/O'SULLIVAN/SAOIRSE\nSeat 14C"
    got = found(text)
    assert ("PERSON", "O'SULLIVAN/SAOIRSE") in got and ("PASSPORT", "N25702929") in got
    assert ("PERSON", "SAOIRSE") in got
    assert not [v for _, v in got if v in ("BWGQJT", "14C")]  # the booking reference and the seat stay


@pytest.mark.parametrize("text", ["LHR/JFK MR route", "AND/OR MS Word", "P/L ratio 3"])
def test_slash_pairs_that_are_no_names(text):
    assert "PERSON" not in {k for k, _ in found(text)}
