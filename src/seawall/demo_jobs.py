"""The demo's async part: a chat job whose result comes back as a signed webhook, and a small
batch through the OpenAI Files and Batch routes, against a gateway with `jobs` on.

The webhook receiver runs in this process and checks each delivery's Standard Webhooks
signature with the `standardwebhooks` library (not with Seawall's own signer), so what is shown
is what any receiver would accept.
"""
from __future__ import annotations

import asyncio
import base64
import os
import secrets
import socket
import tempfile
import time
from dataclasses import dataclass, field

import aiohttp
import orjson
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .config import parse
from .sim import Faults, Simulator

BATCH_LINES = 24
PROMPTS = [
    "Summarise ticket {n} for the weekly support review.",
    "Classify ticket {n}: billing, delivery or product question?",
    "Draft a two-line answer to ticket {n}.",
]


def jobs_config(upstream: str, sql_path: str, webhook_secret: str) -> dict:
    return {
        "server": {"access_log": False, "log_level": "warning"},
        "store": {"state": "memory", "sql": f"sqlite:///{sql_path}"},
        "providers": [{"name": "steady", "kind": "openai", "base_url": upstream + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [
            {"provider": "steady", "model": "gpt-4o-mini", "price": {"input": 0.15, "output": 0.60}}]}],
        "jobs": {
            "enabled": True, "workers": 4, "poll_s": 0.05,
            "webhooks": {
                "secret": webhook_secret, "backoff_s": 0.2,
                # The receiver is this demo process on 127.0.0.1. Webhooks to loopback and private
                # addresses are refused by default (a client's URL must not reach the gateway's own
                # network); the demo allows them only because it is its own receiver.
                "allow_private_targets": True,
            },
        },
    }


@dataclass
class JobsReport:
    job_id: str = ""
    job_status: str = ""
    job_seconds: float = 0.0
    webhook_type: str = ""
    webhook_seconds: float = 0.0
    webhook_verified: int = 0
    webhook_refused: int = 0
    batch_id: str = ""
    batch_status: str = ""
    batch_seconds: float = 0.0
    batch_counts: dict = field(default_factory=dict)
    output_lines: int = 0
    distinct_ids: int = 0
    error_lines: int = 0

    def lines(self) -> list[str]:
        return [
            "  async jobs",
            f"    chat job      {self.job_status} in {self.job_seconds:.2f} s; webhook {self.webhook_type or 'not received'}"
            f" after {self.webhook_seconds:.2f} s, signature verified {self.webhook_verified}, refused {self.webhook_refused}",
            f"    batch         {BATCH_LINES} lines {self.batch_status} in {self.batch_seconds:.2f} s; output file "
            f"{self.output_lines} lines ({self.distinct_ids} distinct custom_id), error file {self.error_lines} lines",
        ]


class Receiver:
    """POST /hook: 204 when the signature verifies, 401 when it does not (or before `hook` is set:
    the caller's own signing key, which the demo asks the gateway for)."""

    def __init__(self) -> None:
        self.hook: Webhook | None = None
        self.events: list[dict] = []
        self.refused = 0
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            if self.hook is None:
                raise WebhookVerificationError("no signing key yet")
            event = self.hook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.refused += 1
            return web.Response(status=401)
        self.events.append(event)
        self.arrived.set()
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = "http://127.0.0.1:%d/hook" % sock.getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _json(resp: aiohttp.ClientResponse) -> dict:
    out = orjson.loads(await resp.read())
    if resp.status >= 400:
        raise RuntimeError(f"{resp.method} {resp.url.path}: {resp.status} {out}")
    return out


