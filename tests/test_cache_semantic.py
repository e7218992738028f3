"""Verifier and semantic cache with the real local MiniLM (ONNX int8, built on first use)."""
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.verifier import Verifier, extract  # noqa: E402


@pytest.mark.parametrize(
    "new, cached",
    [
        ("cancel my order", "do not cancel my order"),
        ("don't cancel my order", "cancel my order"),
        ("convert 5 km to miles", "convert 50 km to miles"),
        ("convert 5 km to miles", "convert 5 kg to pounds"),
        ("weather in Paris", "weather in London"),
        ("what's the weather in paris", "what's the weather in london"),
        ("turn on the lights", "turn off the lights"),
        ("book a table for Monday", "book a table for Tuesday"),
        ("return the result as JSON", "return the result as YAML"),
        ("write a function to reverse a string in Python", "write a function to reverse a string in Rust"),
        ("What is the capital of France?", "Quelle est la capitale de la France ?"),
        # a negating prefix makes the opposite word
        ("What is our refund policy for undamaged goods?", "What is our refund policy for damaged goods?"),
        ("list the unpaid invoices of March", "list the paid invoices of March"),
        ("show inactive users", "show active users"),
        ("Is this ticket non-refundable?", "Is this ticket refundable?"),
        ("disconnect the printer on floor 2", "connect the printer on floor 2"),
    ],
)
def test_verifier_refuses_different_questions(new, cached):
    v = Verifier()
    assert not v.verify(new, cached).accept
    assert not v.verify(cached, new).accept


@pytest.mark.parametrize(
    "new, cached",
    [
        ("How do I reset my password?", "How can I reset my password?"),
        ("convert five kilometres to miles", "Convert 5 km to miles"),
        ("What is the capital of France?", "what's the capital city of France"),
        ("Sales rose 5 million", "Sales rose 5,000,000"),
        ("Why does the U.S. army use ranks?", "Why does the US army use ranks?"),
        ("undo my last change", "revert my last change"),  # a prefix-like start with no stem opposite
        ("Is the unpaid invoice overdue?", "Is the unpaid bill overdue?"),  # the same prefixed word both sides
    ],
)
def test_verifier_accepts_paraphrases(new, cached):
    assert Verifier().verify(new, cached).accept


def test_extract_slots():
    s = extract("Convert 1,500 km to miles by Friday, in JSON, for Berlin")
    assert s.numbers == {"1500"} and "km" in s.units and "mile" in s.units
    assert "fri" in s.dates and "json" in s.formats and "berlin" in s.entities


@pytest.fixture(scope="module", params=["onnx-int8", "onnx-int8-l3"])
def embedder(request):
    """Every semantic test runs on the 6-layer model and on its 3-layer student."""
    from seawall.vector.embedder import load_embedder

    return load_embedder(request.param)


def chat(text, system=None, history=(), **params):
    msgs = [{"role": "system", "content": system}] if system else []
    for i, t in enumerate(history):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": t})
    msgs.append({"role": "user", "content": text})
    return {"messages": msgs, "temperature": 0, **params}


def test_embedder_is_normalized_and_cached(embedder):
    v = embedder.embed(["hello there", "general kenobi"])
    assert v.shape == (2, 384)
    assert abs(float((v[0] ** 2).sum()) - 1) < 1e-4
    before = embedder.hits
    embedder.embed(["hello there"])
    assert embedder.hits == before + 1


def test_semantic_hits_paraphrase_and_refuses_lookalikes(embedder):
    from seawall.cache.semantic import SemanticCache

    c = SemanticCache(embedder, threshold=0.80)
    c.store("team:a", "chat", chat("How do I reset my password?"), {"answer": "pw"}, ttl_s=60)
    c.store("team:a", "chat", chat("What is the weather in Paris?"), {"answer": "paris"}, ttl_s=60)
    c.store("team:a", "chat", chat("cancel my order"), {"answer": "cancelled"}, ttl_s=60)
    hit = c.lookup("team:a", "chat", chat("How can I reset my password?"))
    assert hit is not None and hit.response == {"answer": "pw"} and hit.score >= 0.8
    assert c.lookup("team:a", "chat", chat("What is the weather in London?")) is None
    assert c.lookup("team:a", "chat", chat("do not cancel my order")) is None
    assert c.stats()["refusals"]  # refused by the verifier, not by the threshold alone


def test_same_words_are_served_without_an_embedding(embedder):
    from seawall.cache.semantic import SemanticCache

    c = SemanticCache(embedder, threshold=0.80)
    c.store("t", "a", chat("What is the capital of France?"), "Paris", ttl_s=60)
    c.store("t", "a", chat("cancel my order"), "cancelled", ttl_s=60)
    looked = embedder.hits + embedder.misses
    for text in ("what is the capital of france", "  What is the   capital of France ?!", "WHAT IS THE CAPITAL OF FRANCE."):
        hit = c.lookup("t", "a", chat(text))
        assert hit is not None and hit.response == "Paris" and hit.score == 1.0
    assert embedder.hits + embedder.misses == looked  # none of them was embedded
    assert c.lookup("t", "b", chat("what is the capital of france")) is None  # its own namespace only
    assert c.lookup("t", "a", chat("do not cancel my order")) is None  # other words: embedded and verified
    assert embedder.hits + embedder.misses == looked + 1
    c.invalidate(alias="a")
    assert c.lookup("t", "a", chat("what is the capital of france")) is None


