"""Upstream simulator: a fake OpenAI/Anthropic provider with deterministic fault injection,
for demos, tests, benchmarks and chaos-testing your own stack. See docs/simulator.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import exports

if TYPE_CHECKING:
    from .faults import FaultError, Faults
    from .server import DEFAULT_MODELS, Simulator

__all__ = ["DEFAULT_MODELS", "FaultError", "Faults", "Simulator"]

__getattr__ = exports(__name__, {
    ".faults": ("FaultError", "Faults"),
    ".server": ("DEFAULT_MODELS", "Simulator"),
})
