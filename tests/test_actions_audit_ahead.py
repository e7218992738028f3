"""An allowed action's audit record is drafted while its executor waits (an MCP upstream working
on the call) and finished before the result is returned, so before any answer is written.

The draft is the record make_record would make, but for its outcome, status and time; a log
whose draft fails gets the record made in one step; a failed call gets its `failed` record and
no other.
"""
from __future__ import annotations

import asyncio
import re

import pytest

from seawall import config as config_mod
from seawall.actions.service import Action, ActionsService
from seawall.core.errors import GatewayError
from seawall.core.types import Principal
from seawall.govern.audit import RecordDraft, make_record

WHO = Principal(key_id="k1", user_id="u1", team_id="ops")
POLICIES = '@id("reads") permit (principal, action, resource) when { context.effect == "read" };'


class Sink:
    """An audit log (core.types.AuditLog) as governance's: it counts drafts and keeps records."""

    def __init__(self) -> None:
        self.drafts = 0
        self.records: list[dict] = []

    def record(self, kind, outcome, status, **fields):
        self.records.append(make_record(kind, outcome, status, **fields))

    def draft(self, kind, **fields):
        self.drafts += 1
        draft = RecordDraft(kind, **fields)
        return lambda outcome, status: self.records.append(draft.finish(outcome, status))


def _service(sink) -> ActionsService:
    cfg = config_mod.parse({"providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
                            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}],
                            "actions": {"enabled": True, "policy_text": POLICIES,
                                        "effects": {"crm.read_record": "read"}, "redact_arguments": ["token"]}})
    svc = ActionsService(cfg, None, audit=sink)
    svc.reload()
    return svc


def _same_but_time(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and list(a) == list(b)
    assert {k: v for k, v in a.items() if k not in ("id", "ts", "day")} == \
        {k: v for k, v in b.items() if k not in ("id", "ts", "day")}


def test_the_record_is_drafted_while_the_executor_waits_and_made_before_the_result_returns():
    sink = Sink()
    svc = _service(sink)
    seen = {}

    async def execute(tool, args):
        for _ in range(3):  # an upstream at work: the loop runs other steps meanwhile
            await asyncio.sleep(0)
        seen["drafts"], seen["records"] = sink.drafts, len(sink.records)
        return {"ok": True}

    action = Action("crm", "read_record", {"id": 3, "token": "s3cret"})
    out = asyncio.run(svc.perform(WHO, action, execute, request_id="r1"))
    assert out["status"] == "done" and out["result"] == {"ok": True}
    assert seen == {"drafts": 1, "records": 0}  # drafted during the wait, not yet made
    assert len(sink.records) == 1  # made before perform returned
    rec = sink.records[0]
    assert rec["outcome"] == "allow" and rec["status"] == 200 and rec["request_id"] == "r1"
    assert re.fullmatch(r"[0-9a-f]{32}", rec["id"]) and "s3cret" not in rec["detail"]
    # the one-step record (a log whose draft fails) is the same record
    class NoDrafts(Sink):
        def draft(self, kind, **fields):
            raise RuntimeError("no drafts today")

    svc.audit = plain = NoDrafts()
    asyncio.run(svc.perform(WHO, action, execute, request_id="r1"))
    _same_but_time(rec, plain.records[0])


def test_an_executor_that_never_waits_still_gets_its_record():
    sink = Sink()
    svc = _service(sink)

    async def at_once(tool, args):
        return "done"

    asyncio.run(svc.perform(WHO, Action("crm", "read_record", {"id": 1}), at_once))
    assert sink.drafts == 1 and [r["outcome"] for r in sink.records] == ["allow"]


@pytest.mark.parametrize("error", [GatewayError("upstream_unavailable", "down"), ValueError("nonsense")])
def test_a_failed_call_gets_its_failed_record_and_no_other(error):
    sink = Sink()
    svc = _service(sink)

    async def failing(tool, args):
        await asyncio.sleep(0)
        raise error

    with pytest.raises(GatewayError):
        asyncio.run(svc.perform(WHO, Action("crm", "read_record", {"id": 1}), failing))
    assert [r["outcome"] for r in sink.records] == ["failed"]


def test_a_draft_finishes_as_make_record_would():
    fields = {"request_id": "r9", "key_id": "k1", "user_id": None, "detail": {"b": 1, "a": [1, 2]},
              "prompt_tokens": 7}
    made = make_record("action", "allow", 200, **fields)
    finished = RecordDraft("action", **fields).finish("allow", 200)
    _same_but_time(made, finished)
    assert finished["detail"] == '{"a":[1,2],"b":1}' and finished["user_id"] is None
    assert finished["id"][:14] == f"{int(finished['ts'] * 1_000_000):014x}"
    a, b = RecordDraft("action").finish("allow", 200), RecordDraft("action").finish("allow", 200)
    assert a["id"] != b["id"]
    assert make_record("action", "allow", 200, ts=86400.5)["day"] == "1970-01-02"
    assert make_record("action", "allow", 200, ts=86399.5)["day"] == "1970-01-01"
