"""Approvers' webhook: when an approval is created, POST it (redacted, as /admin/approvals shows
it) to `actions.approvals_webhook.url`, signed per Standard Webhooks with the configured key,
retried with a doubling back-off; every attempt (time, status or error) is recorded on the
approval row (`webhook.attempts` in its view).

Delivery is at least once per attempt budget; receivers deduplicate on webhook-id (the approval
id). A delivery cut by a restart is not resumed: the approval still waits in /admin/approvals.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import orjson

from ..net.webhooks import Signer, TargetRefused, check_target
from .approvals import Approvals
from .config import ApprovalsWebhook

log = logging.getLogger("seawall.actions.webhook")


class Notifier:
    def __init__(self, cfg: ApprovalsWebhook, approvals: Approvals) -> None:
        self.cfg = cfg
        self.approvals = approvals
        self.signer = Signer(cfg.secret.get())
        self._tasks: set[asyncio.Task] = set()
        self._session: aiohttp.ClientSession | None = None

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
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, view: dict) -> None:
        payload = orjson.dumps({"type": "approval.created", "data": {
            k: view[k] for k in ("id", "tool", "created_at", "expires_at", "policy_version", "request", "decision")}})
        attempts: list[dict] = []
        try:
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s))
            while len(attempts) < self.cfg.max_attempts:
                if attempts:
                    await asyncio.sleep(self.cfg.backoff_s * 2 ** (len(attempts) - 1))
                record: dict = {"at": time.time()}
                ok = False
                try:
                    await check_target(self.cfg.url, allow_private=self.cfg.allow_private_targets)
                    async with self._session.post(self.cfg.url, data=payload, allow_redirects=False,
                                                  headers=self.signer.headers(view["id"], payload)) as resp:
                        record["status"] = resp.status
                        ok = 200 <= resp.status < 300
                except TargetRefused as e:  # a configuration problem: retrying cannot help
                    record["error"] = "target_refused"
                    attempts.append(record)
                    log.error("approvals webhook refused: %s", e)
                    await self.approvals.record_webhook(view["id"], attempts, "failed")
                    return
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                    record["error"] = type(e).__name__
                attempts.append(record)
                done = ok or len(attempts) >= self.cfg.max_attempts
                await self.approvals.record_webhook(view["id"], attempts,
                                                    "delivered" if ok else ("failed" if done else "pending"))
                if ok:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("approvals webhook: delivering %s failed", view["id"])
