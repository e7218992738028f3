"""The pair judge through the real semantic cache (shipped weights, shipped thresholds; opt-in
per alias since it did not keep 1 % false hits on held-out sets), and the `seawall eval cache`
contract. The rules at the default threshold: tests/test_cache_lookalikes.py."""
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from cache_util import chat  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]

# Issue 14: look-alike questions the cache served, and duplicates it refused.
LOOKALIKES = [
    ("Where is Kevin Hart from?", "Who is Kevin Hart?"),
    ("Where is the Taj Mahal?", "Who built the Taj Mahal?"),
    ("How can I invest in the Indian stock market from overseas?", "How do I invest in the Indian stock market?"),
    ("What are the top 10 movies of 2010?", "What are the top 10 movies?"),
    ("Where can I learn about materials science?", "How do I learn about materials science?"),
    ("cancel my order", "do not cancel my order"),
    ("What is the weather in Paris?", "What is the weather in London?"),
    ("convert 5 km to miles", "convert 50 km to miles"),
]
DUPLICATES = [
    ("How do I reset my password?", "How can I reset my password?"),
    ("Who are the greatest Olympians of all time?", "Who are the greatest Olympic athletes of all time?"),
    ("Is it worth learning Latin today? If not, why?", "Is learning Latin still worth it today? If not, why?"),
]
# Not asserted: short rewordings with a content word added ("capital" vs "capital city") the
# judge scores just under its threshold: a miss, which costs a call, never a wrong answer.


@pytest.fixture(scope="module", params=["onnx-int8-l3", "onnx-int8"])
def cache(request):
    from seawall.cache.eval import build_cache

    c = build_cache(request.param)
    if c.judge is None:
        pytest.skip(f"no judge shipped for {request.param}")
    return c


@pytest.fixture(scope="module")
def default_cache():
    """The shipped default embedder, the 3-layer student; it ships with a judge, used on opt-in."""
    from seawall.cache.eval import build_cache
    from seawall.cache.policy import CacheConfig, SemanticSettings

    c = build_cache(CacheConfig().embedder)
    assert c.judge is not None
    assert SemanticSettings().judge is False  # opt-in: the rules decide by default
    return c


@pytest.mark.parametrize("judge", [False, True])
@pytest.mark.parametrize("stored, asked", LOOKALIKES)
def test_lookalike_questions_are_not_served(cache, stored, asked, judge):
    for a, b in ((stored, asked), (asked, stored)):
        cache.store("t", "x", chat(a), "stored answer", ttl_s=60)
        d = cache.decide("t", "x", chat(b), judge=judge)
        cache.invalidate(scope="t")
        assert d.hit is None, (a, b, d)
        assert d.reason


@pytest.mark.parametrize("stored, asked", DUPLICATES)
def test_duplicates_are_served_by_the_judge(default_cache, stored, asked):
    cache = default_cache
    cache.store("t", "x", chat(stored), "stored answer", ttl_s=60)
    d = cache.decide("t", "x", chat(asked), judge=True)
    cache.invalidate(scope="t")
    assert d.hit is not None and d.hit.response == "stored answer", d
    assert d.reason is None and 0 < d.score <= 1.0


def test_the_judge_decides_only_when_an_alias_opts_in(default_cache):
    cache = default_cache
    cache.store("t", "x", chat("How do I reset my password?"), "pw", ttl_s=60)
    # below the rules' threshold: the default misses on cosine, the judge (floor 0.70) decides
    rules = cache.decide("t", "x", chat("How do I reset my password?!?"), threshold=0.99999)
    assert rules.reason is None or not rules.reason.startswith("judge")
    off = cache.decide("t", "x", chat("How can I reset my password?"), judge_threshold=1.0)
    assert off.hit is not None  # judge_threshold alone does not turn the judge on
    strict = cache.decide("t", "x", chat("How can I reset my password?"), judge=True, judge_threshold=1.0)
    assert strict.hit is None and strict.reason.startswith("judge")
    high = cache.decide("t", "x", chat("How can I reset my password?"), threshold=0.999)
    assert high.hit is None and high.reason.startswith("cosine")
    cache.invalidate(scope="t")


