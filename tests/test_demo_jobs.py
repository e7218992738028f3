"""`seawall demo` runs end to end and its report shows the async part: a chat job whose webhook
arrived with a valid Standard Webhooks signature, and a batch completed with every line in the
output file once. The demo's receiver really refuses a wrong signature."""
import base64
import re
import subprocess
import sys
from datetime import datetime, timezone

import aiohttp
from standardwebhooks.webhooks import Webhook

from seawall.demo_jobs import BATCH_LINES, Receiver

from procs import _env


def test_the_demo_reports_a_verified_webhook_and_a_completed_batch():
    r = subprocess.run([sys.executable, "-m", "seawall.cli", "demo", "--requests", "30", "--concurrency", "4"],
                       capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    job = re.search(r"chat job +completed in [0-9.]+ s; webhook job\.completed after [0-9.]+ s, "
                    r"signature verified (\d+), refused (\d+)", out)
    assert job and job.groups() == ("1", "0"), out
    batch = re.search(rf"batch +{BATCH_LINES} lines completed in [0-9.]+ s; output file (\d+) lines "
                      r"\((\d+) distinct custom_id\), error file (\d+) lines", out)
    assert batch and batch.groups() == (str(BATCH_LINES), str(BATCH_LINES), "0"), out
    assert "signature verified (Standard Webhooks)" in out


async def test_the_demo_receiver_refuses_a_wrong_signature():
    key = "whsec_" + base64.b64encode(b"demo-receiver-test-key-0123456789").decode()
    other = "whsec_" + base64.b64encode(b"someone-else-entirely-abcdefghij").decode()
    receiver = Receiver()
    receiver.hook = Webhook(key)
    await receiver.start()
    try:
        body = b'{"type":"job.completed","data":{"id":"job_1"}}'
        now = datetime.now(timezone.utc)
        async with aiohttp.ClientSession() as http:
            for signer, want in ((other, 401), (key, 204)):
                headers = {"webhook-id": "job_1.1", "webhook-timestamp": str(int(now.timestamp())),
                           "webhook-signature": Webhook(signer).sign("job_1.1", now, body)}
                async with http.post(receiver.url, data=body, headers=headers) as resp:
                    assert resp.status == want
    finally:
        await receiver.stop()
    assert receiver.refused == 1 and [e["data"]["id"] for e in receiver.events] == ["job_1"]
