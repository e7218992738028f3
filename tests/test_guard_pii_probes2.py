"""Second probe round (medical, legal, HR, bank, travel, config and multilingual documents):
each fixed leak class with positives and the look-alikes that must stay."""
from __future__ import annotations

import pytest

from seawall.guard import Guard, GuardPolicy
from seawall.guard.pii import FastPII


def found(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in FastPII().analyze(text)]


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
