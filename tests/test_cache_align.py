"""The token-alignment gate of the semantic cache (vector/align.py), with the real student."""
import io
import os
from types import SimpleNamespace

import numpy as np
import orjson
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from seawall.vector.align import alignment, pack  # noqa: E402

KIND = "onnx-int8-l3"


def test_alignment_costs_a_word_unmatched_on_either_side():
    e = np.eye(8, dtype=np.float32)
    a, b = pack(e[[0, 1]]), pack(e[[0, 1, 2]])
    assert alignment(a, a) == pytest.approx(1.0, abs=1e-3)
    # b's third word has no match in a: the weaker direction (b to a) is kept, both ways round
    assert alignment(a, b) == pytest.approx(2 / 3, abs=1e-3) and alignment(b, a) == pytest.approx(2 / 3, abs=1e-3)
    assert alignment(pack(e[:0]), pack(e[:0])) == 1.0 and alignment(pack(e[:0]), a) == 0.0


def test_int8_tokens_keep_cosines():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(6, 384)).astype(np.float32)
    t = pack(h)
    assert t.q.dtype == np.int8 and t.q.nbytes == 6 * 384
    exact = h / np.linalg.norm(h, axis=1, keepdims=True)
    assert np.abs(t.vectors() @ t.vectors().T - exact @ exact.T).max() < 0.01


@pytest.fixture(scope="module")
def cache():
    from seawall.cache.eval import build_cache

    return build_cache(KIND)  # the shipped defaults: student, rules, gate on


def chat(text):
    return {"messages": [{"role": "user", "content": text}]}


def test_defaults_serve_a_paraphrase_the_cosine_alone_would_not(cache):
    cache.store("t", "gray", chat("how to delete my account"), "steps", ttl_s=60)
    d = cache.decide("t", "gray", chat("how do i delete my account please"))
    assert d.hit is not None and 0.9375 <= d.score < 0.95  # below the cosine-only threshold
    off = cache.decide("t", "gray", chat("how do i delete my account please"), align=False)
    assert off.hit is None and off.reason.startswith("cosine") and "0.950" in off.reason


@pytest.mark.parametrize("cached, new", [
    ("How do I make pancakes?", "How do I make fluffy pancakes?"),
    ("what are the side effects of ibuprofen", "what are the long term side effects of ibuprofen"),
])
def test_gate_refuses_a_narrower_question_the_rules_let_through(cache, cached, new):
    alias = f"narrow-{abs(hash(cached))}"
    cache.store("t", alias, chat(cached), "answer", ttl_s=60)
    refused = cache.decide("t", alias, chat(new), threshold=0.90)
    assert refused.hit is None and refused.reason.startswith("alignment")
    assert cache.decide("t", alias, chat(new), threshold=0.90, align=False).hit is not None  # cosine + rules
    assert cache.decide("t", alias, chat(new), threshold=0.90, align_threshold=0.5).hit is not None


def test_an_entry_pulled_without_token_vectors_reads_them_once():
    from seawall.cache.semantic import SemanticCache
    from seawall.vector.embedder import default_aligned, default_threshold, load_embedder

    other = load_embedder(KIND, cache_entries=0)  # another instance's vector, as the shared level has it
    c = SemanticCache(load_embedder(KIND), threshold=default_threshold(KIND), aligned=default_aligned(KIND))
    view = c.view(chat("How do I make pancakes?"))
    c.add_entry(("t", "a", view.fingerprint), other.embed([view.query])[0], view.query, "", "answer", 0.0, 1e12, 1e12)
    (entry,) = c._entries.values()
    assert entry.tokens is None  # not in this instance's embedding cache: not embedded at add
    d = c.decide("t", "a", chat("How do I make fluffy pancakes?"), threshold=0.90)
    assert d.hit is None and d.reason.startswith("alignment") and entry.tokens
    assert c.decide("t", "a", chat("how to make pancakes"), threshold=0.90).hit is not None


def test_settings_and_eval_output():
    from seawall.cache import eval as cache_eval
    from seawall.cache.policy import SemanticSettings

    s = SemanticSettings()
    assert s.align is True and s.align_threshold is None
    pairs = b'{"a": "How do I make pancakes?", "b": "How do I make fluffy pancakes?"}\n'
    out = []
    for align in (True, False):
        buf = io.BytesIO()
        settings = SimpleNamespace(**{**s.model_dump(), "align": align, "threshold": 0.90})
        cache_eval.run(io.BytesIO(pairs), buf, io.StringIO(), kind=KIND, settings=settings)
        rec = orjson.loads(buf.getvalue())
        assert set(rec) == {"served", "score", "reason"}  # the contract is unchanged
        out.append(rec["served"])
    assert out == [False, True]  # refused by the gate, served by cosine + rules