async def _async_chat(http: aiohttp.ClientSession, base: str, receiver: Receiver, rep: JobsReport) -> None:
    async with http.get(base + "/v1/jobs/webhook-secret") as r:  # this key's own signing key
        receiver.hook = Webhook((await _json(r))["secret"])
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write the monthly churn summary."}]}
    t0 = time.perf_counter()
    async with http.post(base + "/v1/chat/completions", data=orjson.dumps(body),
                         headers={"content-type": "application/json", "prefer": "respond-async",
                                  "x-seawall-webhook": receiver.url}) as r:
        job = await _json(r)
        location = r.headers["location"]
    rep.job_id = job["id"]
    print(f"  202 Accepted: {job['id']} {job['status']}, Location {location}; polling and waiting for the webhook")
    while job["status"] in ("queued", "running") and time.perf_counter() - t0 < 20:
        await asyncio.sleep(0.05)
        async with http.get(base + location) as r:
            job = await _json(r)
    rep.job_status, rep.job_seconds = job["status"], time.perf_counter() - t0
    try:
        await asyncio.wait_for(receiver.arrived.wait(), 10)
    except asyncio.TimeoutError:
        return
    rep.webhook_seconds = time.perf_counter() - t0
    event = receiver.events[0]
    rep.webhook_type = event.get("type", "")
    rep.webhook_verified = len(receiver.events)
    rep.webhook_refused = receiver.refused
    print(f"  webhook {rep.webhook_type} for {event['data']['id']}: signature verified (Standard Webhooks)")


async def _batch(http: aiohttp.ClientSession, base: str, rep: JobsReport) -> None:
    lines = [orjson.dumps({"custom_id": f"ticket-{n}", "method": "POST", "url": "/v1/chat/completions",
                           "body": {"model": "gpt-4o-mini", "messages": [
                               {"role": "user", "content": PROMPTS[n % len(PROMPTS)].format(n=n)}]}})
             for n in range(1, BATCH_LINES + 1)]
    form = aiohttp.FormData()
    form.add_field("purpose", "batch")
    form.add_field("file", b"\n".join(lines) + b"\n", filename="tickets.jsonl", content_type="application/jsonl")
    t0 = time.perf_counter()
    async with http.post(base + "/v1/files", data=form) as r:
        upload = await _json(r)
    async with http.post(base + "/v1/batches", data=orjson.dumps(
            {"input_file_id": upload["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
            headers={"content-type": "application/json"}) as r:
        batch = await _json(r)
    rep.batch_id = batch["id"]
    print(f"  files.create {upload['id']} ({upload['bytes']} bytes), batches.create {batch['id']}: {batch['status']}")
    while batch["status"] in ("validating", "in_progress", "finalizing") and time.perf_counter() - t0 < 30:
        await asyncio.sleep(0.1)
        async with http.get(f"{base}/v1/batches/{batch['id']}") as r:
            batch = await _json(r)
    rep.batch_status, rep.batch_seconds = batch["status"], time.perf_counter() - t0
    rep.batch_counts = batch.get("request_counts") or {}
    for key, attr in (("output_file_id", "output_lines"), ("error_file_id", "error_lines")):
        if batch.get(key):
            async with http.get(f"{base}/v1/files/{batch[key]}/content") as r:
                text = (await r.read()).splitlines()
            setattr(rep, attr, len([ln for ln in text if ln.strip()]))
            if attr == "output_lines":
                rep.distinct_ids = len({orjson.loads(ln)["custom_id"] for ln in text if ln.strip()})
    print(f"  batch {batch['id']} {batch['status']}: {rep.batch_counts.get('completed', 0)}/{BATCH_LINES} lines, "
          f"output file {rep.output_lines} lines")


async def run_jobs_phase(seed: int) -> JobsReport:
    """A fresh simulator and a gateway with jobs on; the chat job and the batch against it."""
    from .api.server import start_in_process
    from .gateway import Gateway

    upstream = Simulator(seed=seed + 2, faults=Faults(latency_ms=40))
    await upstream.start(port=0)
    key = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()  # a fresh gateway signing key per run
    receiver = Receiver()
    await receiver.start()
    sql = os.path.join(tempfile.mkdtemp(prefix="seawall-demo-jobs-"), "seawall.db")
    gw = Gateway(parse(jobs_config(upstream.url, sql, key), "demo"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound here, so the port is known without a race for a free one
    base = "http://127.0.0.1:%d" % sock.getsockname()[1]
    stop = await start_in_process(gw, sock=sock)
    rep = JobsReport()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            await _async_chat(http, base, receiver, rep)
            await _batch(http, base, rep)
        return rep
    finally:
        await stop()
        await receiver.stop()
        await upstream.stop()
