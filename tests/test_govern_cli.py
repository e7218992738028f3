"""`seawall keys ...` and `seawall audit verify` through the CLI module's own parser."""
from __future__ import annotations

import argparse
import json
import sqlite3

import yaml

from seawall.govern.cli import add_commands


def run(argv):
    p = argparse.ArgumentParser()
    add_commands(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


def test_keys_create_list_revoke_and_audit_verify(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "providers": [{"name": "p", "base_url": "http://127.0.0.1:9"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "m"}]}],
        "store": {"sql": f"sqlite:///{tmp_path}/g.db"},
        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}},
    }))
    assert run(["keys", "create", "-c", str(cfg), "--user", "ann", "--models", "m"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["key"].startswith("sw-") and created["allowed_models"] == ["m"]
    assert run(["keys", "list", "-c", str(cfg)]) == 0
    listed = capsys.readouterr().out
    assert created["id"] in listed and created["key"] not in listed
    assert run(["keys", "revoke", "-c", str(cfg), created["id"]]) == 0
    capsys.readouterr()
    assert run(["audit", "verify", "-c", str(cfg)]) == 0  # two admin records, chained
    assert "2 records verified" in capsys.readouterr().out
    db = sqlite3.connect(tmp_path / "g.db")
    db.execute("update audit_log set outcome='key.nothing' where seq=1")
    db.commit()
    db.close()
    assert run(["audit", "verify", "-c", str(cfg)]) == 1
    assert "TAMPERED at record 1" in capsys.readouterr().out
