"""Guardrails: PII, secrets and prompt injection on the way in; leakage and format on the way out.

Public API::

    from seawall.guard import Guard, GuardPolicy
    decision = await Guard().check_input(request, GuardPolicy())
    out = guard.output_filter(policy, decision.vault, request)

See docs/guardrails.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import exports

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

__getattr__ = exports(__name__, {
    ".engine": ("Guard", "InputDecision", "OutputFilter"),
    ".output": ("StreamScanner", "validate_json_output"),
    ".policy": ("GuardPolicy", "InjectionBands"),
    ".types": ("Finding", "Findings", "Span"),
    ".vault": ("StreamRestorer", "TokenVault"),
})