@pytest.mark.parametrize("new, cached, accept", [
    ("Should I learn Go? If not, why?", "Should I learn Go?", True),  # an alternative, not a negation
    ("Is it safe? If not, why?", "Is it safe, or not?", True),
    ("Who are the greatest Olympians?", "Who are the greatest Olympic athletes?", True),  # one name, inflected
    ("Why not use Rust?", "Why use Rust?", False),  # a negated question still refuses
    ("cancel my order", "do not cancel my order", False),
    ("weather in Paris", "weather in London", False),
])
def test_rule_signals_read_alternatives_and_inflected_names(new, cached, accept):
    from seawall.vector.verifier import Verifier

    assert Verifier().verify(new, cached).accept is accept


def _eval(lines: bytes, *args: str) -> tuple[list[dict], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-m", "seawall.cli", "eval", "cache", "-", *args], input=lines,
                       capture_output=True, env=env, timeout=300, check=True)
    return [orjson.loads(x) for x in p.stdout.splitlines()], p.stderr.decode()


def test_eval_cache_output_contract():
    pairs = [
        {"a": "How do I reset my password?", "b": "How can I reset my password?", "label": 1},
        {"a": "What are the top 10 movies of 2010?", "b": "What are the top 10 movies?"},
        {"b": "missing a"},
        {"a": "cancel my order", "b": "do not cancel my order", "id": 7},
        {"a": "How do I reset my password?", "b": "How do I reset my password?"},
        {"a": "What is the weather in Paris?", "b": "How do I reset my password?"},
    ]
    body = b"\n".join(orjson.dumps(p) for p in pairs[:2]) + b"\nnot json\n" + b"\n".join(
        orjson.dumps(p) for p in pairs[2:]) + b"\n"
    out, err = _eval(body)
    assert len(out) == 7  # one line per input line, in order, bad lines included
    for rec in out:
        assert set(rec) == {"served", "score", "reason"}
        assert isinstance(rec["served"], bool)
        assert rec["score"] is None or isinstance(rec["score"], float)
        assert rec["reason"] is None or isinstance(rec["reason"], str)
        assert (rec["reason"] is None) == rec["served"]
    assert [r["served"] for r in out] == [True, False, False, False, False, True, False]
    assert out[2]["score"] is None and "line 3" in out[2]["reason"]
    assert out[3]["score"] is None and "line 4" in out[3]["reason"]
    assert out[5]["score"] == 1.0
    # each pair in a fresh namespace: the last b was stored by earlier pairs, never in its own
    assert out[6]["score"] is not None and out[6]["score"] < 0.9
    assert "pairs" in err  # progress on stderr


def test_eval_cache_uses_the_alias_policy(tmp_path):
    cfg = tmp_path / "seawall.yaml"
    cfg.write_text(
        "providers:\n  - name: sim\n    kind: openai\n    base_url: http://127.0.0.1:9/v1\n"
        "models:\n  - name: strict\n    targets: [{provider: sim, model: m}]\n"
        "    cache: {category: short, semantic: {enabled: true, threshold: 0.999}}\n"
        "  - name: loose\n    targets: [{provider: sim, model: m}]\n"
        "    cache: {category: short, semantic: {enabled: true, verify: false, threshold: 0.5}}\n")
    pair = orjson.dumps({"a": "cancel my order", "b": "do not cancel my order"}) + b"\n"
    strict, _ = _eval(pair, "--config", str(cfg), "--alias", "strict")
    loose, _ = _eval(pair, "--config", str(cfg), "--alias", "loose")
    assert strict[0]["served"] is False and strict[0]["reason"].startswith("cosine")
    assert loose[0]["served"] is True  # cosine alone, as that alias is configured
    bad = subprocess.run([sys.executable, "-m", "seawall.cli", "eval", "cache", "-", "--config", str(cfg),
                          "--alias", "nope"], input=pair, capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=120)
    assert bad.returncode != 0 and b"unknown alias" in bad.stderr
