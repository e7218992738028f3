import threading

import numpy as np
import pytest

from seawall.vector.index import FlatIndex, NamespaceIndex
from seawall.vector.ivf import IvfIndex


def unit(rng, n, d=32):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(rng, n, d=32, k=40, spread=0.35):
    """Vectors around k topics (like prompt embeddings) plus queries = a stored vector + noise."""
    cen = rng.standard_normal((k, d)).astype(np.float32)
    x = cen[rng.integers(k, size=n)] + spread * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def near(rng, x, noise=0.08):
    q = x + noise * rng.standard_normal(x.shape).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def recall(ix, qs, alive_ids, alive_x):
    exact = alive_ids[(qs @ alive_x.T).argmax(1)]
    return float(np.mean([ix.search(q, 1)[0][0] == e for q, e in zip(qs, exact)]))


def check_ivf_consistent(iv: IvfIndex) -> None:
    seen = set()
    for c in range(iv.nlist):
        n = iv._cnt[c]
        assert n > 0, "empty lists are dropped"
        assert n <= 2 * iv.list_size
        for p, i in enumerate(iv._ids[c][:n]):
            assert iv._where[int(i)] == (c, p)
            seen.add(int(i))
        np.testing.assert_allclose(iv._sum[c], iv._x[c][:n].sum(0), atol=1e-3)
    assert seen == set(iv._where)


def test_flat_add_search_remove():
    rng = np.random.default_rng(1)
    x = unit(rng, 50)
    ix = FlatIndex(32, capacity=4)
    ix.add(range(100, 150), x)
    got = ix.search(x[7], 3)
    assert got[0][0] == 107 and abs(got[0][1] - 1) < 1e-5
    assert ix.remove(107) and not ix.remove(107)
    assert all(i != 107 for i, _ in ix.search(x[7], 5))
    assert len(ix) == 49


def test_tiers_flat_to_ivf_recall_vs_brute_force():
    rng = np.random.default_rng(2)
    x = clustered(rng, 4000)
    ix = NamespaceIndex(32, hnsw_above=300, ivf_above=300, list_size=32, nprobe=8)
    kinds = []
    s = 0
    for size in [1, 7, 100, 250, 1, 1, 500, 1140] + [1] * 200 + [1800]:  # singles and batches
        ix.add(range(s, s + size), x[s:s + size])
        s += size
        kinds.append(ix.kind)
    assert s == 4000 and len(ix) == 4000
    assert kinds[0] == "flat" and kinds[-1] == "ivf"
    st = ix.stats()
    assert st["lists"] > 50 and st["list_max"] <= 64  # grown by splitting, lists bounded
    check_ivf_consistent(ix._ix)
    qs = near(rng, x[rng.choice(4000, 300, replace=False)])
    assert recall(ix, qs, np.arange(4000), x) >= 0.95
    res = ix.search(qs[0], 5)
    assert len(res) == 5 and all(a[1] >= b[1] for a, b in zip(res, res[1:]))  # best first
    assert abs(res[0][1] - float(qs[0] @ x[res[0][0]])) < 1e-5  # score = cosine


def test_remove_after_transition_and_readd():
    rng = np.random.default_rng(3)
    x = clustered(rng, 3000)
    ix = NamespaceIndex(32, hnsw_above=200, ivf_above=200, list_size=32, nprobe=8)
    ix.add(range(3000), x)
    assert ix.kind == "ivf"
    gone = set(range(0, 3000, 2))
    for i in gone:
        assert ix.remove(i)
    assert not ix.remove(0) and len(ix) == 1500
    check_ivf_consistent(ix._ix)
    alive = np.arange(1, 3000, 2)
    for i in range(0, 3000, 50):  # the exact vector of a removed id never comes back as that id
        assert all(j not in gone for j, _ in ix.search(x[i], 10))
    qs = near(rng, x[rng.choice(alive, 200, replace=False)])
    assert recall(ix, qs, alive, x[alive]) >= 0.95
    # re-adding an id replaces its vector; an id twice in one batch keeps the last
    ix.add([1, 1], np.stack([x[2], x[4]]))
    assert len(ix) == 1500 and ix.search(x[4], 1)[0][0] == 1
    assert all(j != 1 for j, _ in ix.search(x[1], 3)) or ix.search(x[1], 1)[0][0] != 1
    for i in alive:
        ix.remove(int(i))
        if len(ix) == 99:  # shrunk below half of hnsw_above: back to the exact flat tier
            assert ix.kind == "flat"
            rest = alive[alive > i]
            assert recall(ix, near(rng, x[rest[:50]]), rest, x[rest]) == 1.0
    assert len(ix) == 0 and ix.search(x[0], 3) == []
    ix.add([7], x[7:8])
    assert ix.search(x[7], 3) == [(7, pytest.approx(1.0, abs=1e-5))]


