"""Failures of the upstream client; providers.classify maps them to error classes."""
from __future__ import annotations


class HTTPClientError(Exception):
    """Base of every failure the upstream client raises (timeouts raise TimeoutError)."""


class ConnectError(HTTPClientError, ConnectionError):
    """The connection could not be opened (refused, unreachable, DNS, TLS handshake)."""


class ConnectionClosed(HTTPClientError, ConnectionError):
    """The upstream closed the connection before the response (or its body) was complete."""


class ProtocolError(HTTPClientError):
    """The upstream answered something that is not valid HTTP/1.1."""


class ResponseTooLarge(ProtocolError):
    """The upstream's response (inflated) is larger than the client's max_response_bytes."""
