"""Guardrails: PII, secrets and prompt injection on the way in; leakage and format on the way out.

Public API::

    from seawall.guard import Guard, GuardPolicy
    decision = await Guard().check_input(request, GuardPolicy())
    out = guard.output_filter(policy, decision.vault, request)

See docs/guardrails.md.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Guard, InputDecision, OutputFilter
    from .output import StreamScanner, validate_json_output
    from .policy import GuardPolicy, InjectionBands
    from .types import Finding, Findings, Span
    from .vault import StreamRestorer, TokenVault

__all__ = [
    "Guard",
    "GuardPolicy",
    "InjectionBands",
    "InputDecision",
    "OutputFilter",
    "StreamScanner",
    "StreamRestorer",
    "TokenVault",
    "Finding",
    "Findings",
    "Span",
    "validate_json_output",
]

_WHERE = {name: module for module, names in {
    ".engine": ("Guard", "InputDecision", "OutputFilter"),
    ".output": ("StreamScanner", "validate_json_output"),
    ".policy": ("GuardPolicy", "InjectionBands"),
    ".types": ("Finding", "Findings", "Span"),
    ".vault": ("StreamRestorer", "TokenVault"),
}.items() for name in names}


def __getattr__(name: str) -> Any:
    """Names load on first use: importing the package (for its config section) stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
