"""Approvers' webhook: when an approval is created, POST it (redacted, as /admin/approvals shows
it) to `actions.approvals_webhook.url`, signed per Standard Webhooks with the configured key,
retried with a doubling back-off; every attempt (time, status or error) is recorded on the
approval row (`webhook.attempts` in its view). The POST goes to the address the SSRF check
vetted and redirects are not followed (net/webhooks.py); attempts hold codes, never the URL.

Delivery is at least once per attempt budget; receivers deduplicate on webhook-id (the approval
id). A delivery cut by a restart is not resumed: the approval still waits in /admin/approvals.
"""
from __future__ import annotations

import asyncio
import logging
import ssl

import orjson

from ..net.webhooks import Signer, attempt
from .approvals import Approvals
from .config import ApprovalsWebhook

log = logging.getLogger("seawall.actions.webhook")


class Notifier:
    def __init__(self, cfg: ApprovalsWebhook, approvals: Approvals) -> None:
        self.cfg = cfg
        self.approvals = approvals
        self.signer = Signer(cfg.secret.get())
        self._tasks: set[asyncio.Task] = set()
        self._ssl: ssl.SSLContext | None = None  # one trust store load, shared by every attempt

    def created(self, view: dict) -> None:
        """Start the delivery of one new approval in the background."""
        t = asyncio.get_running_loop().create_task(self._deliver(view), name=f"approval-webhook-{view['id']}")
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self, view: dict) -> None:
        payload = orjson.dumps({"type": "approval.created", "data": {
            k: view[k] for k in ("id", "tool", "created_at", "expires_at", "policy_version", "request", "decision")}})
        attempts: list[dict] = []
        try:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            while len(attempts) < self.cfg.max_attempts:
                if attempts:
                    await asyncio.sleep(self.cfg.backoff_s * 2 ** (len(attempts) - 1))
                state = await attempt(self.cfg.url, payload, self.signer.headers(view["id"], payload), attempts,
                                      self.cfg.max_attempts, label="approvals webhook", ssl=self._ssl,
                                      timeout_s=self.cfg.timeout_s, allow_private=self.cfg.allow_private_targets)
                await self.approvals.record_webhook(view["id"], attempts, state)
                if state != "pending":
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("approvals webhook: delivering %s failed", view["id"])
