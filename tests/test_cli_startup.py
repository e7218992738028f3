"""The operator's commands start without the gateway: `seawall --help`, `check` and the
governance commands load neither the guard's models, the policy engine (cedarpy) nor the
gateway's assembly, and a schema already at the head is not handed to alembic. Each command
runs in a fresh interpreter; what it imported is read from sys.modules after `main` returned."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from seawall.store.sql import MIGRATIONS, head_revision, make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]

# what only serving, evaluating or deciding actions needs
HEAVY = ("onnxruntime", "torch", "tokenizers", "transformers", "numpy", "cedarpy", "aiohttp",
         "seawall.gateway", "seawall.assembly", "seawall.guard.engine", "seawall.cache.stage",
         "seawall.actions.service", "seawall.actions.policy", "seawall.sim.server")

CHILD = """
import json, sys
from seawall.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def seawall(*argv: str) -> tuple[int, str, set[str]]:
    """(exit code, stdout, modules imported) of one command in its own interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "HF_HUB_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=env, timeout=60)
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report["code"] or 0, p.stdout, set(report["modules"])


@pytest.fixture
def config(tmp_path) -> str:
    path = tmp_path / "seawall.yaml"
    path.write_text(yaml.safe_dump({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}],
                    "guard": {"pii_default_action": "redact"}}],
        "store": {"sql": f"sqlite:///{tmp_path}/g.db"},
        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}},
        "guard": {"enabled": True},
    }))
    return str(path)


def test_help_and_check_load_no_feature_and_no_database(config):
    code, out, modules = seawall("--help")
    assert code == 0 and "keys" in out and "approvals" in out
    assert modules & {*HEAVY, "sqlalchemy", "alembic"} == set()
    code, out, modules = seawall("check", config)  # feature sections (guard:) still parse
    assert code == 0 and "OK: 1 provider(s)" in out
    assert modules & {*HEAVY, "sqlalchemy", "alembic"} == set()


def test_governance_commands_on_a_fresh_sqlite_store_load_no_feature(config):
    code, _, modules = seawall("departments", "create", "sales", "-c", config)
    assert code == 0 and modules & set(HEAVY) == set()
    assert "alembic" in modules  # the fresh database was migrated
    code, out, modules = seawall("keys", "create", "-c", config, "--user", "ann", "--create-missing",
                                 "--team", "crm")
    created = json.loads(out)
    assert code == 0 and created["key"].startswith("sw-")
    assert modules & {*HEAVY, "alembic"} == set()  # at the head already: alembic is not loaded
    code, out, modules = seawall("keys", "list", "-c", config)
    assert code == 0 and created["id"] in out and created["key"] not in out
    assert modules & {*HEAVY, "alembic"} == set()
    code, out, modules = seawall("approvals", "list", "-c", config)
    assert code == 0 and json.loads(out) == []
    assert modules & {*HEAVY, "alembic"} == set()
    code, out, modules = seawall("audit", "verify", "-c", config)
    assert code == 0 and "records verified" in out
    assert modules & {*HEAVY, "alembic"} == set()


def test_the_head_read_from_the_files_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert [head_revision()] == ScriptDirectory.from_config(cfg).get_heads()


async def _version(engine) -> list[str]:
    async with engine.connect() as conn:
        return [r[0] for r in await conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


async def _upgrade_from_an_older_revision(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine, "0007")
        assert await _version(engine) == ["0007"]
        await migrate(engine)  # behind the head: alembic runs the rest
        assert await _version(engine) == [head_revision()]
        async with engine.connect() as conn:  # a column 0008 added
            await conn.execute(sa.text("SELECT conversation FROM action_approvals"))
        await migrate(engine)  # at the head: nothing to do
        assert await _version(engine) == [head_revision()]
    finally:
        await engine.dispose()


def test_a_schema_behind_the_head_is_still_upgraded_sqlite(tmp_path):
    asyncio.run(_upgrade_from_an_older_revision(f"sqlite:///{tmp_path}/old.db"))


def test_a_schema_behind_the_head_is_still_upgraded_postgresql():
    from services import PG_HOST, PG_PORT, psql, require_services

    require_services()
    name = "sw_t_" + uuid.uuid4().hex[:10]
    psql(f"CREATE DATABASE {name}")
    try:
        asyncio.run(_upgrade_from_an_older_revision(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"))
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
