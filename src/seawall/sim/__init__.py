"""Upstream simulator: a fake OpenAI/Anthropic provider with deterministic fault injection,
for demos, tests, benchmarks and chaos-testing your own stack. See docs/simulator.md."""

from .faults import FaultError, Faults
from .server import DEFAULT_MODELS, Simulator

__all__ = ["DEFAULT_MODELS", "FaultError", "Faults", "Simulator"]
