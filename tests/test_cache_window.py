"""Long prompts: the embedding reads the first 256 word pieces only, so two prompts that share
their first page and differ later embed alike. The cache must not serve one for the other; a
long prompt reworded only where the embedding reads still hits."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.window import EMBED_CHARS, cut, read_parts, seen_chars  # noqa: E402
from cache_util import chat  # noqa: E402

LOG = "\n".join(f"2026-12-01 02:{i:02d} INFO chunk {i} of the nightly backup uploaded to bucket b-7" for i in range(60))
CONTRACT = "".join(f"Section {i}. The supplier shall deliver the goods described in annex A to the buyer's warehouse "
                   "within the agreed period, and the buyer shall inspect them on arrival. " for i in range(1, 30))


def decide(cache, stored, asked, **kw):
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    try:
        return cache.decide("t", "x", chat(asked), **kw)
    finally:
        cache.invalidate(scope="t")


def test_long_prompts_that_differ_past_the_window_are_not_served(default_cache):
    ask = "Summarise this log and tell me whether the backup succeeded:\n" + LOG
    d = decide(default_cache, ask + "\n03:00 INFO backup finished OK", ask + "\n03:00 ERROR backup failed: disk full")
    assert d.hit is None and d.score > 0.99 and d.reason == "long prompt: differs past the embedded window", d
    # with the rules off too: no vector saw the difference
    off = decide(default_cache, ask + "\nstatus OK", ask + "\nstatus FAILED", verify=False)
    assert off.hit is None and off.reason.startswith("long prompt"), off


def test_a_long_prompt_with_a_small_edit_where_the_embedding_reads_is_served(default_cache):
    d = decide(default_cache, "Summarise this contract:\n\n" + CONTRACT, "Summarise the contract:\n\n" + CONTRACT)
    assert d.hit is not None and d.hit.response == "stored answer", d
    same = decide(default_cache, "Summarise this contract:\n\n" + CONTRACT, "Summarise this contract:\n\n" + CONTRACT)
    assert same.hit is not None


UPDATE = ("Our quarterly results show that revenue in the EMEA region grew by a modest margin while costs stayed flat. "
          "The board asked the finance team to prepare a revised forecast, and the sales team will present the new "
          "pipeline review next Tuesday. Hiring remains frozen until the end of the year.")


def test_different_requests_around_a_shared_document_are_not_served(default_cache):
    """The shared document fills both vectors (cosine ~0.97): the requests around it are compared alone."""
    for stored, asked in [("Fix the grammar of this text:\n\n" + UPDATE, "Write a reply to this text:\n\n" + UPDATE),
                          (UPDATE + "\n\nWhat did the board ask for?", UPDATE + "\n\nWhat did the sales team plan?"),
                          (UPDATE + "\n\nPlease list the action items.", UPDATE)]:
        d = decide(default_cache, stored, asked)
        assert d.hit is None and d.reason.startswith("shared context"), (stored[:40], asked[:40], d)
    # a paraphrase of the request is refused too (its fragments embed apart): a miss, not a wrong answer
    d = decide(default_cache, "Summarise this:\n\n" + UPDATE, "Please give me a summary of the following:\n\n" + UPDATE)
    assert d.hit is None


def test_earlier_turns_that_differ_past_the_window_are_not_served(default_cache):
    def conv(last_log_line):
        return {"messages": [{"role": "user", "content": "Here is last night's log:\n" + LOG + "\n" + last_log_line},
                             {"role": "assistant", "content": "Thanks, I have read it."},
                             {"role": "user", "content": "Did the backup succeed?"}], "temperature": 0}
    cache = default_cache
    cache.store("t", "x", conv("03:00 INFO backup finished OK"), "yes", ttl_s=60)
    d = cache.decide("t", "x", conv("03:00 ERROR backup failed: disk full"))
    cache.invalidate(scope="t")
    assert d.hit is None and d.reason == "long history: differs past the embedded window", d


def test_seen_chars_and_the_cut():
    short = "How do I reset my password?"
    assert seen_chars(short) == len(short)
    long_text = "Summarise this log:\n" + LOG
    seen = seen_chars(long_text)
    assert 254 < seen < len(long_text) and long_text[seen - 1].isalnum()
    huge = "word " * 1_000_000
    assert cut(huge) == huge[:EMBED_CHARS] and seen_chars(huge) < EMBED_CHARS
    # everything past either window must be a shared suffix; the rules then read up to it
    a, b = "x" * 300 + "tail", "y" * 290 + "tail"
    assert read_parts(a, 300, b, 290) == ("x" * 300, "y" * 290)
    assert read_parts(a, 299, b, 290) is None  # a's unread "xtail" is not b's "ytail"
    assert read_parts(short, len(short), "Reset it how?", 13) == (short, "Reset it how?")


def test_the_rules_read_a_long_prompt_up_to_its_shared_tail(default_cache):
    """Two copies of a 1 MB prompt that differ in their first words: the rules compare the first
    words (the shared megabyte would take them ~1.4 s) and find the difference."""
    tail = "\n" + "The supplier shall deliver 12 boxes to Berlin by Friday. " * 18_000
    d = decide(default_cache, "Summarise in 100 words:" + tail, "Summarise in 300 words:" + tail)
    assert d.hit is None and d.reason.startswith("numbers"), d


def test_turns_older_than_the_embedded_ones_must_be_equal(default_cache):
    """Only the last four earlier turns are embedded and compared: a conversation that differs
    before them ("my account is in EUR" / "in USD") is another context, never served."""
    def conv(first):
        return {"messages": [{"role": "user", "content": first},
                             {"role": "assistant", "content": "Noted."},
                             {"role": "user", "content": "Thanks."},
                             {"role": "assistant", "content": "You're welcome."},
                             {"role": "user", "content": "One more thing."},
                             {"role": "assistant", "content": "Sure, go ahead."},
                             {"role": "user", "content": "What is my balance in my currency?"}], "temperature": 0}
    cache = default_cache
    cache.store("t", "x", conv("My account is kept in EUR."), "1,200 EUR", ttl_s=60)
    other = cache.decide("t", "x", conv("My account is kept in USD."))
    same = cache.decide("t", "x", conv("My account is kept in EUR."))
    cache.invalidate(scope="t")
    assert other.hit is None and other.reason == "empty namespace", other
    assert same.hit is not None and same.hit.response == "1,200 EUR"


def test_images_and_files_must_be_equal(default_cache):
    """The embedding reads a message's text parts only: "What is in this picture?" about another
    picture (or file) is another context."""
    def ask(url, kind="image_url"):
        part = {"type": "image_url", "image_url": {"url": url}} if kind == "image_url" else {"type": "file", "file": {"file_id": url}}
        return {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}, part]}]}
    cache = default_cache
    cache.store("t", "x", ask("https://example.com/cat.png"), "a cat", ttl_s=60)
    cache.store("t", "x", ask("file-123", "file"), "a cow", ttl_s=60)
    dog = cache.decide("t", "x", ask("https://example.com/dog.png"))
    other_file = cache.decide("t", "x", ask("file-456", "file"))
    cat = cache.decide("t", "x", ask("https://example.com/cat.png"))
    cache.invalidate(scope="t")
    assert dog.hit is None and other_file.hit is None, (dog, other_file)
    assert cat.hit is not None and cat.hit.response == "a cat"
