#!/usr/bin/env python
"""Other scorings of a candidate pair than the student's cosine, measured leave-one-dataset-out.

    OMP_NUM_THREADS=1 python scripts/cache_rank_eval.py --memo build/eval/memo [--out FILE.md]

Same pairs, same cache decisions and same protocol as scripts/eval_cache.py (its code is reused:
the seeded samples of the six look-alike sets' test splits, each pair's cosine and rule verdict
from the real cache at threshold 0). Each scoring is a family s_theta(pair) with at most one
shape parameter theta plus the serving threshold t. For each held-out set, on the *other five
sets only*: for every theta of a fixed grid, t is the lowest grid threshold keeping false hits
<= 0.75 % on each of them (rule verdict required, as served), and theta is the one serving the
most duplicates on them on average; then the held-out set is measured at (theta, t).

Scorings (the student's own contextual token vectors: the ONNX graph outputs every token's
last hidden state, the embedder mean-pools them):
- cos: the student's sentence cosine (today's default, theta none);
- gate/<w>: serve iff cos >= t and align >= t - d (theta = d), align a BERTScore-like token
  alignment: each weighted token of a matched to its most similar token of b (cosine of the
  token vectors), and b to a, the weaker direction kept;
- blend/<w>: (1 - lam) * cos + lam * align (theta = lam);
- worst/<w>: serve iff cos >= t and every content token on both sides has a match >= t - d;
- len: cos >= t + k * (1 / n - 1 / 8), n = content words of the shorter side (theta = k):
  a changed word moves a short text's cosine more;
- centred: cosine after removing the mean sentence vector of a generic corpus (0 fitted
  parameters: the mean comes from prompts that are not in any pair set).
Token weights <w>: `zipf` (SIF-like a / (a + p), p a Zipf law on the WordPiece vocabulary's rank,
as the static embedder weighs tokens; no corpus), `content` (1 for a token of a content word,
0 for a function word or punctuation, by the verifier's word lists).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "scripts"))

import numpy as np  # noqa: E402

import eval_cache as ec  # noqa: E402
from seawall.cache.semantic import SemanticCache  # noqa: E402
from seawall.vector.embedder import CachedEmbedder, OnnxEmbedder, load_embedder  # noqa: E402
from seawall.vector.verifier import _FUNCTION_WORDS, Verifier  # noqa: E402

TGRID = np.round(np.arange(0.50, 1.0001, 0.0025), 4)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class TokenStates:
    """Each text's token vectors (L2-normalised) from the student's ONNX graph, + token ids/words."""

    def __init__(self, emb: OnnxEmbedder, path: Path | None) -> None:
        self.emb, self.path, self.d = emb, path, {}
        if path and path.exists():
            z = np.load(path, allow_pickle=True)
            self.d = dict(zip(z["texts"].tolist(), zip(z["ids"], z["words"], z["vecs"])))

    def get(self, texts: list[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self.d))
        tok, sess = self.emb._tok, self.emb._s
        for i in range(0, len(todo), 64):
            chunk = todo[i:i + 64]
            encs = tok.encode_batch(chunk)
            w = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), w), np.int64)
            mask = np.zeros_like(ids)
            for j, e in enumerate(encs):
                ids[j, :len(e.ids)] = e.ids
                mask[j, :len(e.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.emb._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            h = sess.run(None, feed)[0]
            for j, (t, e) in enumerate(zip(chunk, encs)):
                n = len(e.ids)
                words = np.array([-1 if x is None else x for x in e.word_ids], np.int32)
                self.d[t] = (np.array(e.ids, np.int32), words, h[j, :n].astype(np.float16))
        if todo and self.path:
            keys = list(self.d)

            def col(i: int) -> np.ndarray:
                out = np.empty(len(keys), dtype=object)
                for j, k in enumerate(keys):
                    out[j] = self.d[k][i]
                return out

            np.savez(self.path, texts=np.array(keys, dtype=object), ids=col(0), words=col(1), vecs=col(2))


def zipf_weights(n_vocab: int, first_word: int = 1996, a: float = 1e-3) -> np.ndarray:
    """SIF-like weight by WordPiece rank: BERT's word ids from 1996 on are roughly by frequency;
    below are [unused] slots and single characters (kept at full weight, except punctuation,
    which the caller zeroes)."""
    r = np.maximum(np.arange(n_vocab, dtype=np.float64) - first_word + 1, 1.0)
    p = 1.0 / (r * np.log(1.78 * n_vocab))
    w = a / (a + p)
    w[:first_word] = 1.0
    return w.astype(np.float32)


def token_weights(text: str, ids: np.ndarray, words: np.ndarray, offsets_words: list[str], zipf: np.ndarray,
                  kind: str, special: set[int]) -> np.ndarray:
    w = np.zeros(len(ids), np.float32)
    for i, (tid, wi) in enumerate(zip(ids, words)):
        if tid in special or wi < 0:
            continue
        word = offsets_words[wi] if wi < len(offsets_words) else ""
        if not word or not any(c.isalnum() for c in word) or (len(word) == 1 and word.isalpha()):
            continue  # punctuation, and one-letter words ("a", "I"): below the Zipf ranks' reach
        lw = word.lower()
        content = 0.0 if (lw in _FUNCTION_WORDS or len(lw) < 2) else 1.0
        w[i] = zipf[tid] if kind == "zipf" else content * zipf[tid] if kind == "cz" else content
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ec.DEFAULT_DATA))
    ap.add_argument("--pos", type=int, default=800)
    ap.add_argument("--neg", type=int, default=1500)
    ap.add_argument("--memo", default="build/eval/memo")
    ap.add_argument("--out")
    args = ap.parse_args()
    t0 = time.time()
    memo = Path(args.memo)
    plain = ec.Memo(OnnxEmbedder(quantized=False, threads=1), memo / "minilm-fp32.npz")
    stu_inner = load_embedder(ec.KIND, cache_entries=0)
    student = ec.Memo(stu_inner, memo / f"{ec.KIND}.npz")
    sets = {k: ec.sample(v, args.pos, args.neg) for k, v in ec._test_pairs(Path(args.data), plain.embed).items()}
    Y = {k: np.array([y for *_, y in v]) for k, v in sets.items()}
    cache = SemanticCache(CachedEmbedder(student, max_entries=1 << 20), Verifier())
    on = {k: ec.decide(cache, v, 0.0)[:2] for k, v in sets.items()}
    P = {k: np.einsum("ij,ij->i", plain.embed([a for a, _, _ in v]), plain.embed([b for _, b, _ in v]))
         for k, v in sets.items()}
    print(f"cache decisions in {time.time() - t0:.0f} s", file=sys.stderr)

    ts = TokenStates(stu_inner, memo / f"{ec.KIND}-tokens.npz")
    ts.get([t for v in sets.values() for a, b, _ in v for t in (a, b)])
    print(f"token states in {time.time() - t0:.0f} s", file=sys.stderr)
    vocab = stu_inner._tok.get_vocab()
    special = {vocab[t] for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]")}
    zipf = zipf_weights(max(vocab.values()) + 1)

    prep: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def prepared(text: str, kind: str):
        key = (text, kind)
        if key not in prep:
            ids, words, vecs = ts.d[text]
            enc = stu_inner._tok.encode(text)
            wtext = [text[s:e] for s, e in _word_spans(enc)]
            w = token_weights(text, ids, words, wtext, zipf, "content" if kind == "content8" else kind, special)
            v = vecs.astype(np.float32)
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            keep = w > 0
            v = v[keep]
            if kind == "content8":  # int8 per token, as a cache would store it
                sc = np.abs(v).max(1, keepdims=True) / 127.0
                v = np.round(v / sc).astype(np.int8).astype(np.float32) * sc
                v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            prep[key] = (v, w[keep])
        return prep[key]

    feats: dict[str, dict[str, np.ndarray]] = {k: {} for k in sets}
    for k, v in sets.items():
        for kind in KINDS:
            al, wo = [], []
            for a, b, _ in v:
                va, wa = prepared(a, kind)
                vb, wb = prepared(b, kind)
                if len(va) == 0 or len(vb) == 0:
                    al.append(1.0 if len(va) == len(vb) else 0.0)
                    wo.append(al[-1])
                    continue
                s = va @ vb.T
                ra, rb = s.max(1), s.max(0)
                al.append(min(float(wa @ ra / wa.sum()), float(wb @ rb / wb.sum())))
                wo.append(min(float(ra.min()), float(rb.min())))
            feats[k][f"align/{kind}"] = np.array(al, np.float32)
            feats[k][f"worst/{kind}"] = np.array(wo, np.float32)
        feats[k]["lex"] = np.array([_coverage(a, b) for a, b, _ in v], np.float32)
        n = np.array([min(_n_content(a), _n_content(b)) for a, b, _ in v], np.float32)
        feats[k]["n"] = np.maximum(n, 1.0)
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)

    # centred cosine: mean sentence vector of generic prompts (not any pair set)
    generic = _generic_prompts(Path(args.data).parent)
    mu = student.embed(generic).mean(0) if generic else np.zeros(384, np.float32)
    for k, v in sets.items():
        ea = student.embed([a for a, _, _ in v]) - mu
        eb = student.embed([b for _, b, _ in v]) - mu
        feats[k]["centred"] = np.einsum("ij,ij->i", ea, eb) / (np.linalg.norm(ea, axis=1) * np.linalg.norm(eb, axis=1))

    names = list(sets)
    families = {
        "cos (today)": ([None], lambda k, th: on[k][0]),
        "plain L6 cos (no rules)": ([None], None),
        "centred cos": ([None], lambda k, th: feats[k]["centred"]),
    }
    families["gate/lexical"] = (list(np.round(np.arange(-0.10, 0.6001, 0.02), 3)),
                                lambda k, th: np.minimum(on[k][0], feats[k]["lex"] + th))
    for kind in KINDS:
        families[f"gate/{kind}"] = (list(np.round(np.arange(-0.10, 0.3001, 0.01), 3)),
                                    lambda k, th, kind=kind: np.minimum(on[k][0], feats[k][f"align/{kind}"] + th))
        families[f"blend/{kind}"] = (list(np.round(np.arange(0.0, 1.0001, 0.1), 2)),
                                     lambda k, th, kind=kind: (1 - th) * on[k][0] + th * feats[k][f"align/{kind}"])
        families[f"worst/{kind}"] = (list(np.round(np.arange(0.05, 0.6001, 0.05), 2)),
                                     lambda k, th, kind=kind: np.minimum(on[k][0], feats[k][f"worst/{kind}"] + th))
    families["len"] = (list(np.round(np.arange(-0.20, 0.2001, 0.02), 3)),
                       lambda k, th: on[k][0] - th * (1.0 / feats[k]["n"] - 1.0 / 8))

    ok_rules = {k: on[k][1] for k in sets}
    ones = {k: np.ones(len(Y[k]), bool) for k in sets}
    results: dict[str, dict[str, tuple]] = {}
    for fam, (grid, fn) in families.items():
        results[fam] = {}
        for d in names:
            others = [n for n in names if n != d]
            best = None
            for th in grid:
                if fn is None:
                    sc, okm = P, ones
                else:
                    sc, okm = {k: fn(k, th) for k in names}, ok_rules
                t = lowest_safe_grid([(sc[n], okm[n], Y[n]) for n in others])
                tune = float(np.mean([ec.rates(okm[n] & (sc[n] >= t), Y[n])[0] for n in others]))
                if best is None or tune > best[0] + 1e-9:
                    best = (tune, th, t, sc, okm)
            tune, th, t, sc, okm = best
            hit, fh = ec.rates(okm[d] & (sc[d] >= t), Y[d])
            results[fam][d] = (th, t, hit, fh, tune)
        print(fam, {d: f"{r[2]:.1%}/{r[3]:.2%}" for d, r in results[fam].items()}, file=sys.stderr)

    # the shipped operating point of a family: the same choice over all six sets
    for fam in ("cos (today)", "gate/content", "gate/zipf", "gate/lexical"):
        grid, fn = families[fam]
        best = max(((float(np.mean([ec.rates(ok_rules[n] & (fn(n, th) >= t), Y[n])[0] for n in names])), th, t)
                    for th in grid
                    for t in [lowest_safe_grid([(fn(n, th), ok_rules[n], Y[n]) for n in names])]),
                   key=lambda x: x[0])
        print(f"all six, {fam}: theta {best[1]}, t {best[2]:.4f}, mean served {best[0]:.1%}", file=sys.stderr)
    results["gate, weighting chosen on others"] = {}
    for d in names:
        fam = max((f"gate/{k}" for k in KINDS), key=lambda f: results[f][d][4])
        th, t, hit, fh, tune = results[fam][d]
        results["gate, weighting chosen on others"][d] = (f"{fam} {th}", t, hit, fh, tune)
    results["nested: scoring + θ chosen on others"] = {}
    for d in names:
        fam = max((f for f in results if not f.startswith(("nested", "plain"))), key=lambda f: results[f][d][4])
        th, t, hit, fh, tune = results[fam][d]
        results["nested: scoring + θ chosen on others"][d] = (f"{fam} {th}", t, hit, fh, tune)
    ntok = [len(prepared(t, "content")[0]) for v in sets.values() for a, b, _ in v for t in (a, b)]
    print(f"content tokens per text: mean {np.mean(ntok):.1f}, p50 {np.median(ntok):.0f}, p99 {np.percentile(ntok, 99):.0f}",
          file=sys.stderr)
    auc = {fam: {d: _auc(fn(d, grid[len(grid) // 2]) if fn else P[d], Y[d]) for d in names}
           for fam, (grid, fn) in families.items()}  # noqa: E501
    report = render(names, Y, results, auc, time.time() - t0, args)
    print(report)
    if args.out:
        Path(args.out).write_text(report)


def _word_spans(enc) -> list[tuple[int, int]]:
    """Character span of each word (by the tokenizer's word ids)."""
    spans: dict[int, list[int]] = {}
    for wi, (s, e) in zip(enc.word_ids, enc.offsets):
        if wi is None:
            continue
        sp = spans.setdefault(wi, [s, e])
        sp[0], sp[1] = min(sp[0], s), max(sp[1], e)
    n = max(spans) + 1 if spans else 0
    return [tuple(spans.get(i, (0, 0))) for i in range(n)]


KINDS = ("zipf", "content", "cz", "content8")


def _cwords(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w
            for w in _WORD.findall(text.lower()) if w not in _FUNCTION_WORDS and len(w) > 1}


def _coverage(a: str, b: str) -> float:
    """Share of each side's content words found on the other side, the weaker side kept."""
    x, y = _cwords(a), _cwords(b)
    if not x or not y:
        return 1.0 if x == y else 0.0
    return min(len(x & y) / len(x), len(x & y) / len(y))


def _n_content(text: str) -> int:
    return sum(1 for w in _WORD.findall(text.lower()) if w not in _FUNCTION_WORDS and len(w) > 1)


def _generic_prompts(shared: Path) -> list[str]:
    """Benign everyday prompts not in any pair set: self-instruct's user instructions."""
    p = shared / "prompt_injection" / "self_instruct_benign"
    out: list[str] = []
    import json
    for f in sorted(p.glob("*.jsonl")):
        for line in open(f, encoding="utf-8"):
            d = json.loads(line)
            t = d.get("instruction")
            if isinstance(t, str) and t.strip():
                out.append(t)
    return out[:400]


def lowest_safe_grid(curves, target: float = ec.SELECT) -> float:
    for t in TGRID:
        if all(ec.rates(ok & (s >= t), y)[1] <= target for s, ok, y in curves):
            return float(t)
    return 1.0001


def _auc(s: np.ndarray, y: np.ndarray) -> float:
    r = np.argsort(np.argsort(s, kind="stable"), kind="stable") + 1.0
    npos = y.sum()
    return float((r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(y) - npos)))


