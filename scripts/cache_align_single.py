#!/usr/bin/env python
"""The shipped gate's decisions with each prompt embedded alone, as the gateway embeds it.

    OMP_NUM_THREADS=1 python scripts/cache_align_single.py   # after `make eval-cache` (its memo)

`make eval-cache` embeds in batches of up to 256; with int8 dynamic quantisation a prompt's
vector moves a little with the batch it is in (a cosine by up to ~0.007). This re-decides
every pair that could be served (batched cosine >= 0.88, rules accepting) with single-prompt
embeddings at the shipped points: gate (embedder.ALIGNED) and cosine alone (THRESHOLDS).
Not held out: both points were chosen on all six sets.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "scripts"))

import numpy as np  # noqa: E402

import eval_cache as ec  # noqa: E402
from seawall.vector.align import alignment  # noqa: E402
from seawall.vector.embedder import OnnxEmbedder, default_aligned, default_threshold, load_embedder  # noqa: E402
from seawall.vector.verifier import Verifier  # noqa: E402


def main() -> None:
    memo = Path(sys.argv[1] if len(sys.argv) > 1 else "build/eval/memo")
    plain = ec.Memo(OnnxEmbedder(quantized=False, threads=1), memo / "minilm-fp32.npz")
    stu = ec.Memo(load_embedder(ec.KIND, cache_entries=0), memo / f"{ec.KIND}.npz")
    sets = {k: ec.sample(v, 800, 1500) for k, v in ec._test_pairs(ec.DEFAULT_DATA, plain.embed).items()}
    t_gate, floor = default_aligned(ec.KIND)
    t_cos = default_threshold(ec.KIND)
    verifier = Verifier()
    for k, pairs in sets.items():
        cb = np.einsum("ij,ij->i", stu.embed([a for a, _, _ in pairs]), stu.embed([b for _, b, _ in pairs]))
        y = np.array([p[2] for p in pairs])
        gate, cos_only = np.zeros(len(pairs), bool), np.zeros(len(pairs), bool)
        for i in np.where(cb >= 0.88)[0]:
            a, b, _ = pairs[i]
            if not verifier.verify(b, a).accept:
                continue
            (va,), (ta,) = stu.inner.embed_tokens([a])
            (vb,), (tb,) = stu.inner.embed_tokens([b])
            c = float(va @ vb)
            gate[i] = c >= t_gate and alignment(ta, tb) >= floor
            cos_only[i] = c >= t_cos
        print(f"{k}: gate {ec.rates(gate, y)[0]:.1%} / {ec.rates(gate, y)[1]:.2%}, "
              f"cosine alone {ec.rates(cos_only, y)[0]:.1%} / {ec.rates(cos_only, y)[1]:.2%} (served / false hits)")


if __name__ == "__main__":
    main()
