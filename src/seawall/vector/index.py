"""Nearest-neighbour search inside one namespace (tenant scope + alias [+ context]).

One index per namespace: a search can only ever return vectors written under the same
namespace, so tenant isolation does not depend on a filter being applied correctly.

A namespace starts as a flat (exact) matrix: below a few thousand vectors a single matrix-
vector product is exact and as fast as anything. Past ``hnsw_above`` entries it moves to an
HNSW graph (hnswlib, inner product on unit vectors = cosine), and past ``ivf_above`` (100k)
to an IVF index (``ivf.py``: numpy, lists of 256-512 vectors kept by splitting, ``nprobe``
lists scanned exactly). On real-text embeddings with real paraphrase queries the graph finds
the exact nearest neighbour as often as IVF at 100k with a fraction of the work, but a graph
takes tens of minutes to build at 1M on 2 cores and finds less there; IVF grows by cheap
appends. The graph-to-IVF switch is amortised over later adds. docs/benchmarks.md has the
measurements.

Ids are caller-chosen ints (the semantic cache uses them to find its entries).
"""
from __future__ import annotations

import threading
from typing import Iterable

import numpy as np

from .ivf import IvfIndex


class FlatIndex:
    """Exact cosine search over a growing matrix; O(1) remove by swapping the last row in."""

    def __init__(self, dim: int, capacity: int = 256) -> None:
        self.dim = dim
        self._x = np.zeros((capacity, dim), np.float32)
        self._ids = np.zeros(capacity, np.int64)
        self._pos: dict[int, int] = {}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(self, ids: Iterable[int], vecs: np.ndarray) -> None:
        vecs = np.asarray(vecs, np.float32).reshape(-1, self.dim)
        for i, v in zip(ids, vecs):
            i = int(i)
            if i in self._pos:
                self._x[self._pos[i]] = v
                continue
            if self._n == len(self._x):
                self._x = np.concatenate([self._x, np.zeros_like(self._x)])
                self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
            self._x[self._n] = v
            self._ids[self._n] = i
            self._pos[i] = self._n
            self._n += 1

    def remove(self, id_: int) -> bool:
        p = self._pos.pop(int(id_), None)
        if p is None:
            return False
        last = self._n - 1
        if p != last:
            self._x[p] = self._x[last]
            self._ids[p] = self._ids[last]
            self._pos[int(self._ids[p])] = p
        self._n = last
        return True

    def search(self, vec: np.ndarray, k: int = 4) -> list[tuple[int, float]]:
        if self._n == 0:
            return []
        s = self._x[: self._n] @ np.asarray(vec, np.float32).reshape(self.dim)
        k = min(k, self._n)
        top = np.argpartition(s, -k)[-k:] if k < self._n else np.arange(self._n)
        top = top[np.argsort(-s[top])]
        return [(int(self._ids[t]), float(s[t])) for t in top]

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        return self._ids[: self._n].copy(), self._x[: self._n].copy()


class HnswIndex:
    """HNSW graph (hnswlib) with inner-product space on unit vectors."""

    def __init__(self, dim: int, capacity: int = 8192, m: int = 16, ef_construction: int = 100,
                 ef_search: int = 64) -> None:
        import hnswlib

        self.dim = dim
        self._h = hnswlib.Index(space="ip", dim=dim)
        self._h.init_index(max_elements=capacity, M=m, ef_construction=ef_construction,
                           allow_replace_deleted=True)
        self._h.set_ef(ef_search)
        self._h.set_num_threads(1)
        self._live: set[int] = set()

    def __len__(self) -> int:
        return len(self._live)

    def add(self, ids: Iterable[int], vecs: np.ndarray, threads: int = 1) -> None:
        ids = np.asarray(list(ids), np.int64)
        vecs = np.asarray(vecs, np.float32).reshape(-1, self.dim)
        need = self._h.get_current_count() + len(ids)
        if need > self._h.get_max_elements():
            self._h.resize_index(max(need, 2 * self._h.get_max_elements()))
        self._h.set_num_threads(threads)
        self._h.add_items(vecs, ids, replace_deleted=True)
        self._h.set_num_threads(1)
        self._live.update(int(i) for i in ids)

    def remove(self, id_: int) -> bool:
        if int(id_) not in self._live:
            return False
        self._h.mark_deleted(int(id_))
        self._live.discard(int(id_))
        return True

    def search(self, vec: np.ndarray, k: int = 4) -> list[tuple[int, float]]:
        if not self._live:
            return []
        k = min(k, len(self._live))
        labels, dist = self._h.knn_query(np.asarray(vec, np.float32).reshape(1, self.dim), k=k)
        # hnswlib's "ip" distance is 1 - dot
        return [(int(l), float(1.0 - d)) for l, d in zip(labels[0], dist[0])]

    def vectors(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._h.get_items(ids), np.float32).reshape(-1, self.dim)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        ids = sorted(self._live)
        return np.asarray(ids, np.int64), self.vectors(ids)