def test_no_id_from_another_namespace():
    rng = np.random.default_rng(4)
    x = clustered(rng, 2000)
    a = NamespaceIndex(32, hnsw_above=100, ivf_above=1000, list_size=32)
    b = NamespaceIndex(32, hnsw_above=100, ivf_above=1000, list_size=32)
    a.add(range(2000), x)  # a holds the very vectors b is queried with
    b.add(range(10_000, 10_500), x[:500] * -1)
    for q in x[::10]:
        assert all(10_000 <= i < 10_500 for i, _ in b.search(q, 8))
        assert all(0 <= i < 2000 for i, _ in a.search(q, 8))


def test_identical_vectors_still_split():
    x = np.tile(unit(np.random.default_rng(5), 1), (700, 1))
    ix = NamespaceIndex(32, hnsw_above=50, ivf_above=50, list_size=16)
    ix.add(range(700), x)
    check_ivf_consistent(ix._ix)
    assert ix.stats()["list_max"] <= 32 and len(ix.search(x[0], 4)) == 4


def test_concurrent_add_remove_search():
    rng = np.random.default_rng(6)
    x = clustered(rng, 4000)
    ix = NamespaceIndex(32, hnsw_above=256, ivf_above=1500, list_size=32, migrate_step=16)
    errors = []

    def writer(lo):
        try:
            for i in range(lo, lo + 1000):
                ix.add([i], x[i:i + 1])
                if i % 3 == 0:
                    ix.remove(i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader():
        try:
            for q in x[:400]:
                for i, s in ix.search(q, 4):
                    assert 0 <= i < 4000 and -1.01 <= s <= 1.01
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=writer, args=(lo,)) for lo in range(0, 4000, 1000)]
    ts += [threading.Thread(target=reader) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    alive = [i for i in range(4000) if i % 3]
    assert len(ix) == len(alive) and ix.kind in ("hnsw", "ivf")
    if ix.kind == "ivf":
        check_ivf_consistent(ix._ix)
    assert sorted(ix._ix.items()[0].tolist()) == alive


def test_three_tiers_with_amortised_migration_to_ivf():
    rng = np.random.default_rng(7)
    x = clustered(rng, 5000)
    ix = NamespaceIndex(32, hnsw_above=200, ivf_above=1500, list_size=32, nprobe=8, migrate_step=40)
    kinds, migrating, removed = [], False, set()
    for i in range(5000):
        ix.add([i], x[i:i + 1])
        kinds.append(ix.kind)
        if "migrating_to_ivf" in ix.stats():
            migrating = True
            if i % 7 == 0:  # removes during the copy: of entries copied or not yet copied
                for j in (i - 1, int(rng.integers(i))):
                    if j not in removed:
                        assert ix.remove(j)
                        removed.add(j)
            if i % 11 == 0:  # re-add (new vector) of an old entry during the copy
                ix.add([5], x[4999:5000])
            assert ix.search(x[i], 1)[0][0] == i
    assert kinds[0] == "flat" and "hnsw" in kinds and kinds[-1] == "ivf" and migrating
    assert kinds.index("ivf") > 1500 + 1500 // 40 // 2  # switched only after the copy, not at once
    check_ivf_consistent(ix._ix)
    alive = np.array(sorted(set(range(5000)) - removed))
    assert sorted(ix._ix.items()[0].tolist()) == alive.tolist() and len(ix) == len(alive)
    assert all(j not in removed for q in x[::25] for j, _ in ix.search(q, 8))
    assert ix.search(x[4999], 2)[0][1] > 0.999 and {j for j, _ in ix.search(x[4999], 2)} == {5, 4999}
    qs = near(rng, x[rng.choice(alive, 300, replace=False)])
    assert recall(ix, qs, alive, np.where(alive[:, None] == 5, x[4999], x[alive])) >= 0.95


def test_hnsw_tier_only():
    rng = np.random.default_rng(2)
    x = unit(rng, 600)
    ix = NamespaceIndex(32, hnsw_above=200, ivf_above=None)
    ix.add(range(600), x)
    assert ix.kind == "hnsw" and len(ix) == 600
    found = sum(ix.search(x[i], 1)[0][0] == i for i in range(0, 600, 10))
    assert found >= 55
    assert ix.remove(0)
    assert ix.search(x[0], 1)[0][0] != 0
