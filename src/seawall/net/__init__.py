"""A lean HTTP/1.1 layer on asyncio protocols and httptools' C parser.

`client` talks to upstreams (pooled keep-alive connections, TLS through asyncio's ssl);
`server` serves the gateway's HTTP surface. Both exist because the general-purpose stacks
cost more CPU per proxied request than the whole hop is allowed to (docs/benchmarks.md).
"""
from .errors import ConnectError, ConnectionClosed, HTTPClientError, ProtocolError
from .headers import Headers

__all__ = ["ConnectError", "ConnectionClosed", "HTTPClientError", "Headers", "ProtocolError"]
