"""Docs that must stay true to the code."""
import re
import typing
from pathlib import Path

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