def render(names, Y, results, auc, took, args) -> str:
    base = results["plain L6 cos (no rules)"]
    today = results["cos (today)"]
    lines = [f"Pair scorings, leave-one-dataset-out ({time.strftime('%Y-%m-%d %H:%M')}, {took:.0f} s; "
             f"up to {args.pos} duplicates + {args.neg} look-alikes per test split). Each cell: held-out "
             "served / false hits (x plain L6 cosine chosen the same way); theta and threshold chosen on the "
             "other five sets only.", "",
             "| scoring | " + " | ".join(names) + " | sets served more than today | max false hits |",
             "|---|" + "---|" * (len(names) + 2)]
    for fam, r in results.items():
        cells = []
        for d in names:
            th, t, hit, fh, _ = r[d]
            ratio = hit / base[d][2] if base[d][2] else float("inf")
            over = " **over**" if fh > ec.TARGET else ""
            cells.append(f"{hit:.1%} / {fh:.2%}{over} ({ratio:.2f}x; θ {th}, t {t:.4f})")
        more = sum(r[d][2] > today[d][2] + 1e-9 for d in names)
        lines.append(f"| {fam} | " + " | ".join(cells) + f" | {more} | {max(r[d][3] for d in names):.2%} |")
    lines += ["", "AUC per set (all pairs, rules ignored; mid-grid theta):", "",
              "| scoring | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for fam, a in auc.items():
        lines.append(f"| {fam} | " + " | ".join(f"{a[d]:.3f}" for d in names) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
