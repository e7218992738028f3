"""HTTP connectors: Seawall performs an allowed action on an internal system itself, with the
credential from its own environment, so the agent never holds it. The system's answer goes
back without its headers (a system that echoes the credential in a header cannot leak it)."""
from __future__ import annotations

import asyncio
import fnmatch
import os
from urllib.parse import quote

import orjson

from ..core.errors import GatewayError, invalid
from ..net.client import Client
from .config import Connector

_METHOD_EFFECT = {"GET": "read", "DELETE": "delete"}


def effect_of_method(method: str) -> str:
    return _METHOD_EFFECT.get(method, "write")


class Connectors:
    def __init__(self, connectors: dict[str, Connector]) -> None:
        self.connectors = connectors
        self.client = Client(limit=32)

    def check(self, name: str, method: str, path: str) -> Connector:
        c = self.connectors.get(name)
        if c is None:
            raise invalid(f"no connector named {name!r}", "connector")
        if method not in c.methods:
            raise GatewayError("action_denied", f"connector {name} does not allow {method}", param="method")
        if not path.startswith("/") or ".." in path.split("/") or "//" in path or "?" in path or "#" in path:
            raise invalid("path must be an absolute path without '..', '//', query or fragment", "path")
        if not any(fnmatch.fnmatchcase(path, pat) for pat in c.paths):
            raise GatewayError("action_denied", f"connector {name} does not allow the path {path}", param="path")
        return c

    async def call(self, name: str, method: str, path: str, body: dict | None) -> dict:
        c = self.check(name, method, path)
        headers = {"host": c.base_url.split("://", 1)[1].split("/", 1)[0], "accept": "application/json",
                   "connection": "keep-alive"}
        value = None
        if c.credential_env:
            value = os.environ.get(c.credential_env)
            if not value:  # fail closed, and say which variable without any value
                raise GatewayError("upstream_unavailable", f"connector {name}: {c.credential_env} is not set")
            headers[c.credential_header] = c.credential_prefix + value
        data = b""
        if body is not None and method != "GET":
            data = orjson.dumps(body)
            headers["content-type"] = "application/json"
        url = c.base_url.rstrip("/") + quote(path, safe="/-_.~*:@!$&'()+,;=")
        async def once():
            resp = await self.client.request(method, url, body=data, headers=headers, connect_timeout=c.timeout_s)
            return resp, await resp.read()

        try:
            resp, raw = await asyncio.wait_for(once(), c.timeout_s)
        except asyncio.TimeoutError:
            raise GatewayError("upstream_timeout", f"connector {name} did not answer in time") from None
        except GatewayError:
            raise
        except Exception:
            raise GatewayError("upstream_unavailable", f"connector {name} did not answer") from None
        if len(raw) > c.max_response_bytes:
            raise GatewayError("upstream_error", f"connector {name} answered more than max_response_bytes")
        if value:  # a system that echoes the credential does not hand it on
            raw = raw.replace(value.encode(), b"[REDACTED]")
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = raw[:4096].decode("utf-8", "replace")
        return {"status": resp.status, "body": parsed}

    async def close(self) -> None:
        await self.client.close()
