"""Word-order look-alikes: the same words around a directional word, swapped, ask something
else and must never be served; a reorder that keeps who-does-what-to-whom must still be."""
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.verifier import Verifier, VerifierConfig, extract  # noqa: E402
from cache_util import chat  # noqa: E402

# (stored, asked): one's answer is wrong for the other
SWAPS = [
    ("Cheapest flights from Lisbon to Oslo in June", "Cheapest flights from Oslo to Lisbon in June"),
    ("Is a hippo heavier than a rhino?", "Is a rhino heavier than a hippo?"),
    ("Did Samsung buy Harman?", "Did Harman buy Samsung?"),
    ("convert yen to francs", "convert francs to yen"),
    ("Did Liverpool beat Everton on Sunday?", "Did Everton beat Liverpool on Sunday?"),
    ("How do I turn an Excel sheet into a PDF?", "How do I turn a PDF into an Excel sheet?"),
    ("Move my money from the savings account to the joint account",
     "Move my money from the joint account to the savings account"),
    ("What is the price of gold per ounce?", "What is the price of an ounce per gold?"),
    ("Should I stretch before I lift weights?", "Should I lift weights before I stretch?"),
    ("Is Oslo north of Lisbon?", "Is Lisbon north of Oslo?"),
    ("Why did Oracle sue Google?", "Why did Google sue Oracle?"),
    ("Does the pharmacy come after the bakery on Main Street?", "Does the bakery come after the pharmacy on Main Street?"),
    # no directional word: two words (or runs of words) crossing a third
    ("Does Siemens own Osram?", "Does Osram own Siemens?"),
    ("The woman is picking up the kangaroo", "The kangaroo is picking up the woman"),
    ("The log is lying on the panda bear", "The panda bear is lying on the logs"),
]
# (stored, asked): the same question, words moved
REORDERS = [
    ("Lisbon and Oslo weather this weekend", "Oslo and Lisbon weather this weekend"),
    ("Can you tell me the exchange rate from yen to francs?", "The exchange rate from yen to francs, can you tell me?"),
    ("flights to Oslo from Lisbon", "flights from Lisbon to Oslo"),
    ("Did Samsung buy Harman?", "Was Harman bought by Samsung?"),
    ("Rust vs Go: which is faster?", "Go vs Rust: which is faster?"),
    ("Is a hippo or a rhino heavier?", "Is a rhino or a hippo heavier?"),
    ("What is the distance from Lisbon to Oslo?", "What is the distance from Oslo to Lisbon?"),
    ("In Excel, how do I turn a sheet into a PDF?", "How do I turn a sheet into a PDF in Excel?"),
    ("What is the difference between tea and coffee?", "What is the difference between coffee and tea?"),
    ("New Zealand beat South Africa in the final", "In the final, New Zealand beat South Africa"),
    # no directional word, and nothing crosses: words moved alone, clauses swapped, a passive
    ("Can I quickly transfer money abroad?", "Can I transfer money abroad quickly?"),
    ("A man is playing guitar and a woman is singing", "A woman is singing and a man is playing guitar"),
    ("A big green ball is knocking a potato", "A ball, which is green and big, is knocking a potato"),
    ("Siemens acquired Osram", "Osram was acquired by Siemens"),
]


@pytest.mark.parametrize("stored, asked", SWAPS)
def test_a_swap_is_refused_by_the_order_rule(stored, asked):
    v = Verifier()
    for a, b in ((stored, asked), (asked, stored)):
        verdict = v.verify(a, b)
        assert not verdict.accept, (a, b)
        assert verdict.reason.startswith(("order", "antonym")), (a, b, verdict)


def test_the_order_rule_is_what_refuses_most_swaps():
    """Without it, every other rule lets these through: the words are the same."""
    off = Verifier(VerifierConfig(order=False))
    let_through = [p for p in SWAPS if off.verify(*p).accept]
    assert len(let_through) >= len(SWAPS) - 2
    on = Verifier()
    for a, b in let_through:
        assert on.verify(a, b).reason.startswith("order")


@pytest.mark.parametrize("stored, asked", REORDERS)
def test_a_meaning_preserving_reorder_is_accepted_by_the_rules(stored, asked):
    v = Verifier()
    assert v.verify(stored, asked).accept, v.verify(stored, asked)
    assert v.verify(asked, stored).accept


def test_the_reason_names_the_swapped_words():
    reason = Verifier().verify("flights from Lisbon to Oslo", "flights from Oslo to Lisbon").reason
    assert "lisbon" in reason and "oslo" in reason


def test_a_name_is_not_a_directional_word():
    """'Beats' the company, 'West Ham' the club: capitalised inside a sentence, names."""
    assert "beat" in extract("Did Apple buy Beats?").roles
    assert not extract("West Ham and Chelsea tickets").roles
    assert Verifier().verify("Did Apple buy Beats?", "Did Beats buy Apple?").reason.startswith("order")


def test_prompts_without_a_directional_word_cost_nothing_to_compare():
    assert extract("What is the weather in Lisbon and Oslo").roles == {}
    assert extract("reset my password please").roles == {}


@pytest.mark.parametrize("stored, asked", SWAPS[:6])
def test_swaps_are_not_served_even_by_a_lenient_alias(default_cache, stored, asked):
    cache = default_cache
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(asked))
    low = cache.decide("t", "x", chat(asked), threshold=0.5, align=False)
    cache.invalidate(scope="t")
    assert d.hit is None and low.hit is None, (d, low)


@pytest.mark.parametrize("stored, asked", [REORDERS[0], REORDERS[2], REORDERS[8]])
def test_reorders_are_served_at_the_default(default_cache, stored, asked):
    cache = default_cache
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(asked))
    cache.invalidate(scope="t")
    assert d.hit is not None and d.hit.response == "stored answer", d
