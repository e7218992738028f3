"""Seawall: an enterprise AI gateway. One core, two faces: an OpenAI/Anthropic-compatible
HTTP proxy (`seawall serve`) and this in-process library (`seawall.Gateway`)."""
from .core.errors import GatewayError
from .gateway import ChatResult, EmbeddingResult, Gateway, StreamResult

__all__ = ["Gateway", "GatewayError", "ChatResult", "EmbeddingResult", "StreamResult"]
__version__ = "0.1.0"
