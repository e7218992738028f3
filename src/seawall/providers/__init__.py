"""Upstream adapters, chosen by the provider's `kind` (and, for OpenAI, its `api`)."""
from __future__ import annotations

from .base import Deployment, Provider, UpstreamError


def make_provider(cfg, heartbeat_s: float) -> Provider:
    if cfg.kind == "anthropic":
        from .anthropic import AnthropicProvider

        return AnthropicProvider(cfg, heartbeat_s)
    if cfg.api == "responses":
        from .responses import ResponsesProvider

        return ResponsesProvider(cfg, heartbeat_s)
    from .openai import OpenAIProvider

    return OpenAIProvider(cfg, heartbeat_s)


__all__ = ["Deployment", "Provider", "UpstreamError", "make_provider"]