def test_zero_cross_tenant_and_cross_context_hits(embedder):
    from seawall.cache.semantic import SemanticCache

    c = SemanticCache(embedder, threshold=0.5)
    body = chat("How do I reset my password?")
    c.store("team:a", "chat", body, "A's answer", ttl_s=60)
    assert c.lookup("team:a", "chat", body).response == "A's answer"
    assert c.lookup("team:b", "chat", body) is None
    assert c.lookup("team:a", "other-alias", body) is None
    assert c.lookup("team:a", "chat", chat("How do I reset my password?", system="Answer in French")) is None
    assert c.lookup("team:a", "chat", {**body, "response_format": {"type": "json_object"}}) is None
    assert c.invalidate(scope="team:a") == 1
    assert c.lookup("team:a", "chat", body) is None


def test_conversation_not_only_last_message(embedder):
    from seawall.cache.semantic import SemanticCache

    c = SemanticCache(embedder, threshold=0.80)
    c.store("t", "a", chat("and in Celsius?", history=["What is 5 km in miles?", "3.1 miles"]), "x", ttl_s=60)
    other = chat("and in Celsius?", history=["What is 100 F in Celsius and Kelvin?", "37.8 C"])
    assert c.lookup("t", "a", other) is None
    same = chat("and in Celsius?", history=["What is 5 km in miles?", "3.1 miles"])
    assert c.lookup("t", "a", same).response == "x"


def test_semantic_ttl_and_stale(embedder):
    from seawall.cache.semantic import SemanticCache

    now = [100.0]
    c = SemanticCache(embedder, threshold=0.8, clock=lambda: now[0])
    body = chat("How do I reset my password?")
    c.store("t", "a", body, "x", ttl_s=10, stale_for_s=50)
    now[0] += 20
    assert c.lookup("t", "a", body) is None
    stale = c.lookup("t", "a", body, allow_stale=True)
    assert stale.stale and stale.age_s == pytest.approx(20)
    now[0] += 100
    assert c.lookup("t", "a", body, allow_stale=True) is None and len(c) == 0


def test_tool_result_turn_is_not_looked_up_semantically(embedder):
    from seawall.cache.semantic import conversation_view

    body = {"messages": [{"role": "user", "content": "weather?"},
                         {"role": "tool", "tool_call_id": "1", "content": "12C"}]}
    assert conversation_view(body) is None


def test_verifier_numbers_scales_and_added_clauses():
    v = Verifier()
    assert extract("debts of $43.63 million").numbers == {"43630000"}
    assert extract("an 8 per cent rise").units == extract("an 8 percent rise").units == {"%"}
    # a number added while the other side's numbers all match: a dropped detail
    assert v.verify("He passed over nine four-star generals in 2003",
                    "He passed over nine four-star generals").accept
    # a substitution still refuses, whichever side has more numbers
    assert not v.verify("convert 5 km to miles in 2 steps", "convert 50 km to miles").accept
    # a long added clause asks for more than the cached prompt
    assert not v.verify("Summarise the report and every supplier contract signed with overseas partners in the quarter",
                        "Summarise the report").accept


@pytest.mark.parametrize(
    "new, cached",
    [
        # acronym <-> expansion (initials of capitalised words; "of", "for" ... may be skipped)
        ("said a UC Berkeley law professor", "said a law professor at the University of California, Berkeley"),
        ("What did the CDC say about flu shots?", "What did the Centers for Disease Control say about flu shots?"),
        ("flights from the US to Canada", "flights from the United States to Canada"),
        ("best tacos in LA", "best tacos in Los Angeles"),
        # demonym <-> country
        ("She is a Mexican citizen living in Texas", "She is a citizen of Mexico living in Texas"),
        ("Canadian exports of lumber", "lumber exports from Canada"),
        # an abbreviation written with a dot opens the longer word
        ("a statement from Rep. Fowler", "a statement from representative Fowler"),
        # "in" after a number followed by a word is a preposition, not inches
        ("He was born in 1990 in Paris", "He was born in Paris in 1990"),
        ("the town has nearly four million people", "the town has nearly 4 million people"),
        ("the 1996 Olympics and one in Alabama", "the 1996 Olympics and another in Alabama"),
    ],
)
def test_verifier_matches_the_same_entity_named_two_ways(new, cached):
    v = Verifier()
    assert v.verify(new, cached).accept, v.verify(new, cached).reason
    assert v.verify(cached, new).accept


