"""Look-alikes that differ in scope (how many, whose, may / should / must), a comparative, or a
number written as 100: refused by the verifier, while rewordings of the same question are served."""
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.verifier import Verifier, VerifierConfig, extract  # noqa: E402
from cache_util import chat  # noqa: E402

# (stored, asked, the reason the refusal must give)
LOOKALIKES = [
    ("How do I archive all my chats?", "How do I archive some of my chats?", "quantifier"),
    ("Are all contractors covered by the policy?", "Are most contractors covered by the policy?", "quantifier"),
    ("Can I download every statement at once?", "Can I download a single statement?", "quantifier"),
    ("Do many companies use SAP?", "Do few companies use SAP?", "quantifier"),
    ("Is she standing on one leg?", "Is she standing on both legs?", "quantifier"),
    ("How do I approve all pending timesheets?", "How do I approve the first pending timesheet?", "quantifier"),
    ("How do I change my phone number?", "How do I change a customer's phone number?", "owner"),
    ("Where can I find my payslips?", "Where can I find his payslips?", "owner"),
    ("Can I see my calendar?", "Can I see my manager's calendar?", "owner"),
    ("How do I see my open cases?", "How do I see the team's open cases?", "owner"),
    ("Can interns access the finance reports?", "Should interns access the finance reports?", "modality"),
    ("Do I need a licence to sell alcohol?", "Can I get a licence to sell alcohol?", "modality"),
    ("Do I have to wear a badge in the office?", "May I wear a badge in the office?", "modality"),
    ("Is it possible to rename a workspace?", "Is it safe to rename a workspace?", "modality"),
    ("Is it legal to resell software licences?", "Is it ethical to resell software licences?", "modality"),
    ("Is Go better than Rust for servers?", "Is Go worse than Rust for servers?", "antonym"),
    ("Is it easier to learn Spanish or Italian?", "Is it harder to learn Spanish or Italian?", "antonym"),
    ("What is the best time to visit Japan?", "What is the best way to visit Japan?", "question word"),
    ("What is the best place to learn Python?", "How do I learn Python?", "question word"),
    ("How do I send 100 EUR to Spain?", "How do I send 1000 EUR to Spain?", "numbers"),
]

# Rewordings that keep scope, owner and modality: the new rules must let them through.
DUPLICATES = [
    ("How do I archive all my chats?", "How can I archive every one of my chats?"),
    ("Can I download every statement at once?", "Can I download all statements at once?"),
    ("Can interns access the finance reports?", "Are interns allowed to access the finance reports?"),
    ("Is it possible to rename a workspace?", "Can I rename a workspace?"),
    ("Do I need a licence to sell alcohol?", "Do I have to get a licence to sell alcohol?"),
    ("Is a licence required to sell alcohol?", "Do I need a licence to sell alcohol?"),
    # in a how-question the modal is manner: "How should I" asks what "How can I" asks
    ("How should I prepare for the audit?", "How can I prepare for the audit?"),
    ("How do I change my phone number?", "How can I update my phone number?"),
    ("Who is Tesla's CEO?", "Who is the CEO of Tesla?"),
    ("What's my account balance?", "What is my account balance?"),
    ("Which one is better for a small team?", "Which is better for a small team?"),
    ("Are there any discounts for a few licences?", "Are there some discounts for a few licences?"),
    ("How can I lose 5 kg in one month?", "How can I lose 5 kg in a month?"),
    ("Is 16GB of RAM enough for video editing?", "Is 16 GB RAM enough for video editing?"),
    ("Does every shop accept this card?", "Will any shop accept this card?"),
    ("Can I create several virtual cards a day?", "Can I create many virtual cards a day?"),
    ("What age do my kids need to be to open an account?", "How old do my kids have to be to open an account?"),
    ("Can you tell me what time it is in Dallas?", "Tell me what the time is in Dallas"),
    ("What is a hundred times five?", "What is 100 times five?"),
    ("What is the best time to visit Japan?", "When is the best time to visit Japan?"),
    ("What is the best way to learn French?", "How do I learn French?"),
]


@pytest.mark.parametrize("stored, asked, rule", LOOKALIKES)
def test_each_lookalike_is_refused_by_its_rule(stored, asked, rule):
    v = Verifier()
    for a, b in ((stored, asked), (asked, stored)):
        verdict = v.verify(a, b)
        assert not verdict.accept and verdict.reason.startswith(rule), (a, b, verdict)


@pytest.mark.parametrize("stored, asked", DUPLICATES)
def test_each_rewording_is_accepted(stored, asked):
    v = Verifier()
    for a, b in ((stored, asked), (asked, stored)):
        assert v.verify(a, b).accept, (a, b, v.verify(a, b))


def test_scope_is_a_switch():
    off = Verifier(VerifierConfig(scope=False))
    assert off.verify("How do I archive all my chats?", "How do I archive some of my chats?").accept
    assert off.verify("Can interns access it?", "Should interns access it?").accept


def test_a_dropped_quantifier_or_modal_is_left_to_the_other_rules():
    # one side only names a family: not a swap, so these rules do not refuse
    v = Verifier()
    assert v.verify("How do I delete all duplicate rows?", "How do I delete duplicate rows?").accept
    assert not v.verify("Can I work remotely?", "Work remotely?").reason.startswith("modality")


def test_the_scope_is_read_once_per_prompt_and_tied_to_its_noun():
    quants, modals, owners = extract("Should I approve all of my team's requests?").scope
    assert quants == {"request": "all"} and modals == {"should"} and owners == {"team": "mine", "request": "team"}


def test_quantifiers_and_owners_of_different_nouns_are_not_compared():
    v = Verifier()
    # "one moment" and "so many are": no noun both sides count
    assert v.verify("One moment in the hearing revealed why he is feared",
                    "The one moment in the hearing that revealed why so many fear him").accept
    assert v.verify("Remove Jess's party from my calendar", "Remove the party from my calendar").accept


@pytest.mark.parametrize("stored, asked, rule", [p for p in LOOKALIKES if p[2] in ("quantifier", "owner", "modality")])
def test_scope_lookalikes_are_not_served_through_the_cache(default_cache, stored, asked, rule):
    """At the default, and at an alias's much lower threshold: the rule refuses them."""
    cache = default_cache
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(asked))
    low = cache.decide("t", "x", chat(asked), threshold=0.5)
    cache.invalidate(scope="t")
    assert d.hit is None and low.hit is None and low.reason.startswith(rule), (stored, asked, low)


def test_a_rewording_above_the_threshold_is_served_through_the_cache(default_cache):
    cache = default_cache
    cache.store("t", "x", chat("How do I archive all my chats?"), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat("How can I archive all my chats?"))
    cache.invalidate(scope="t")
    assert d.hit is not None and d.hit.response == "stored answer", d
