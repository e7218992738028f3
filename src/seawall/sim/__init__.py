"""Upstream simulator: a fake OpenAI/Anthropic provider with deterministic fault injection,
for demos, tests, benchmarks and chaos-testing your own stack. See docs/simulator.md."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import FaultError, Faults
    from .server import DEFAULT_MODELS, Simulator

__all__ = ["DEFAULT_MODELS", "FaultError", "Faults", "Simulator"]

_WHERE = {name: module for module, names in {
    ".faults": ("FaultError", "Faults"),
    ".server": ("DEFAULT_MODELS", "Simulator"),
}.items() for name in names}


def __getattr__(name: str) -> Any:
    """Names load on first use: importing the package (for its config section) stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