@pytest.mark.parametrize(
    "new, cached",
    [
        ("weather in Paris", "weather in London"),
        ("weather in Mexico", "weather in Canada"),
        ("Mexican food near me", "Canadian food near me"),
        ("best tacos in LA", "best tacos in San Francisco"),
        ("What did the CDC say about flu shots?", "What did the World Health Organization say about flu shots?"),
        ("flights from the UK to Canada", "flights from the United States to Canada"),
        ("what's on today", "what's on Monday"),  # a relative date is not a weekday
        ("book a table for Monday", "book a table for Tuesday evening"),
        ("convert 5 km to miles", "convert 5 kg to miles"),
    ],
)
def test_verifier_still_refuses_other_entities_and_dates(new, cached):
    v = Verifier()
    assert not v.verify(new, cached).accept
    assert not v.verify(cached, new).accept


def test_verifier_refuses_a_prompt_that_adds_a_clause():
    v = Verifier()
    # one side is the other plus a clause: it asks for more than the cached answer covers
    assert not v.verify("How do I reset my password if I no longer have access to my old email account?",
                        "How do I reset my password?").accept
    # polite filler is not a clause
    assert v.verify("Could you please tell me what the capital of France is?",
                    "What is the capital of France?").accept
    assert v.verify("Hi, I was wondering if you could help me reset my password",
                    "How do I reset my password?").accept


@pytest.mark.parametrize(
    "new, cached",
    [
        # relative time: last / this / next period
        ("Show me the sales numbers for last week", "Show me the sales numbers for this week"),
        ("revenue for the previous quarter", "revenue for the current quarter"),
        ("plans for next month", "plans for this month"),
        ("what did I spend yesterday", "what did I spend tomorrow"),
        ("revenue year to date", "revenue for last year"),
        ("orders in the last 7 days", "orders in the last 30 days"),
        ("orders in the last 2 weeks", "orders in the last week"),
        ("what happened this morning", "what happened last night"),
        ("sales last month", "sales in August"),
        # a relative period on one side only, the other undated
        ("Show me the sales numbers", "Show me the sales numbers for last week"),
        ("what meetings do I have", "what meetings do I have tomorrow"),
        # swapped operations on the same data
        ("Give me the SQL to delete duplicate rows", "Give me the SQL to find duplicate rows"),
        ("How do I cancel my subscription?", "How do I renew my subscription?"),
        ("How do I cancel my order?", "How do I delete my order?"),
        ("create a new user in the admin panel", "remove a user in the admin panel"),
        ("how to approve a pull request", "how to reject a pull request"),
        ("enable two-factor login", "disable two-factor login"),
        ("how do I import contacts from a CSV", "how do I export contacts to a CSV"),
        ("upload a file to S3 with boto3", "download a file from S3 with boto3"),
        ("log in to the dashboard", "log out of the dashboard"),
        ("update the email of a customer", "look up the email of a customer"),
        # programming languages are names wherever they stand
        ("Python function to reverse a string", "Java function to reverse a string"),
        ("Rust code to parse JSON", "Go code to parse JSON"),
    ],
)
def test_verifier_refuses_other_periods_and_operations(new, cached):
    v = Verifier()
    assert not v.verify(new, cached).accept, (new, cached)
    assert not v.verify(cached, new).accept, (cached, new)


@pytest.mark.parametrize(
    "new, cached",
    [
        # the same period said two ways
        ("show me sales for the previous quarter", "show me sales for the last quarter"),
        ("revenue for the past 7 days", "revenue for the last seven days"),
        ("events in the coming week", "events next week"),
        ("YTD revenue by region", "revenue by region year to date"),
        ("Last week's sales numbers", "sales numbers for last week"),
        ("what's the weather", "what's the weather today"),  # an undated question is about now
        ("sales report for Monday", "sales report for next Monday"),  # a detail added to a date
        # synonyms of one operation
        ("Give me the SQL to delete duplicate rows", "Give me the SQL to remove duplicate rows"),
        ("How do I erase my search history?", "How do I delete my search history?"),
        ("find all orders over $100", "list all orders over $100"),
        ("How can I purchase a gift card?", "How do I buy a gift card?"),
        ("turn on dark mode", "enable dark mode"),
        ("add a column to a pandas dataframe", "insert a column into a pandas dataframe"),
        # an operation added on one side is not a swap
        ("find and delete duplicate rows in SQL", "delete duplicate rows in SQL"),
        # a language named first or later is the same language
        ("Python function to reverse a string", "write a Python function to reverse a string"),
    ],
)
def test_verifier_accepts_same_period_and_synonym_operations(new, cached):
    v = Verifier()
    assert v.verify(new, cached).accept, v.verify(new, cached).reason
    assert v.verify(cached, new).accept, v.verify(cached, new).reason


def test_extract_relative_dates_and_actions():
    s = extract("Delete the orders of the last 7 days")
    assert s.dates == {"last:days"} and s.numbers == {"7"} and s.actions == {"delete"}
    assert extract("sales this quarter").dates == extract("sales for the current quarter").dates
    assert extract("the last one").dates == set()  # "last" without a period is not a date
    assert extract("prices dropped").actions == extract("drop the table").actions  # both senses
