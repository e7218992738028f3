"""A job runs under its submitter as governance knows it when the job runs: a key revoked after
submission fails its queued jobs closed; a valid key's job runs through the whole pipeline."""
import pytest

from seawall.config import parse
from seawall.gateway import Gateway
from seawall.govern.admin import Admin
from seawall.sim import Simulator

from services import backend  # noqa: F401  (fixture)


@pytest.fixture
async def sim():
    s = Simulator(seed=5)
    await s.start(host="127.0.0.1", port=0)
    yield s
    await s.stop()


async def test_a_revoked_keys_queued_job_fails_closed(sim, backend):  # noqa: F811
    cfg = parse({
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}],
        "server": {"access_log": False},
        "store": {"state": backend["state"], "sql": backend["sql"], "prefix": backend["prefix"]},
        "governance": {"audit": {"spool_dir": backend["spool"]}},
        "jobs": {"enabled": True, "workers": 0},  # nothing runs until the test says so
    })
    gw = Gateway(cfg)
    await gw.start()
    try:
        admin = Admin(gw.governance)
        keep, drop = await admin.create_key(user="ann"), await admin.create_key(user="bob")
        body = {"model": "m", "messages": [{"role": "user", "content": "later please"}]}
        jobs = {}
        for name, k in (("keep", keep), ("drop", drop)):
            who = gw.authenticate({"authorization": f"Bearer {k['key']}"})
            jobs[name], _ = await gw.jobs.submit("chat", body, who)
        await admin.revoke_key(drop["id"])
        await gw.governance.reload()
        for job in await gw.jobs.queue.claim(gw.jobs.owner, 10, 30):
            await gw.jobs.run(job)
        kept = await gw.jobs.queue.get(jobs["keep"].id)
        dropped = await gw.jobs.queue.get(jobs["drop"].id)
        assert kept.status == "completed" and kept.result["choices"][0]["message"]["content"]
        assert dropped.status == "failed" and dropped.error["code"] == "invalid_api_key"
        assert sim.stats["received"] == 1  # the revoked key's job never reached the provider
    finally:
        await gw.aclose()


async def test_a_webhook_to_an_internal_address_is_refused_and_recorded(sim, tmp_path, monkeypatch):
    """A client names the webhook URL: one that resolves to a loopback address is never called
    (SSRF), the attempt is recorded as refused, and no retry follows."""
    import asyncio
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Counting(BaseHTTPRequestHandler):
        hits = 0

        def do_POST(self):
            Counting.hits += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HOOK_SECRET", "whsec_" + base64.b64encode(b"jobs-ssrf-test-key-0123456789ab").decode())
    cfg = parse({
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}],
        "server": {"access_log": False},
        "store": {"sql": f"sqlite:///{tmp_path}/s.db"},
        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}},
        "jobs": {"enabled": True, "workers": 0, "webhooks": {"secret": "${HOOK_SECRET}", "backoff_s": 0.05}},
    })
    gw = Gateway(cfg)
    await gw.start()
    try:
        body = {"model": "m", "messages": [{"role": "user", "content": "call me back"}]}
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        job, _ = await gw.jobs.submit("chat", body, None, webhook_url=url)
        for claimed in await gw.jobs.queue.claim(gw.jobs.owner, 10, 30):
            await gw.jobs.run(claimed)
        gw.jobs.webhooks.kick()
        for _ in range(200):
            got = await gw.jobs.queue.get(job.id)
            if got.webhook_state == "failed":
                break
            await asyncio.sleep(0.05)
        assert got.webhook_state == "failed" and [a.get("error") for a in got.webhook_attempts] == ["target_refused"]
        assert Counting.hits == 0
    finally:
        await gw.aclose()
        server.shutdown()


async def test_a_tenant_past_its_queued_cap_is_refused_and_others_are_not(sim, tmp_path):
    from seawall.core.errors import GatewayError
    from seawall.core.types import Principal

    cfg = parse({
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}],
        "server": {"access_log": False},
        "store": {"sql": f"sqlite:///{tmp_path}/s.db"},
        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}},
        "jobs": {"enabled": True, "workers": 0, "max_queued_per_tenant": 3},
    })
    gw = Gateway(cfg)
    await gw.start()
    try:
        body = {"model": "m", "messages": [{"role": "user", "content": "later"}]}
        a, b = Principal(key_id="a"), Principal(key_id="b")
        for _ in range(3):
            await gw.jobs.submit("chat", body, a)
        with pytest.raises(GatewayError) as e:
            await gw.jobs.submit("chat", body, a)
        assert e.value.status == 429 and await gw.jobs.queue.queued_for("key:a") == 3
        await gw.jobs.submit("chat", body, b)  # another tenant's queue is its own
    finally:
        await gw.aclose()


