"""Issue 14's look-alike questions and wrongly refused duplicates, against the rule verifier
and through the real semantic cache at its shipped default (student embedder, threshold from
embedder.THRESHOLDS, rules deciding)."""
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.verifier import Verifier, VerifierConfig  # noqa: E402
from cache_util import chat  # noqa: E402

# (stored, asked, the rule that must refuse it)
LOOKALIKES = [
    ("Where is Kevin Hart from?", "Who is Kevin Hart?", "question word"),
    ("Where is the Taj Mahal?", "Who built the Taj Mahal?", "question word"),
    ("When does the store open?", "Where is the store?", "question word"),
    ("Where can I learn about materials science?", "How do I learn about materials science?", "question word"),
    ("How will I get my card?", "Where will I get my card?", "question word"),
    ("When will my transfer arrive?", "Will my transfer arrive?", "question word"),
    ("How can I invest in the Indian stock market from overseas?", "How do I invest in the Indian stock market?",
     "added qualifier"),
    ("What are the top 10 movies of 2010?", "What are the top 10 movies?", "added qualifier"),
    ("What are good books for beginners?", "What are good books?", "added qualifier"),
    ("The girl is smiling and wearing glasses", "The girl is not smiling and not wearing glasses", "negation"),
    ("A boy is jumping into the pool", "A boy is jumping out of the pool", "antonym"),
    ("The dog is near the ball", "The dog is far from the ball", "antonym"),
    # direction and ownership swaps: the same words otherwise, a cosine near 0.99
    ("How long does a transfer to another bank take?", "How long does a transfer from another bank take?", "antonym"),
    ("What's your name?", "What's my name?", "antonym"),
    ("Which airline is cheaper to fly to Rome?", "Which airline is more expensive to fly to Rome?", "antonym"),
    # "unable" / "unsure" are negations, so their plain forms are opposites
    ("I am able to verify my identity", "I am unable to verify my identity", "negation"),
    ("I'm sure the transfer went through", "I'm unsure the transfer went through", "negation"),
]
# Duplicates the rules must let through (the first three were refused before issue 14's fixes
# or would be by a careless question-word rule).
DUPLICATES = [
    ("Who are the greatest Olympians of all time?", "Who are the greatest Olympic athletes of all time?"),
    ("Is it worth learning Latin today? If not, why?", "Is learning Latin still worth it today? If not, why?"),
    ("What is the best way to learn Python?", "How do I learn Python?"),
    ("How come the sky is blue?", "Why is the sky blue?"),
    ("Can I reset my password?", "How can I reset my password?"),
    ("How do I reset my password?", "How can I reset my password?"),
    ("What is the capital of France?", "What is France's capital?"),
    ("How do I convert a string to an integer in Python?", "How do I turn a string into an integer in Python?"),
    ("Send money to my account from abroad", "Send money from abroad to my account"),
]
# One negation said two ways, or a negation that only frames the question: the rules accept
# them (whether the cosine serves them is the embedder's business)
SAME_NEGATION = [
    ("I can't use my card.", "I am unable to use my card."),
    ("I have yet to receive my virtual card", "I haven't received my virtual card."),
    ("I don't understand why I'm being charged for using my card.", "Why am I being charged for using my card?"),
    ("I'm not sure how to reset my PIN", "How do I reset my PIN?"),
    ("the administration won&rsquo;t protect the program", "the administration won't protect the program"),
]


@pytest.mark.parametrize("stored, asked, rule", LOOKALIKES)
def test_each_lookalike_is_refused_by_its_rule(stored, asked, rule):
    v = Verifier()
    for a, b in ((stored, asked), (asked, stored)):
        verdict = v.verify(a, b)
        assert not verdict.accept and verdict.reason.startswith(rule), (a, b, verdict)


@pytest.mark.parametrize("stored, asked", DUPLICATES + SAME_NEGATION)
def test_each_duplicate_is_accepted_by_the_rules(stored, asked):
    v = Verifier()
    assert v.verify(stored, asked).accept and v.verify(asked, stored).accept


def test_the_new_rules_are_switches():
    off = Verifier(VerifierConfig(question_word=False, added_qualifier=False))
    assert off.verify("Where is Kevin Hart from?", "Who is Kevin Hart?").accept
    assert off.verify("What are the top 10 movies of 2010?", "What are the top 10 movies?").accept


def test_a_rewording_is_not_an_added_qualifier():
    v = Verifier()
    # the longer side does not hold every content word of the shorter one: reworded, not narrowed
    assert v.verify("Who are the best players in the history of football?",
                    "Who are the greatest football players ever?").accept
    # a qualifier both sides have is no addition
    assert v.verify("What are the top movies of 2010?", "Which are the best movies of 2010?").accept


@pytest.mark.parametrize("stored, asked, rule", LOOKALIKES)
def test_lookalikes_are_not_served_even_by_a_lenient_alias(default_cache, stored, asked, rule):
    """At the default threshold, and at an alias's much lower one: the rules refuse them."""
    cache = default_cache
    for a, b in ((stored, asked), (asked, stored)):
        cache.store("t", "x", chat(a), "stored answer", ttl_s=60)
        d = cache.decide("t", "x", chat(b))
        low = cache.decide("t", "x", chat(b), threshold=0.5)
        cache.invalidate(scope="t")
        assert d.hit is None and d.reason, (a, b, d)
        assert low.hit is None and low.reason.startswith(rule), (a, b, low)


# Through the cache: the duplicates above the safe threshold (the others miss on cosine, a
# call's cost, never a wrong answer).
SERVED = [DUPLICATES[1]] + DUPLICATES[4:]


@pytest.mark.parametrize("stored, asked", SERVED)
def test_duplicates_are_served_at_the_default(default_cache, stored, asked):
    cache = default_cache
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(asked))
    cache.invalidate(scope="t")
    assert d.hit is not None and d.hit.response == "stored answer", d
    assert d.reason is None and 0 < d.score <= 1.0


def test_olympians_miss_on_cosine_not_on_a_rule(default_cache):
    """Below the safe threshold (a miss costs a call); an alias that lowers it (and turns the
    alignment gate off: "athletes" has no close word opposite) is served."""
    cache = default_cache
    cache.store("t", "x", chat(DUPLICATES[0][0]), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(DUPLICATES[0][1]))
    lenient = cache.decide("t", "x", chat(DUPLICATES[0][1]), threshold=0.85, align=False)
    cache.invalidate(scope="t")
    assert d.hit is None and d.reason.startswith("cosine")
    assert lenient.hit is not None
