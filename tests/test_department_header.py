"""x-seawall-department names only a department listed for the key or its team (issue 13, item 7).

A real gateway process with governance on SQLite; departments, teams and keys made through the
admin API and the CLI; a department's spent budget cannot be dodged by naming another one.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from procs import ROOT, _env, http, start_gateway, start_simulator

ADMIN = "adm-dept-test-9f2c"
HI = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def stack():
    sim = start_simulator(seed=41)
    work = Path(tempfile.mkdtemp(prefix="seawall-dept-"))
    config = {
        "admin_key": ADMIN,
        "server": {"access_log": False},
        "store": {"sql": f"sqlite:///{work}/g.db"},
        "governance": {"refresh_s": 0.2, "audit": {"spool_dir": str(work / "spool")}},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m",
                                               "price": {"input": 1000.0, "output": 1000.0}}]}],
    }
    gw = start_gateway(config)
    (work / "c.yaml").write_text(yaml.safe_dump(config))
    yield gw, sim, work
    gw.stop()
    sim.stop()


def admin(gw, path: str, body: dict) -> dict:
    status, _, raw = http("POST", gw.url + "/admin/" + path, json.dumps(body).encode(),
                          {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status in (200, 201), raw
    return json.loads(raw)


def chat(gw, key: str, dept: str | None = None):
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    if dept:
        headers["x-seawall-department"] = dept
    return http("POST", gw.url + "/v1/chat/completions",
                json.dumps({"model": "m", "messages": HI, "max_tokens": 10}).encode(), headers)


def received(sim) -> int:
    return json.loads(http("GET", sim.url + "/_sim/stats")[2])["received"]


def until_known(gw, key: str) -> None:
    deadline = time.monotonic() + 10  # instances reload the key directory behind the request path
    while chat(gw, key)[0] == 401 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_only_listed_departments_may_be_named(stack):
    gw, sim, _ = stack
    for d in ("sales", "support", "legal"):
        admin(gw, "departments", {"id": d})
    # sales has spent its budget (a tiny hard budget: the reservation alone exceeds it)
    admin(gw, "budgets", {"scope": "department", "scope_id": "sales", "period": "daily", "amount_usd": 0.000001,
                          "hard": True})
    key = admin(gw, "keys", {"department": "sales", "allow_department_header": True,
                             "allowed_departments": ["support"]})
    assert key["allowed_departments"] == ["support"]
    plain = admin(gw, "keys", {"department": "sales"})
    until_known(gw, key["key"])
    until_known(gw, plain["key"])

    assert chat(gw, key["key"])[0] == 429  # its own department's budget is spent
    before = received(sim)
    for k, dept in ((key, "legal"), (plain, "support"), (plain, "legal")):
        status, headers, raw = chat(gw, k["key"], dept)
        err = json.loads(raw)["error"]
        assert status == 403 and err["code"] == "permission_denied", raw
        assert err["param"] == "x-seawall-department"
        assert dept not in err["message"]  # the refusal does not echo client input
    assert received(sim) == before  # refused before any upstream call, cache or budget
    status, _, raw = chat(gw, key["key"], "support")  # a listed department: served, charged there
    assert status == 200, raw
    assert chat(gw, key["key"], "sales")[0] == 429  # naming its own department changes nothing


def test_a_team_list_applies_to_its_keys_and_the_cli_sets_a_key_list(stack):
    gw, _, work = stack
    admin(gw, "departments", {"id": "ops"})
    admin(gw, "departments", {"id": "research"})
    team = admin(gw, "teams", {"id": "platform", "department": "ops", "allowed_departments": ["research"]})
    assert team["allowed_departments"] == ["research"]
    member = admin(gw, "keys", {"team": "platform", "allow_department_header": True})
    until_known(gw, member["key"])
    assert chat(gw, member["key"], "research")[0] == 200
    assert chat(gw, member["key"], "legal")[0] == 403

    out = subprocess.run([sys.executable, "-m", "seawall.cli", "keys", "create", "-c", str(work / "c.yaml"),
                          "--team", "platform", "--allow-department-header", "--departments", "legal"],
                         capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    cli_key = json.loads(out.stdout)
    assert cli_key["allowed_departments"] == ["legal"]
    until_known(gw, cli_key["key"])
    assert chat(gw, cli_key["key"], "legal")[0] == 200
    assert chat(gw, cli_key["key"], "research")[0] == 403  # the key's own list replaces the team's


def test_unknown_departments_cannot_be_listed(stack):
    gw, _, _ = stack
    status, _, raw = http("POST", gw.url + "/admin/keys", json.dumps(
        {"allow_department_header": True, "allowed_departments": ["nowhere"]}).encode(),
        {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status == 404 and json.loads(raw)["error"]["param"] == "allowed_departments"
    status, _, raw = http("POST", gw.url + "/admin/keys", json.dumps(
        {"allow_department_header": True, "allowed_departments": "sales"}).encode(),
        {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status == 400
    status, _, raw = http("POST", gw.url + "/admin/keys", json.dumps({"allow_department_header": "yes"}).encode(),
                          {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    assert status == 400 and json.loads(raw)["error"]["param"] == "allow_department_header"
