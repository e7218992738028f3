"""Inverted-file (IVF) index in numpy: the large tier of a namespace's ANN index.

Vectors live in lists, one per centroid; a search ranks the centroids (one mat-vec) and scans
the ``nprobe`` lists whose centroids are nearest the query, exactly, in float32.

The lists are kept small by splitting, not by retraining: a list that grows past
``2 * list_size`` vectors is split in two by a 2-means on its own members (bisecting k-means),
then the members of the ``refine`` lists nearest it are re-assigned among their centroids
(local re-balancing, as in SPFresh's LIRE), one pass over a few thousand vectors: a few
milliseconds. So the number of lists grows with the namespace (about n / list_size), every add
is O(1)-ish amortised, and no add ever waits for a retraining of the whole index (nor is there a
background thread). A centroid is the normalised running sum of its list, so it follows the
vectors added to it. A list that becomes empty is dropped (the last list moves into its slot).

Not thread-safe by itself: ``NamespaceIndex`` holds the lock. Ids are caller ints.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n == 0, 1.0, n)


class IvfIndex:
    def __init__(self, dim: int, list_size: int = 256, nprobe: int = 32, refine: int = 8,
                 seed: int = 0) -> None:
        self.dim = dim
        self.refine = refine
        self.list_size = list_size
        self.nprobe = nprobe
        self._rng = np.random.default_rng(seed)
        self._cen = np.zeros((16, dim), np.float32)  # centroids (unit), first _nl rows used
        self._sum = np.zeros((16, dim), np.float32)  # running sum of each list's vectors
        self._nl = 0
        self._x: list[np.ndarray] = []  # per list: vectors (capacity rows, first _cnt[c] used)
        self._ids: list[np.ndarray] = []
        self._cnt: list[int] = []
        self._where: dict[int, tuple[int, int]] = {}  # id -> (list, row)
        self._emptied: set[int] = set()

    def __len__(self) -> int:
        return len(self._where)

    @property
    def nlist(self) -> int:
        return self._nl

    # --- building -------------------------------------------------------------------------

    @classmethod
    def from_items(cls, dim: int, ids: np.ndarray, x: np.ndarray, **kw) -> "IvfIndex":
        """k-means (4 rounds, on a sample) for about len/list_size lists, then add everything."""
        ix = cls(dim, **kw)
        x = np.asarray(x, np.float32)
        nl = max(1, len(x) // ix.list_size)
        samp = x if len(x) <= 64 * nl else x[ix._rng.choice(len(x), 64 * nl, replace=False)]
        cen = samp[ix._rng.choice(len(samp), nl, replace=False)]
        for _ in range(4):
            lab = ix._nearest(samp, cen)
            sums = np.zeros_like(cen)
            np.add.at(sums, lab, samp)
            empty = np.bincount(lab, minlength=nl) == 0
            sums[empty] = cen[empty]
            cen = _unit(sums)
        for c in cen:
            ix._new_list(c, np.zeros(dim, np.float32))
        ix.add(ids, x)
        ix._drop_empty(every=True)  # centroids k-means left without members
        return ix

    def _new_list(self, cen: np.ndarray, total: np.ndarray, cap: int = 16) -> int:
        if self._nl == len(self._cen):
            self._cen = np.concatenate([self._cen, np.zeros_like(self._cen)])
            self._sum = np.concatenate([self._sum, np.zeros_like(self._sum)])
        c = self._nl
        self._cen[c], self._sum[c] = cen, total
        self._x.append(np.empty((cap, self.dim), np.float32))
        self._ids.append(np.empty(cap, np.int64))
        self._cnt.append(0)
        self._nl += 1
        return c

    @staticmethod
    def _nearest(x: np.ndarray, cen: np.ndarray) -> np.ndarray:
        return np.concatenate([(x[s:s + 8192] @ cen.T).argmax(1) for s in range(0, len(x), 8192)])

    # --- add / remove ---------------------------------------------------------------------

    def add(self, ids: Iterable[int], vecs: np.ndarray) -> None:
        vecs = np.asarray(vecs, np.float32).reshape(-1, self.dim)
        last = {int(i): r for r, i in enumerate(ids)}  # an id twice in one batch: the last wins
        if len(last) < len(vecs):
            vecs = vecs[list(last.values())]
        ids = list(last)
        if not ids:
            return
        for i in ids:
            if i in self._where:  # re-add = replace
                self.remove(i)
        if self._nl == 0:
            self._new_list(_unit(vecs[0]), np.zeros(self.dim, np.float32))
        touched = set()
        for i, v, c in zip(ids, vecs, self._nearest(vecs, self._cen[: self._nl])):
            self._append(int(c), i, v)
            touched.add(int(c))
        for c in touched:
            self._cen[c] = _unit(self._sum[c])
        todo = [c for c in touched if self._cnt[c] > 2 * self.list_size]
        while todo:
            c = todo.pop()
            if self._cnt[c] > 2 * self.list_size:
                todo += self._split(c)
        self._drop_empty()

    def _drop_empty(self, every: bool = False) -> None:
        cs = range(self._nl) if every else self._emptied
        for c in sorted((c for c in cs if self._cnt[c] == 0), reverse=True):
            self._drop_list(c)
        self._emptied = set()

    def _append(self, c: int, id_: int, v: np.ndarray) -> None:
        n = self._cnt[c]
        if n == len(self._x[c]):
            cap = max(16, n * 3 // 2)
            self._x[c] = np.concatenate([self._x[c], np.empty((cap - n, self.dim), np.float32)])
            self._ids[c] = np.concatenate([self._ids[c], np.empty(cap - n, np.int64)])
        self._x[c][n] = v
        self._ids[c][n] = id_
        self._sum[c] += v
        self._where[id_] = (c, n)
        self._cnt[c] = n + 1

    def remove(self, id_: int) -> bool:
        loc = self._where.pop(int(id_), None)
        if loc is None:
            return False
        c, p = loc
        last = self._cnt[c] - 1
        self._sum[c] -= self._x[c][p]
        if p != last:  # swap-delete inside the list
            self._x[c][p] = self._x[c][last]
            self._ids[c][p] = self._ids[c][last]
            self._where[int(self._ids[c][p])] = (c, p)
        self._cnt[c] = last
        if last == 0:
            self._drop_list(c)
        elif last % 16 == 0:  # re-anchor: f32 running sums drift over many add/remove
            self._sum[c] = self._x[c][:last].sum(0)
        return True

    def _drop_list(self, c: int) -> None:
        """Move the last list into slot c (its members' locations follow)."""
        e = self._nl - 1
        if c != e:
            self._cen[c], self._sum[c] = self._cen[e], self._sum[e]
            self._x[c], self._ids[c], self._cnt[c] = self._x[e], self._ids[e], self._cnt[e]
            for p, i in enumerate(self._ids[c][: self._cnt[c]]):
                self._where[int(i)] = (c, p)
        self._x.pop()
        self._ids.pop()
        self._cnt.pop()
        self._nl = e

    def _fill(self, c: int, ids: np.ndarray, x: np.ndarray) -> None:
        """Replace list c's members (bulk)."""
        n = len(ids)
        cap = max(16, n * 5 // 4)
        self._x[c] = np.empty((cap, self.dim), np.float32)
        self._ids[c] = np.empty(cap, np.int64)
        self._x[c][:n], self._ids[c][:n] = x, ids
        self._cnt[c] = n
        self._sum[c] = x.sum(0) if n else 0
        if n:
            self._cen[c] = _unit(self._sum[c])
        self._where.update(zip(ids.tolist(), zip([c] * n, range(n))))

    def _split(self, c: int) -> list[int]:
        """Split list c by 2-means, then re-balance its neighbourhood; returns lists still too large.

        The neighbourhood is the ``refine`` lists whose centroids are nearest c's: their members
        are re-assigned among their centroids (two Lloyd rounds), so the split's new boundary
        moves vectors across neighbouring lists too (as SPFresh's LIRE does). Cost: one pass
        over <= refine * 2 * list_size vectors.
        """
        n = self._cnt[c]
        x = self._x[c][:n]
        a = x[self._rng.integers(n)]
        b = x[int((x @ a).argmin())]
        for _ in range(4):
            side = x @ (a - b) < 0  # True: nearer b
            if side.all() or not side.any():
                break
            a, b = _unit(x[~side].sum(0)), _unit(x[side].sum(0))
        if not n // 8 <= side.sum() <= n - n // 8:  # lopsided or degenerate: cut at the median
            side = np.zeros(n, bool)
            side[np.argsort(x @ (a - b))[: n // 2]] = True
        d = self._new_list(_unit(x[side].sum(0)), np.zeros(self.dim, np.float32))
        self._cen[c] = _unit(x[~side].sum(0))
        near = np.argsort(-(self._cen[: self._nl] @ self._cen[c]))[: self.refine]
        hood = np.unique(np.concatenate([near, [c, d]]))
        ids = np.concatenate([self._ids[k][: self._cnt[k]] for k in hood])
        xs = np.concatenate([self._x[k][: self._cnt[k]] for k in hood])
        cen = self._cen[hood].copy()
        for _ in range(2):
            lab = (xs @ cen.T).argmax(1)
            for j in range(len(hood)):
                m = lab == j
                if m.any():
                    cen[j] = _unit(xs[m].sum(0))
        sizes = np.bincount(lab, minlength=len(hood))
        if sizes.max() > 2 * self.list_size:  # re-balancing undid the split (equal vectors): plain split
            jc, jd = np.searchsorted(hood, [c, d])
            lab = np.concatenate([np.full(self._cnt[k], j) for j, k in enumerate(hood)])
            lab[lab == jc] = np.where(side, jd, jc)
        for j, k in enumerate(hood):
            m = lab == j
            self._fill(int(k), ids[m], xs[m])
            if not m.any():
                self._emptied.add(int(k))  # dropped at the end of the add
        return [int(k) for k in hood if self._cnt[k] > 2 * self.list_size]

    # --- search ---------------------------------------------------------------------------

    def search(self, vec: np.ndarray, k: int = 4) -> list[tuple[int, float]]:
        if not self._where:
            return []
        q = np.asarray(vec, np.float32).reshape(self.dim)
        cs = self._cen[: self._nl] @ q
        p = min(self.nprobe, self._nl)
        probe = np.argpartition(cs, -p)[-p:] if p < self._nl else range(self._nl)
        scores, ids = [], []
        for c in probe:
            n = self._cnt[c]
            s = self._x[c][:n] @ q
            if n > k:
                top = np.argpartition(s, -k)[-k:]
                s, i = s[top], self._ids[c][top]
            else:
                i = self._ids[c][:n]
            scores.append(s)
            ids.append(i)
        s, i = np.concatenate(scores), np.concatenate(ids)
        top = np.argsort(-s)[:k]
        return [(int(i[t]), float(s[t])) for t in top]

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._nl:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        return (np.concatenate([self._ids[c][: self._cnt[c]] for c in range(self._nl)]),
                np.concatenate([self._x[c][: self._cnt[c]] for c in range(self._nl)]))

    def stats(self) -> dict:
        cnt = np.asarray(self._cnt[: self._nl])
        cap = sum(len(x) for x in self._x)
        return {"entries": len(self), "lists": self._nl, "list_min": int(cnt.min()) if len(cnt) else 0,
                "list_median": float(np.median(cnt)) if len(cnt) else 0.0,
                "list_max": int(cnt.max(initial=0)),
                "vector_mb": round(cap * self.dim * 4 / 2**20, 1), "nprobe": self.nprobe}
