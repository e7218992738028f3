"""Outgoing webhooks, shared by the features that send them (job results, approval requests):
Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature) and a check
that the target is not an internal address.

The target check resolves the host and refuses loopback, private, link-local, multicast,
reserved and unspecified addresses unless the configuration explicitly allows private
targets: a webhook URL must not become a way to reach the gateway's own network (SSRF).
The check runs right before each delivery; a name that resolves differently between the
check and the connection (DNS rebinding) is not covered, so allow-list hosts where that matters.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from datetime import datetime, timezone
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook


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
    """A webhook URL Seawall will not call; the message says why (never the resolved address)."""


def check_url(url: str, allow_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """The URL's host, when the URL is http(s), short enough and (with an allow-list) allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise TargetRefused("a webhook URL must be an http(s) URL of at most 2048 characters")
    if allow_hosts and parts.hostname not in allow_hosts:
        raise TargetRefused(f"webhook host {parts.hostname!r} is not allowed")
    return parts.hostname


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


async def check_target(url: str, *, allow_private: bool = False, allow_hosts: list[str] | tuple[str, ...] = ()) -> None:
    """Raise TargetRefused unless every address the host resolves to may be called."""
    host = check_url(url, allow_hosts)
    if allow_private:
        return
    try:
        ips = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            raise TargetRefused(f"webhook host {host!r} does not resolve") from None
        ips = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not ips or any(_internal(ip) for ip in ips):
        raise TargetRefused(f"webhook host {host!r} is a loopback, private or reserved address "
                            "(allow_private_targets lets it through)")
