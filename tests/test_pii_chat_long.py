"""Long informal text (issue 14, fifth probe round): the chat passes read pasted threads, ticket
histories and e-mail chains of any length; speaker labels, lower-case UK postcodes, short
lower-case addresses, "user is k.ito", sign-offs inside a long text and a name found once masked
again. Everyday words, products, bulleted lists and order numbers stay as written."""
from __future__ import annotations

import pytest

from seawall.guard.pii import FastPII

# a filler that makes each text longer than the old 600-character limit of the informal passes
FILLER = "\n".join(f"ok the build {i} is green again, moving on to the next item on the list" for i in range(12))


def found(text: str, kind: str | None = None) -> list[str]:
    return [text[s.start : s.end] for s in FastPII().analyze(text) if kind is None or s.kind == kind]


@pytest.mark.parametrize("text,value", [
    (FILLER + "\nthis is wendell from the depot, the van is late\n" + FILLER, "wendell"),
    (FILLER + "\nsorry for the noise.\ncheers - jamal\n" + FILLER, "jamal"),
    (FILLER + "\nwill do. - sam\n" + FILLER, "sam"),
    (FILLER + "\ni'm jamal price and i ordered twice\n" + FILLER, "jamal price"),
    (FILLER + "\nregards\nnkemi adeyemi\n", "nkemi adeyemi"),
    (FILLER + "\nmy husband chidi will be home on thursday\n", "chidi"),
])
def test_cue_names_in_long_text(text, value):
    assert value in found(text, "PERSON")


def test_speaker_labels_and_the_same_name_again():
    thread = FILLER + "\n" + "\n".join([
        "wendell  9:02 AM", "morning, the van is late again",
        "olamide.bankole  9:04 AM", "on it, ping wendell when it arrives",
        "[02/04/2024, 19:02] rosalind: hi its rosalind from flat 2",
        "[02/04/2024, 19:05] release bot: deployed",
    ])
    people = found(thread, "PERSON") + found(thread, "USERNAME")
    assert people.count("wendell") == 2  # the label and "ping wendell"
    assert "olamide.bankole" in people and "rosalind" in people
    assert "release bot" not in people


def test_postcodes_addresses_and_handles_in_lower_case():
    text = FILLER + "\nmy flat is 8 victoria road, manchester m14 5rt, post goes to 5 ash grove\nuser is k.ito\n"
    assert {"m14 5rt", "5 ash grove", "8 victoria road"} <= set(found(text, "STREET_ADDRESS"))
    assert "k.ito" in found(text, "USERNAME")


@pytest.mark.parametrize("text", [
    FILLER + "\nthe m1 8gb model ships on the 2nd, order ab1 2nd batch\n",
    FILLER + "\nwe planted 5 ash trees and ordered 12 oak desks\n",
    FILLER + "\nthe user is locked out, the user is admin\n",
    FILLER + "\nmy mom said it was fine, my friend request got lost, my brother video-called\n",
    FILLER + "\nthanks, buddy!\n",
    FILLER + "\nits safety, its use and its jasper look\n",
    FILLER + "\nshopping list:\n- jasper\n- ruby\n- sage\n",
    FILLER + "\nrelease captain 10:02\ncut v4.12\nqa lead 10:04\nsigned off, order 22871 ships may 14\n",
])
def test_long_lookalikes_stay(text):
    got = [v for k in ("PERSON", "USERNAME", "STREET_ADDRESS") for v in found(text, k)]
    assert got == [], got


def test_long_document_skips_the_cue_passes():
    from seawall.guard.pii_chat import _informal

    doc = ("The quarterly review covers revenue, churn and hiring. " * 20) + "Thanks, Jasper - Grace"
    assert not _informal(doc)
    assert _informal(FILLER + "\nok i will check")  # a lower-case "i" as a word
    assert _informal("Status\n" + FILLER)  # lines opening in lower case
