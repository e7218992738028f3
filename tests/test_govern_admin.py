"""Governance managed from the admin API and the CLI alike (issue 13 items 12 and 15), and
GET /admin/audit (item 20), through real HTTP. The admin examples in docs/governance.md are
run here as written, so the doc cannot drift from the API."""
from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from procs import http, start_gateway, start_simulator
from services import backend  # noqa: F401  (fixture)

from seawall.api.server import start_in_process
from seawall.gateway import Gateway
from seawall.govern.admin import Admin

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "adm-govern-ops-7f3a"
ADMIN_H = {"authorization": f"Bearer {ADMIN}", "content-type": "application/json"}


@pytest.fixture(scope="module")
def sim():
    s = start_simulator(seed=5)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stack(sim):
    gw = start_gateway({
        "admin_key": ADMIN, "server": {"access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
                   {"name": "other", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
    })
    yield gw
    gw.stop()


def admin(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    status, _, raw = http(method, url + path, data, ADMIN_H)
    return status, (json.loads(raw) if raw else None)


def chat(url, key, model="gpt-4o-mini"):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http("POST", url + "/v1/chat/completions", body,
                {"authorization": f"Bearer {key}", "content-type": "application/json"})[0]


def doc_examples() -> list[tuple[str, str, str | None]]:
    """The ```http blocks of docs/governance.md: (method, path, body or None)."""
    doc = (ROOT / "docs" / "governance.md").read_text()
    out = []
    for block in re.findall(r"^```http\n(.*?)^```", doc, re.DOTALL | re.MULTILINE):
        first, _, rest = block.partition("\n")
        method, path = first.split()
        out.append((method, path, rest.strip() or None))
    return out


def test_the_documented_admin_examples_run_as_written(stack):
    examples = doc_examples()
    assert len(examples) >= 15 and {m for m, _, _ in examples} >= {"POST", "GET", "PATCH", "DELETE"}
    ids: dict[str, str] = {}
    answers = []
    for method, path, body in examples:
        for name, value in ids.items():
            path = path.replace(f"${name}", value)
        assert "$" not in path, f"{path}: no earlier example created it"
        status, out = admin(stack.url, method, path, json.loads(body) if body else None)
        assert 200 <= status < 300, (method, path, status, out)
        answers.append((method, path, out))
        m = re.fullmatch(r"/admin/(keys|limits|budgets)", path)
        if method == "POST" and m:
            ids[{"keys": "KEY_ID", "limits": "LIMIT_ID", "budgets": "BUDGET_ID"}[m.group(1)]] = out["id"]
    got = {(m, p): out for m, p, out in answers}
    # what the examples did is what the gateway now holds
    assert got[("PATCH", "/admin/teams/crm")]["name"] == "CRM"
    assert got[("PATCH", f"/admin/limits/{ids['LIMIT_ID']}")].items() >= {"rpm": 600, "tpm": None}.items()
    assert got[("GET", f"/admin/budgets/{ids['BUDGET_ID']}")].items() >= {"amount_usd": 750.0, "hard": False}.items()
    assert {t["id"] for t in admin(stack.url, "GET", "/admin/teams")[1]["data"]} >= {"growth"}  # create_missing
    assert admin(stack.url, "GET", "/admin/departments/marketing")[0] == 200
    assert admin(stack.url, "GET", "/admin/teams/crm")[0] == 404  # deleted
    assert admin(stack.url, "GET", f"/admin/keys/{ids['KEY_ID']}")[1]["revoked_at"] is not None
    for _ in range(100):  # the audit writer is behind the request path
        audit = admin(stack.url, "GET", "/admin/audit?kind=admin&limit=5")[1]
        # the last example's change, among the newest admin records (refusals, such as the 404
        # above, are audited as admin records too)
        if any(r["outcome"] == "department.delete" for r in audit["data"]):
            break
        time.sleep(0.05)
    assert len(audit["data"]) == 5 and all(r["kind"] == "admin" for r in audit["data"])
    assert any(r["outcome"] == "department.delete" for r in audit["data"]) and audit["next_cursor"] is not None


def test_updates_take_effect_at_once_and_refusals_name_what_is_wrong(stack):
    url = stack.url
    _, k = admin(url, "POST", "/admin/keys", {"user": "upd"})
    assert chat(url, k["key"], "other") == 200
    status, view = admin(url, "PATCH", f"/admin/keys/{k['id']}", {"allowed_models": ["gpt-4o-mini"]})
    assert status == 200 and view["allowed_models"] == ["gpt-4o-mini"]
    assert chat(url, k["key"], "other") == 403 and chat(url, k["key"]) == 200
    status, view = admin(url, "PATCH", f"/admin/keys/{k['id']}", {"allowed_models": None})  # null: any
    assert view["allowed_models"] is None and chat(url, k["key"], "other") == 200

    status, err = admin(url, "POST", "/admin/keys", {"user": "x", "team": "nowhere"})
    assert status == 404 and "nowhere" in err["error"]["message"] and "create_missing" in err["error"]["message"]
    assert admin(url, "GET", "/admin/teams/nowhere")[0] == 404  # nothing half-created

    assert admin(url, "POST", "/admin/departments", {"id": "d-busy"})[0] == 201
    assert admin(url, "POST", "/admin/teams", {"id": "t-busy", "department": "d-busy"})[0] == 201
    _, busy = admin(url, "POST", "/admin/keys", {"user": "b", "team": "t-busy"})
    status, err = admin(url, "DELETE", "/admin/departments/d-busy")
    assert status == 409 and "t-busy" in err["error"]["message"]
    status, err = admin(url, "DELETE", "/admin/teams/t-busy")
    assert status == 409 and busy["id"] in err["error"]["message"]
    assert admin(url, "GET", "/admin/teams/t-busy")[0] == 200  # the refusal changed nothing

    _, lim = admin(url, "POST", "/admin/limits", {"scope": "key", "scope_id": k["id"], "rpm": 5})
    status, err = admin(url, "PATCH", f"/admin/limits/{lim['id']}", {"rpm": None})
    assert status == 400 and err["error"]["param"] == "rpm"
    assert admin(url, "PATCH", f"/admin/limits/{lim['id']}", {"rpm": "5"})[0] == 400  # typed
    assert admin(url, "PATCH", "/admin/budgets/bud_nope", {"hard": True})[0] == 404
    assert admin(url, "PATCH", f"/admin/keys/{k['id']}", {"key_hash": "x"})[0] == 400  # unknown field


def run_cli(*argv) -> tuple[int, str, str]:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "seawall.cli", *argv], capture_output=True, text=True, timeout=120,
                       check=False)
    return p.returncode, p.stdout, p.stderr


def test_cli_manages_everything_and_a_revocation_reaches_the_running_gateway(sim, tmp_path):
    """The README's `keys create --team crm --department sales` on a fresh database: a clear
    error, or the team and department created with --create-missing. A CLI revocation on the
    embedded store (no pub/sub between processes) reaches the gateway through the SQL change
    counter, long before the full reload (refresh_s: 300 here)."""
    db = tmp_path / "g.db"
    cfg = {"admin_key": ADMIN, "server": {"access_log": False}, "store": {"sql": f"sqlite:///{db}"},
           "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
           "models": [{"name": "gpt-4o-mini", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]}],
           "governance": {"refresh_s": 300, "audit": {"spool_dir": str(tmp_path / "spool")}}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    c = ["-c", str(path)]
    readme = ["keys", "create", *c, "--user", "alice", "--team", "crm", "--department", "sales",
              "--models", "gpt-4o-mini"]
    rc, out, err = run_cli(*readme)
    assert rc == 2 and "Traceback" not in err and "sales" in err and "--create-missing" in err and not out
    gw = start_gateway(cfg)
    try:
        rc, out, err = run_cli(*readme, "--create-missing")
        assert rc == 0, err
        key = json.loads(out)
        assert key["team"] == "crm" and key["department"] == "sales"
        rc, out, _ = run_cli("teams", "show", "crm", *c)
        assert rc == 0 and json.loads(out)["department_id"] == "sales"
        rc, out, _ = run_cli("limits", "create", *c, "--scope", "team", "--scope-id", "crm", "--rpm", "100")
        lim = json.loads(out)
        assert run_cli("limits", "update", lim["id"], *c, "--tpm", "5000")[0] == 0
        rc, out, _ = run_cli("limits", "show", lim["id"], *c)
        assert json.loads(out).items() >= {"rpm": 100, "tpm": 5000}.items()
        rc, out, _ = run_cli("budgets", "create", *c, "--scope", "team", "--scope-id", "crm", "--amount-usd", "9")
        bud = json.loads(out)
        assert run_cli("budgets", "update", bud["id"], *c, "--soft")[0] == 0
        assert json.loads(run_cli("budgets", "show", bud["id"], *c)[1])["hard"] is False
        assert run_cli("budgets", "delete", bud["id"], *c)[0] == 0
        rc, _, err = run_cli("limits", "create", *c, "--scope", "galaxy", "--scope-id", "x", "--rpm", "1")
        assert rc == 2 and "scope" in err and "Traceback" not in err
        rc, _, err = run_cli("departments", "delete", "sales", *c)
        assert rc == 2 and "crm" in err

        assert chat(gw.url, key["key"]) == 200
        assert run_cli("keys", "delete", key["id"], *c)[0] == 0
        deadline = time.monotonic() + 30  # generous; without the counter it takes refresh_s (300 s)
        while chat(gw.url, key["key"]) == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert chat(gw.url, key["key"]) == 401
        assert run_cli("audit", "verify", *c)[0] == 0
    finally:
        gw.stop()


# ---- GET /admin/audit on SQLite and PostgreSQL ---------------------------------------------

async def test_audit_browsing_filters_and_pages(backend, tmp_path):  # noqa: F811 - the fixture
    from seawall.sim import Simulator

    s = Simulator(seed=9)
    await s.start(host="127.0.0.1", port=0)
    gw = Gateway.from_config({
        "admin_key": ADMIN, "server": {"access_log": False},
        "store": {"state": backend["state"], "sql": backend["sql"], "prefix": backend["prefix"]},
        "governance": {"audit": {"spool_dir": backend["spool"], "flush_interval_s": 0.05}},
        "providers": [{"name": "sim", "base_url": s.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}]})
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = await start_in_process(gw, sock=sock)
    get = lambda path: asyncio.to_thread(admin, url, "GET", path)
    try:
        a = Admin(gw.governance)
        await a.create_department("d1")
        await a.create_team("t1", department="d1")
        k1 = await a.create_key(user="u1", team="t1")
        k2 = await a.create_key(user="u2")
        t0 = time.time()
        for i in range(7):
            assert await asyncio.to_thread(chat, url, k1["key"], "m") == 200
        for i in range(3):
            assert await asyncio.to_thread(chat, url, k2["key"], "m") == 200
        assert await asyncio.to_thread(chat, url, k2["key"], "nope") == 404
        for _ in range(100):  # the writer is behind the request path
            status, page = await get("/admin/audit?kind=request&limit=1000")
            if len(page["data"]) >= 11:
                break
            await asyncio.sleep(0.05)
        assert status == 200 and len(page["data"]) == 11
        seqs = [r["seq"] for r in page["data"]]
        assert seqs == sorted(seqs, reverse=True)  # newest first

        _, by_key = await get(f"/admin/audit?key={k1['id']}")
        assert len(by_key["data"]) == 7 and {r["key_id"] for r in by_key["data"]} == {k1["id"]}
        _, by_team = await get("/admin/audit?team=t1&outcome=ok&kind=request")
        assert len(by_team["data"]) == 7 and {r["department_id"] for r in by_team["data"]} == {"d1"}
        _, failed = await get(f"/admin/audit?key={k2['id']}&outcome=ok")
        assert len(failed["data"]) == 3
        refused = [r for r in page["data"] if r["outcome"] != "ok"]
        assert len(refused) == 1 and refused[0]["status"] == 404
        _, notok = await get(f"/admin/audit?kind=request&outcome={refused[0]['outcome']}")
        assert [r["key_id"] for r in notok["data"]] == [k2["id"]]
        _, admins = await get("/admin/audit?kind=admin")
        assert [r["outcome"] for r in admins["data"]][-1] == "department.create"
        assert "prompt" not in admins["data"][0]

        # pages: a cursor walks every record once, in order, and says when it ends
        walked, cursor = [], None
        while True:
            _, page = await get(f"/admin/audit?key={k1['id']}&limit=3" + (f"&before={cursor}" if cursor else ""))
            walked += [r["seq"] for r in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert walked == [r["seq"] for r in by_key["data"]]

        # a time range: ISO 8601 and Unix seconds
        since = quote(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + 3600)) + "Z")
        assert (await get(f"/admin/audit?since={since}"))[1]["data"] == []
        _, until = await get(f"/admin/audit?until={t0}&kind=request")
        assert until["data"] == []
        _, window = await get(f"/admin/audit?since={t0 - 1}&kind=request")
        assert len(window["data"]) == 11

        status, err = await get("/admin/audit?limit=0")
        assert status == 400 and err["error"]["param"] == "limit"
        status, err = await get("/admin/audit?keyid=x")
        assert status == 400 and err["error"]["param"] == "keyid"
        status, _, _ = await asyncio.to_thread(http, "GET", url + "/admin/audit", None,
                                               {"authorization": f"Bearer {k1['key']}"})
        assert status in (401, 403)  # a client key never reads the audit log
    finally:
        await stop()
        await gw.aclose()
        await s.stop()
