"""Outgoing webhooks, shared by the features that send them (job results, approval requests):
Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature), a check that
the target is not an internal address, and the delivery of one attempt that connects to the
address that was checked.

The check refuses URLs that are not plain http(s) (credentials in the URL, whitespace, non-ASCII,
over 2048 characters), resolves the host (`resolve`) and refuses loopback, private, link-local,
multicast, reserved and unspecified addresses unless the configuration explicitly allows private
targets: a webhook URL must not become a way to reach the gateway's own network (SSRF).

`post` resolves once per attempt and connects to a vetted address itself (net/client.py's
`address=`), keeping the Host header, SNI and certificate check on the URL's host name, so a DNS
server that answers differently to the check and to the connection (rebinding) gains nothing.
Redirects are never followed (a 3xx is a failed attempt, `redirect_refused`), so a receiver
cannot bounce the POST inside either. An attempt is described by codes only: no URL, query
string or secret ends up in a record or a log line.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl as _ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from .client import Client
from .errors import ConnectError, HTTPClientError

log = logging.getLogger("seawall.webhooks")


def derived_secret(master: str, scope: str) -> str:
    """A `whsec_` signing key of one's own for `scope` (a tenant), derived from the gateway's:
    a receiver that verifies with it cannot sign for another tenant, and nothing is stored."""
    digest = hmac.new(master.encode(), b"seawall-webhook/" + scope.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


class Signer:
    """Signs a payload for one message id with a `whsec_...` key."""

    def __init__(self, key: str) -> None:
        self._hook = Webhook(key)

    def headers(self, msg_id: str, payload: bytes) -> dict[str, str]:
        now = datetime.now(timezone.utc)
        return {"content-type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": self._hook.sign(msg_id, now, payload)}


class TargetRefused(ValueError):
    """A webhook URL Seawall will not call; the message says why (the host at most, never the
    URL's path, query or credentials, nor the resolved address). `code` is what gets recorded."""

    def __init__(self, message: str, code: str = "target_refused") -> None:
        super().__init__(message)
        self.code = code


def check_url(url: str, allow_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """The URL's host, when the URL is plain http(s), short enough and (with an allow-list) allowed."""
    bad = "a webhook URL must be an http(s) URL of at most 2048 characters"
    if len(url) > 2048 or not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        raise TargetRefused(bad + " (ASCII, no spaces or control characters)", "url_refused")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
    except ValueError:
        raise TargetRefused(bad + " with a valid port", "url_refused") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise TargetRefused(bad, "url_refused")
    if "@" in parts.netloc:  # user:password@host: credentials would travel in a log line or a proxy
        raise TargetRefused("a webhook URL must not carry credentials (user:password@)", "url_refused")
    if allow_hosts and parts.hostname not in allow_hosts:
        raise TargetRefused(f"webhook host {parts.hostname!r} is not allowed", "url_refused")
    return parts.hostname


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


async def resolve(host: str) -> list[str]:
    """The addresses a host name resolves to (tests replace this to play a hostile DNS server)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


async def check_target(url: str, *, allow_private: bool = False,
                       allow_hosts: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The addresses to connect to, resolved once; TargetRefused unless every one may be called."""
    host = check_url(url, allow_hosts)
    try:
        ipaddress.ip_address(host)
        found = [host]
    except ValueError:
        try:
            found = await resolve(host)
        except OSError:
            raise TargetRefused(f"webhook host {host!r} does not resolve", "dns_error") from None
    addrs = list(dict.fromkeys(found))  # order kept, duplicates (one per socket type) dropped
    if not addrs:
        raise TargetRefused(f"webhook host {host!r} does not resolve", "dns_error")
    if not allow_private and any(_internal(ipaddress.ip_address(a.split("%", 1)[0])) for a in addrs):
        raise TargetRefused(f"webhook host {host!r} is a loopback, private or reserved address "
                            "(allow_private_targets lets it through)")
    return addrs


@dataclass
class Attempt:
    """One delivery attempt: the receiver's status and/or an error code; `retry` is false when
    trying again cannot help (a refused URL or address, a redirect)."""
    status: int | None = None
    error: str | None = None
    retry: bool = True
    reason: str = ""  # for the log: host-level detail only

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def record(self) -> dict:
        return {k: v for k, v in (("status", self.status), ("error", self.error)) if v is not None}


async def post(url: str, payload: bytes, headers: dict[str, str], *, timeout_s: float,
               allow_private: bool = False, allow_hosts: list[str] | tuple[str, ...] = (),
               ssl: _ssl.SSLContext | None = None) -> Attempt:
    """Check the target and POST to a vetted address, all within `timeout_s`. Error codes:
    url_refused, target_refused, dns_error, redirect_refused, tls_error, connect_error,
    timeout, http_error. A fresh connection each attempt: nothing pooled outlives the check."""
    client = Client(limit=1, ssl=ssl, max_response_bytes=64 << 10)
    try:
        async with asyncio.timeout(timeout_s):
            addrs = await check_target(url, allow_private=allow_private, allow_hosts=allow_hosts)
            for i, addr in enumerate(addrs):  # the next vetted address only when one cannot be reached
                try:
                    resp = await client.request("POST", url, body=payload, headers=headers, address=addr)
                    break
                except ConnectError as e:
                    if isinstance(e.__cause__, _ssl.SSLError) or i == len(addrs) - 1:
                        raise
            resp.close()  # the status is all a webhook needs
    except TargetRefused as e:
        return Attempt(error=e.code, retry=e.code == "dns_error", reason=str(e))
    except TimeoutError:
        return Attempt(error="timeout")
    except ConnectError as e:
        tls = isinstance(e.__cause__, _ssl.SSLError)
        return Attempt(error="tls_error" if tls else "connect_error", reason=str(e))
    except (HTTPClientError, OSError) as e:
        return Attempt(error="http_error", reason=type(e).__name__)
    finally:
        await client.close()
    if 300 <= resp.status < 400:  # never followed: the next hop was not checked
        return Attempt(status=resp.status, error="redirect_refused", retry=False)
    return Attempt(status=resp.status)


async def attempt(url: str, payload: bytes, headers: dict[str, str], attempts: list[dict],
                  max_attempts: int, *, label: str, **post_kw) -> str:
    """One attempt of a delivery: POST, log a failure (its code and host-level reason, never the
    URL: its query may be a token), append it to `attempts`. Returns the delivery's state after
    it: `delivered`, `pending` (worth another try) or `failed` (no retry can help, or none left)."""
    at = time.time()
    sent = await post(url, payload, headers, **post_kw)
    if sent.error:
        (log.warning if sent.retry else log.error)("%s: %s %s", label, sent.error, sent.reason)
    attempts.append({"at": at, **sent.record()})
    if sent.ok:
        return "delivered"
    return "failed" if not sent.retry or len(attempts) >= max_attempts else "pending"
