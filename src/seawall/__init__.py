"""Seawall: an enterprise AI gateway. One core, two faces: an OpenAI/Anthropic-compatible
HTTP proxy (`seawall serve`) and this in-process library (`seawall.Gateway`).

The gateway and its features load on first use of `seawall.Gateway` (and the other names
below), so `import seawall` and the command line's light commands start fast; importing the
package still registers every feature's config section, so any configuration parses."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import sections as _sections  # noqa: F401

if TYPE_CHECKING:
    from .core.errors import GatewayError
    from .gateway import ChatResult, EmbeddingResult, Gateway, StreamResult

__all__ = ["Gateway", "GatewayError", "ChatResult", "EmbeddingResult", "StreamResult"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "GatewayError":
        from .core.errors import GatewayError

        return GatewayError
    if name in ("Gateway", "ChatResult", "EmbeddingResult", "StreamResult"):
        from . import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
