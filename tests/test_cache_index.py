import numpy as np

from seawall.cache.index import FlatIndex, NamespaceIndex


def unit(rng, n, d=32):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


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


def test_namespace_index_promotes_to_hnsw_and_still_finds_neighbours():
    rng = np.random.default_rng(2)
    x = unit(rng, 600)
    ix = NamespaceIndex(32, hnsw_above=200)
    ix.add(range(600), x)
    assert ix.kind == "hnsw" and len(ix) == 600
    found = sum(ix.search(x[i], 1)[0][0] == i for i in range(0, 600, 10))
    assert found >= 55  # approximate, but near-exact on this size
    assert ix.remove(0)
    assert ix.search(x[0], 1)[0][0] != 0