class NamespaceIndex:
    """Flat (exact) while small, then HNSW, then IVF for very large namespaces. Thread-safe.

    - flat up to ``hnsw_above`` entries (the size ``SemanticCache`` passes);
    - HNSW (hnswlib M 16, ef_construction 100, ef 64) up to ``ivf_above`` entries: on the
      default (ONNX) embedder's vectors it finds as much as IVF at a fraction of the scan;
    - IVF (``ivf.py``) above ``ivf_above``: a graph takes tens of minutes to build at 1M on
      2 cores and finds less there. The switch is amortised: once the graph passes
      ``ivf_above`` an IVF is started beside it (trained on ~8k of its vectors); new adds go
      to both and every add also copies ``max(migrate_step, batch)`` old entries over, so no
      add waits for a rebuild and the copy ends before the namespace has doubled; searches
      use the graph until it is complete.

    ``ivf_above=hnsw_above`` skips HNSW (flat, then IVF); ``ivf_above=None`` never leaves HNSW.
    A namespace that shrinks below half of ``hnsw_above`` goes back to flat.
    """

    def __init__(self, dim: int, hnsw_above: int = 4096, *, ivf_above: int | None = 100_000,
                 list_size: int = 256, nprobe: int = 32, migrate_step: int = 128) -> None:
        self.dim = dim
        self.hnsw_above = hnsw_above
        self.ivf_above = ivf_above
        self.migrate_step = migrate_step
        self._ivf_kw = {"list_size": list_size, "nprobe": nprobe}
        self._ix: FlatIndex | HnswIndex | IvfIndex = FlatIndex(dim)
        self._next: IvfIndex | None = None  # the IVF being filled beside the graph
        self._todo: list[int] = []  # graph ids still to copy into _next
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ix)

    @property
    def kind(self) -> str:
        return {FlatIndex: "flat", HnswIndex: "hnsw", IvfIndex: "ivf"}[type(self._ix)]

    @property
    def nprobe(self) -> int:
        return self._ivf_kw["nprobe"]

    @nprobe.setter
    def nprobe(self, v: int) -> None:
        with self._lock:
            self._ivf_kw["nprobe"] = v
            for ix in (self._ix, self._next):
                if isinstance(ix, IvfIndex):
                    ix.nprobe = v

    def add(self, ids: Iterable[int], vecs: np.ndarray) -> None:
        ids = [int(i) for i in ids]
        vecs = np.asarray(vecs, np.float32).reshape(-1, self.dim)
        with self._lock:
            self._ix.add(ids, vecs)
            if self._next is not None:
                self._next.add(ids, vecs)
                self._migrate(max(self.migrate_step, len(ids), 1))  # at least as many old as new
            n = len(self._ix)
            if isinstance(self._ix, FlatIndex) and n > self.hnsw_above:
                all_ids, all_x = self._ix.items()
                if self.ivf_above is not None and n > self.ivf_above:
                    self._ix = IvfIndex.from_items(self.dim, all_ids, all_x, **self._ivf_kw)
                else:
                    h = HnswIndex(self.dim, capacity=2 * n)
                    h.add(all_ids, all_x)
                    self._ix = h
            elif (isinstance(self._ix, HnswIndex) and self._next is None and self.ivf_above is not None
                  and n > self.ivf_above):
                self._todo = sorted(self._ix._live)
                seed = self._todo[:: max(1, len(self._todo) // 8192)]  # train on an even sample
                self._next = IvfIndex.from_items(self.dim, np.asarray(seed), self._ix.vectors(seed),
                                                 **self._ivf_kw)

    def _migrate(self, step: int) -> None:
        """Copy up to ``step`` graph entries into the IVF; switch over when all are there."""
        assert isinstance(self._ix, HnswIndex) and self._next is not None
        chunk, self._todo = self._todo[-step:], self._todo[:-step]
        chunk = [i for i in chunk if i in self._ix._live and i not in self._next._where]
        self._next.add(chunk, self._ix.vectors(chunk))
        if not self._todo:
            self._ix, self._next = self._next, None

    def remove(self, id_: int) -> bool:
        with self._lock:
            gone = self._ix.remove(id_)
            if self._next is not None:
                self._next.remove(id_)
            if not isinstance(self._ix, FlatIndex) and len(self._ix) < self.hnsw_above // 2:
                # shrunk: back to exact (below half of hnsw_above, so it does not flap)
                flat = FlatIndex(self.dim, capacity=self.hnsw_above)
                flat.add(*self._ix.items())
                self._ix, self._next, self._todo = flat, None, []
            return gone

    def search(self, vec: np.ndarray, k: int = 4) -> list[tuple[int, float]]:
        with self._lock:
            return self._ix.search(vec, k)

    def stats(self) -> dict:
        with self._lock:
            out = {"kind": self.kind, "entries": len(self._ix)}
            if isinstance(self._ix, IvfIndex):
                out.update(self._ix.stats())
            if self._next is not None:
                out["migrating_to_ivf"] = len(self._next)
            return out
