"""The 3-layer student embedder: shipped as adapters over the teacher's weights, it must land
where the 6-layer teacher lands (the semantic tests in test_cache_semantic.py run on both)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")  # building the student's ONNX graph (once) needs torch

PAIRS = [  # (prompt, a paraphrase of it, an unrelated prompt)
    ("How do I reset my password?", "I forgot my password, how can I change it?", "What is the VAT rate in Germany?"),
    ("Cancel my order 5521", "Please cancel order number 5521", "Track the parcel I sent to Lyon"),
    ("Summarise this contract in three bullet points", "Give me a three-point summary of this contract",
     "Translate this contract into Spanish"),
    ("What is the capital of France?", "Which city is France's capital?", "How many legs does a spider have?"),
    ("Show me last quarter's revenue by region", "Revenue per region for the previous quarter",
     "Book a meeting room for Tuesday"),
]


@pytest.fixture(scope="module")
def both():
    from seawall.vector.embedder import load_embedder

    return load_embedder("onnx-int8", cache_entries=0), load_embedder("onnx-int8-l3", cache_entries=0)


def test_shipped_weights_are_small_and_say_which_layers_they_adapt():
    from seawall.vector.student import LAYERS, WEIGHTS

    data = np.load(WEIGHTS)
    assert tuple(int(i) for i in data["__layers__"]) == LAYERS
    assert WEIGHTS.stat().st_size < 2_000_000  # adapters only; the teacher's weights come from its package
    assert any(n.endswith(".B") and np.abs(data[n]).max() > 0 for n in data.files)  # trained, not the zero init


def test_student_lands_where_the_teacher_does(both):
    teacher, student = both
    texts = [t for triple in PAIRS for t in triple]
    agree = (teacher.embed(texts) * student.embed(texts)).sum(1)
    # measured: 0.85 on average, 0.80 at worst (both int8); the three teacher layers without
    # the adapters (fp32): 0.73 and 0.62
    assert agree.mean() > 0.8 and agree.min() > 0.75, agree


def test_student_keeps_paraphrases_closer_than_unrelated_prompts(both):
    _, student = both
    for prompt, para, other in PAIRS:
        v = student.embed([prompt, para, other])
        assert v[0] @ v[1] > v[0] @ v[2] + 0.15, (prompt, v[0] @ v[1], v[0] @ v[2])


def test_student_and_teacher_vectors_live_in_separate_namespaces(both):
    from seawall.cache.semantic import SemanticCache

    teacher, student = both
    body = {"messages": [{"role": "user", "content": "hello"}], "temperature": 0}
    assert SemanticCache(teacher).view(body).fingerprint != SemanticCache(student).view(body).fingerprint
