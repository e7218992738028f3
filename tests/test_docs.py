"""Docs that must stay true to the code."""
import ast
import asyncio
import inspect
import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from seawall.config import Config

ROOT = Path(__file__).resolve().parents[1]


def _models(annotation):
    """The pydantic models inside a field's annotation (X, X | None, list[X], ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def config_keys(model=Config, prefix=""):
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path
        for sub in _models(field.annotation):
            yield from config_keys(sub, path + ".")


def test_every_config_key_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([a-z_][a-z0-9_.]*)(?:\[\])?`", doc))

    def mentioned(key: str) -> bool:  # the key, or any dotted tail of it, in backticks
        parts = key.split(".")
        return any(".".join(parts[i:]) in documented for i in range(len(parts)))

    missing = sorted(k for k in config_keys() if not mentioned(k))
    assert not missing, f"docs/configuration.md does not mention: {missing}"


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("##")[0]
    assert "make demo" in head and "make test" in head


# ---- every YAML block is a configuration `seawall check` accepts; every Python block runs ----
#
# Markers, on the line before a fence:
#   <!-- fragment -->   a YAML block that is part of a configuration: the test completes it (stub
#                       providers for the names it uses, a stub target for `targets: [...]`) and
#                       checks the result the same way
#   <!-- sketch: why --> a Python block that shows signatures, not a program: only compiled

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:^<!-- (fragment|sketch)[^\n]*-->\n)?^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(lang: str):
    for path in DOCS:
        text = path.read_text()
        for m in FENCE.finditer(text):
            if m.group(2) == lang:
                line = text[:m.start(2)].count("\n") + 1
                yield pytest.param(m.group(1), m.group(3), id=f"{path.name}:{line}")


def complete(data: dict) -> dict:
    """A fragment made whole: only what it leaves out is filled in."""
    data = dict(data)
    models = data.get("models") or [{"name": "example", "targets": ["..."]}]
    for m in models:
        if m.get("targets") in (None, ["..."]):
            m["targets"] = [{"provider": "stub", "model": "stub-model"}]
    named = {p["name"] for p in data.get("providers", [])}
    used = {t["provider"] for m in models for t in m["targets"]}
    data["providers"] = [*data.get("providers", []),
                         *({"name": n, "base_url": "http://127.0.0.1:9/v1"} for n in sorted(used - named))]
    data["models"] = models
    return data


@pytest.mark.parametrize("marker, body", list(blocks("yaml")))
def test_every_yaml_block_passes_seawall_check(marker, body, tmp_path, capsys):
    from seawall.cli import main

    data = yaml.safe_load(body)  # valid YAML, first of all
    assert isinstance(data, dict)
    if marker == "fragment":
        data = complete(data)
        body = yaml.safe_dump(data)
    else:
        assert "providers" in data and "models" in data, "a block without providers or models is a fragment: mark it"
    path = tmp_path / "seawall.yaml"
    path.write_text(body)
    try:
        rc = main(["check", str(path)])
    except SystemExit as e:
        rc = e.code
    assert rc in (0, None), capsys.readouterr()
    assert ": OK:" in capsys.readouterr().out


def test_every_python_block_runs(tmp_path, monkeypatch):
    """The README's library example runs against the README's own configuration (its provider
    pointed at the simulator); the simulator page's examples run as written."""
    from procs import start_simulator

    readme = (ROOT / "README.md").read_text()
    config = re.search(r"^```yaml\n(.*?)^```", readme, re.MULTILINE | re.DOTALL).group(1)
    sim = start_simulator(seed=2)
    try:
        (tmp_path / "seawall.yaml").write_text(config.replace("http://127.0.0.1:9101", sim.url))
        monkeypatch.chdir(tmp_path)
        ran = 0
        for param in blocks("python"):
            marker, code = param.values
            compiled = compile(code, param.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            if marker == "sketch":
                continue
            result = eval(compiled, {"__name__": "__doc_example__"})
            if inspect.iscoroutine(result):
                asyncio.run(result)
            ran += 1
        assert ran >= 3
    finally:
        sim.stop()
