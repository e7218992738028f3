"""Webhooks: when a job with a `webhook_url` finishes, POST its public record, signed per the
Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature), retried
with a doubling back-off; every attempt (time, status or error) is recorded on the job.

The target is checked before each attempt and the POST goes to the address that was checked
(net/webhooks.py): a URL whose host resolves to a loopback, private or reserved address is
refused unless `allow_private_targets` is set, redirects are not followed, and an attempt is
recorded as a status and/or an error code, never with the URL.

Finished jobs are marked `webhook_state = pending` in the same write that records the outcome,
so a delivery interrupted by a restart is picked up again by the next process's loop. Delivery
is at least once: receivers deduplicate on webhook-id (see `message_id`).
"""
from __future__ import annotations

import asyncio
import logging
import ssl

import orjson

from ..core.errors import GatewayError
from ..net.webhooks import Signer, TargetRefused, attempt, check_url, derived_secret
from .config import WebhookPolicy
from .queue import Job, Queue

log = logging.getLogger("seawall.jobs.webhook")


def message_id(job: Job) -> str:
    """webhook-id: the job id and its finish time in ms. Redeliveries of one outcome share it;
    a job an operator retried (`seawall jobs retry`) finishes again under a new one, so a
    receiver deduplicating on webhook-id does not drop the second outcome."""
    return f"{job.id}.{int((job.finished_at or 0) * 1000)}"


class Deliverer:
    def __init__(self, policy: WebhookPolicy, queue: Queue, owner: str) -> None:
        self.policy = policy
        self.owner = owner
        self._deliveries: set[asyncio.Task] = set()
        self.queue = queue
        key = policy.secret.get() if policy.secret else None
        self._master = key
        self.signer = Signer(key) if key else None
        self._tenant_signers: dict[str, Signer] = {}
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._busy: set[str] = set()
        self._ssl: ssl.SSLContext | None = None  # one trust store load, shared by every attempt

    def check_url(self, url: str) -> None:
        if self.signer is None:
            raise GatewayError("invalid_request", "webhooks are off on this gateway (jobs.webhooks.secret)",
                               param="webhook_url")
        try:
            check_url(url, self.policy.allow_hosts)
        except TargetRefused as e:
            raise GatewayError("invalid_request", str(e), param="webhook_url") from None

    async def start(self) -> None:
        if self.signer is None or self._task is not None:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="jobs-webhooks")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        for t in list(self._deliveries):  # a pending delivery is resumed by the next process
            t.cancel()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    def kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                for job in await self.queue.webhooks_due(50):
                    if job.id not in self._busy:
                        self._busy.add(job.id)
                        t = asyncio.create_task(self._deliver(job))
                        self._deliveries.add(t)
                        t.add_done_callback(self._deliveries.discard)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks: listing pending deliveries failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), 2.0)
            except asyncio.TimeoutError:
                pass

    def secret_for(self, tenant: str) -> str | None:
        """The signing key a tenant's receivers verify with (None: webhooks are off)."""
        if self._master is None:
            return None
        return derived_secret(self._master, tenant) if self.policy.per_key_secrets else self._master

    def sign(self, job: Job, payload: bytes) -> dict[str, str]:
        signer = self.signer
        if self.policy.per_key_secrets:
            signer = self._tenant_signers.get(job.tenant)
            if signer is None:
                if len(self._tenant_signers) >= 10_000:
                    self._tenant_signers.clear()
                signer = self._tenant_signers[job.tenant] = Signer(self.secret_for(job.tenant))
        return signer.headers(message_id(job), payload)

    async def _deliver(self, job: Job) -> None:
        try:
            attempts = list(job.webhook_attempts or [])
            payload = orjson.dumps({"type": f"job.{job.status}", "data": job.public()})
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            while len(attempts) < self.policy.max_attempts:
                wait = self.policy.backoff_s * 2 ** (len(attempts) - 1) if attempts else 0.0
                if not await self.queue.hold_delivery(job.id, self.owner, wait + self.policy.timeout_s + 5):
                    return  # another process is delivering it
                if wait:
                    await asyncio.sleep(wait)
                state = await attempt(job.webhook_url, payload, self.sign(job, payload), attempts,
                                      self.policy.max_attempts, label=f"webhook for job {job.id}", ssl=self._ssl,
                                      timeout_s=self.policy.timeout_s, allow_hosts=self.policy.allow_hosts,
                                      allow_private=self.policy.allow_private_targets)
                await self.queue.record_delivery(job.id, self.owner, attempts, state)
                if state != "pending":
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhooks: delivering %s failed", job.id)
        finally:
            self._busy.discard(job.id)