class Crash(BaseException):
    """The process dying: nothing after it runs (not an Exception, so nothing catches it)."""


async def test_a_crash_between_storing_an_answer_and_its_audit_record_still_charges_it_once(sim, backend):  # noqa: F811
    """A job's charge is written with its answer (jobs/queue.py finish). Jobs whose process
    "dies" right after that write, before the audit record is submitted, are charged when
    their charges are settled after the restart; the jobs whose records did go out are not
    charged again, also when the settling runs while their records still wait in the writer's
    queue. The ledger (the audit's request costs) equals the sum of the jobs' stored costs."""
    import time

    import sqlalchemy as sa

    from seawall.jobs.queue import jobs as jobs_table
    from seawall.store import sql

    def config(settle_s):  # charge_settle_s
        return parse({
            "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
            "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m",
                                                  "price": {"input": 1.0, "output": 2.0}}]}],
            "server": {"access_log": False},
            "store": {"state": backend["state"], "sql": backend["sql"], "prefix": backend["prefix"]},
            "governance": {"audit": {"spool_dir": backend["spool"], "flush_interval_s": 1.0}},
            "jobs": {"enabled": True, "workers": 0, "charge_settle_s": settle_s},
        })

    async def ledger(gw):
        async with gw.governance.engine.connect() as c:
            charges = (await c.execute(sa.select(sql.audit_log.c.request_id, sql.audit_log.c.cost_usd).where(
                sql.audit_log.c.kind == "request", sql.audit_log.c.request_id.like("job_%")))).all()
            costs = dict((await c.execute(sa.select(jobs_table.c.id, jobs_table.c.cost_usd))).all())
        by_job: dict[str, list[float]] = {}
        for rid, cost in charges:
            by_job.setdefault(rid.rsplit("-", 1)[0], []).append(cost)
        return by_job, costs

    async def run_all(gw, crash: set[str]):
        real_submit = gw.governance.audit.submit

        def submit(rec):  # the process dies right after the answer and its charge were stored
            if rec.get("once") and rec["request_id"].rsplit("-", 1)[0] in crash:
                raise Crash()
            real_submit(rec)

        gw.governance.audit.submit = submit
        try:
            for job in await gw.jobs.queue.claim(gw.jobs.owner, 100, 30):
                try:
                    await gw.jobs.run(job)
                except Crash:
                    pass
        finally:
            gw.governance.audit.submit = real_submit

    body = {"model": "m", "messages": [{"role": "user", "content": "charge me once"}]}
    gw = Gateway(config(3600))  # its housekeeping never settles: the test does, after the "restart"
    await gw.start()
    try:
        who = gw.authenticate({"authorization": f"Bearer {(await Admin(gw.governance).create_key(user='c'))['key']}"})
        ids = [(await gw.jobs.submit("chat", body, who))[0].id for _ in range(6)]
        await run_all(gw, crash=set(ids[::2]))
        await gw.governance.audit.flush()
        by_job, costs = await ledger(gw)
        assert set(by_job) == set(ids[1::2])  # the crashed three are stored but not yet charged
        assert [(await gw.jobs.queue.get(j)).status for j in ids] == ["completed"] * 6
    finally:
        await gw.aclose()

    gw = Gateway(config(3600))  # the restart; settled by hand below, not by the housekeeping
    await gw.start()
    try:
        assert await gw.jobs.settle_charges(time.time() + 1) == 3  # only the three the log lacked
        # two more jobs, their records still in the writer's queue (flush_interval_s) when the
        # settling appends them: the writer must skip them, not write them a second time
        more = [(await gw.jobs.submit("chat", body, who))[0].id for _ in range(2)]
        await run_all(gw, crash=set())
        settled = await gw.jobs.settle_charges(time.time() + 1)
        assert settled in (0, 2)  # 2 unless the writer was quicker: either way, once
        await gw.governance.audit.flush()
        assert await gw.jobs.settle_charges(time.time() + 1) == 0  # nothing left to settle
        by_job, costs = await ledger(gw)
        assert set(by_job) == set(ids + more)
        assert all(len(c) == 1 for c in by_job.values()), by_job  # none charged twice
        assert all(costs[j] and by_job[j][0] == pytest.approx(costs[j]) for j in by_job)
        assert sum(c[0] for c in by_job.values()) == pytest.approx(sum(costs[j] for j in ids + more))
    finally:
        await gw.aclose()
