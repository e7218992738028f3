#!/usr/bin/env python
"""Train the semantic cache's cross-encoder pair judge, and score pairs with it.

    python scripts/train_cache_cross.py prep  --work /tmp/ccj            # pairs + cosines, once
    python scripts/train_cache_cross.py train --work /tmp/ccj --hold sts --steps 900
    python scripts/train_cache_cross.py train --work /tmp/ccj --hold none --steps 1400   # the shipped one

A cross-encoder reads both prompts at once ("[CLS] a [SEP] b [SEP]"), so each token of one
side attends to the other: "Where is X?" vs "Who is X?" is a different question word *in the
same slot*, which a pair of sentence vectors blurs. It starts from the 3-layer student
(teacher layers 0, 3, 5 with the student's adapters folded in, vector/student.py), adds
low-rank adapters (LoRA) on every linear map, frees biases and LayerNorms, and puts a linear
head on the mean-pooled last layer. The word-embedding matrix stays the package's, frozen, so
what is stored is the adapters + head (scripts/train_cache_cross_model.py builds the graph from it).

Data: the train splits of the six look-alike pair sets (scripts/cache_pairs.py), plus the rest
of the Twitter URL train file (the pair builder keeps 6,000 for the feature judge). Every batch
draws the same number of pairs from each training set (a set weighs the same whatever its
size), each pair in a random order (a, b) or (b, a): the judge must be symmetric. With --hold
X, set X is not trained on at all (leave-one-dataset-out); scoring writes the judge's
probability for the dev and test samples of every set (scripts/train_cache_cross_report.py
picks thresholds on dev splits of the training sets only and reports the held-out set's test
split).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "scripts"))

import numpy as np

DATA = Path(os.environ.get("SEAWALL_DATA", "/work/shared/data")) / "semantic_cache"
SETS = ("sts", "mrpc", "twitter", "sick", "banking77", "clinc150")
MAX_LEN = 96
FLOOR = 0.70  # candidates below this student cosine are never judged (nor served)


def sample(pairs, n_pos: int, n_neg: int, seed: int = 14):
    """The same seeded sample as scripts/eval_cache.py (same seed, same order)."""
    rng = random.Random(seed)
    pos = [p for p in pairs if p[2] == 1]
    neg = [p for p in pairs if p[2] == 0]
    return rng.sample(pos, min(n_pos, len(pos))) + rng.sample(neg, min(n_neg, len(neg)))


def prep(work: Path) -> None:
    import cache_pairs

    from seawall.vector.embedder import OnnxEmbedder, load_embedder

    plain = OnnxEmbedder(quantized=False, threads=2)
    t0 = time.time()
    data = cache_pairs.load(DATA, plain.embed)
    # the rest of the Twitter URL train file (6,000 + 1,500 dev are taken by the builder)
    d = DATA / "twitter_url_corpus" / "train"
    a, b, s = ((d / f).read_text(encoding="utf-8").splitlines() for f in ("a.toks", "b.toks", "sim.txt"))
    allp = [(x, y, int(z)) for x, y, z in zip(a, b, s) if z.strip() in ("0", "1")]
    random.Random(14).shuffle(allp)
    data["twitter"]["train"] = data["twitter"]["train"] + allp[7500:]
    print(f"pairs built in {time.time() - t0:.0f} s", file=sys.stderr)
    out = {}
    student = load_embedder("onnx-int8-l3", cache_entries=0)
    for k, splits in data.items():
        out[k] = {"train": splits["train"],
                  "dev": sample(splits["dev"], 800, 1500), "test": sample(splits["test"], 800, 1500)}
        for split in ("dev", "test"):
            ps = out[k][split]
            for name, emb in (("cos_l3", student), ("cos_l6", plain)):
                va = np.concatenate([emb.embed([p[0] for p in ps[i:i + 256]]) for i in range(0, len(ps), 256)])
                vb = np.concatenate([emb.embed([p[1] for p in ps[i:i + 256]]) for i in range(0, len(ps), 256)])
                np.save(work / f"{name}-{k}-{split}.npy", np.einsum("ij,ij->i", va, vb).astype(np.float32))
        print(k, {sp: len(v) for sp, v in out[k].items()}, file=sys.stderr)
    (work / "pairs.json").write_text(json.dumps(out))


def tokenize(tok, pairs):
    enc = tok.encode_batch([(a, b) for a, b in pairs])
    w = max(len(e.ids) for e in enc)
    ids = np.zeros((len(enc), w), np.int64)
    tt = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, e in enumerate(enc):
        n = len(e.ids)
        ids[i, :n], tt[i, :n], mask[i, :n] = e.ids, e.type_ids, 1
    return ids, tt, mask


def pair_tokenizer():
    from tokenizers import Tokenizer

    from seawall.vector.embedder import model_source_dir

    tok = Tokenizer.from_file(str(model_source_dir() / "tokenizer.json"))
    tok.enable_truncation(MAX_LEN, strategy="longest_first")
    tok.no_padding()
    return tok


def train(work: Path, hold: str, steps: int, batch: int, lr: float, rank: int, out: Path, seed: int,
          cos_head: bool = False) -> None:
    import torch
    from train_cache_cross_model import cross_state, lora_cross

    torch.manual_seed(seed)
    rng = random.Random(seed)
    data = json.loads((work / "pairs.json").read_text())
    sets = [k for k in SETS if k != hold]
    pools = {k: data[k]["train"] for k in sets}
    model = lora_cross(rank=rank, cos_head=cos_head)
    student = None
    if cos_head:  # the cache's own cosine (the student's) is an input of the head
        from seawall.vector.embedder import load_embedder

        student = load_embedder("onnx-int8-l3", cache_entries=0)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"hold={hold} trainable {sum(p.numel() for p in params):,} params; sets "
          + ", ".join(f"{k} {len(v)}" for k, v in pools.items()), file=sys.stderr)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.08)
    tok = pair_tokenizer()
    per = max(1, batch // len(sets))
    t0, run = time.time(), 0.0
    for step in range(steps):
        rows = []
        for k in sets:
            for a, b, y in rng.sample(pools[k], per):
                rows.append((b, a, y) if rng.random() < 0.5 else (a, b, y))
        ids, tt, mask = (torch.from_numpy(x) for x in tokenize(tok, [(a, b) for a, b, _ in rows]))
        y = torch.tensor([float(r[2]) for r in rows])
        cos = None
        if student is not None:
            va, vb = student.embed([r[0] for r in rows]), student.embed([r[1] for r in rows])
            cos = torch.from_numpy(np.einsum("ij,ij->i", va, vb).astype(np.float32))
        logit = model(ids, tt, mask, cos)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step} loss {run:.4f} {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    state = cross_state(model)
    state["__hold__"] = np.asarray(hold)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **state)
    score(work, model, out.with_suffix(".scores.npz"), cos_head)


def score(work: Path, model, dest: Path, cos_head: bool = False) -> None:
    """The judge's probability for every dev and test sample pair at or above the floor (else -1)."""
    import torch

    data = json.loads((work / "pairs.json").read_text())
    tok = pair_tokenizer()
    model.eval()
    res = {}
    t0 = time.time()
    with torch.inference_mode():
        for k in SETS:
            for split in ("dev", "test"):
                ps = data[k][split]
                cos = np.load(work / f"cos_l3-{k}-{split}.npy")
                p = np.full(len(ps), -1.0, np.float32)
                idx = np.where(cos >= FLOOR)[0]
                idx = idx[np.argsort([len(ps[i][0]) + len(ps[i][1]) for i in idx])]  # similar lengths per batch
                for j in range(0, len(idx), 64):
                    sel = idx[j:j + 64]
                    ids, tt, mask = (torch.from_numpy(x) for x in tokenize(tok, [(ps[i][0], ps[i][1]) for i in sel]))
                    c = torch.from_numpy(cos[sel]) if cos_head else None
                    p[sel] = torch.sigmoid(model(ids, tt, mask, c)).numpy()
                res[f"{k}-{split}"] = p
    np.savez(dest, **res)
    print(f"scored in {time.time() - t0:.0f} s -> {dest}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=("prep", "train", "score"))
    ap.add_argument("--work", default="/tmp/ccj")
    ap.add_argument("--hold", default="none", help="the set left out of training (none: all six)")
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--cos-head", action="store_true", help="the student cosine as an input of the head")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="weights file (default WORK/cross-<hold>.npz)")
    ap.add_argument("--weights", help="score: the weights file to load")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.cmd == "prep":
        prep(work)
    elif args.cmd == "train":
        train(work, args.hold, args.steps, args.batch, args.lr, args.rank,
              Path(args.out or work / f"cross-{args.hold}.npz"), args.seed, args.cos_head)
    else:
        from train_cache_cross_model import merged_cross

        score(work, merged_cross(Path(args.weights)), Path(args.weights).with_suffix(".scores.npz"))


if __name__ == "__main__":
    main()
