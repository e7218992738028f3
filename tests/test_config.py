"""Configuration: the minimal file works as written; every error names file, key path and problem."""
import textwrap

import pytest

from seawall.config import ConfigError, Secret, load, parse

MINIMAL = """
providers:
  - name: sim-a
    kind: openai
    base_url: http://127.0.0.1:9101/v1
    api_key: ${SIM_KEY}
models:
  - name: gpt-4o-mini
    targets:
      - provider: sim-a
        model: gpt-4o-mini
"""


def write(tmp_path, text):
    p = tmp_path / "seawall.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_minimal_file_from_the_readme_loads(tmp_path, monkeypatch):
    monkeypatch.delenv("SIM_KEY", raising=False)
    cfg = load(write(tmp_path, MINIMAL))
    assert cfg.models[0].targets[0].provider == "sim-a"
    assert cfg.providers[0].api_key.ref == "${SIM_KEY}"
    assert not cfg.providers[0].api_key  # unset variable: no key, and no crash
    assert cfg.server.port == 8080 and cfg.store.state == "memory"


def test_secret_is_resolved_but_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_KEY", "sk-very-secret-value")
    cfg = load(write(tmp_path, MINIMAL))
    key = cfg.providers[0].api_key
    assert key.get() == "sk-very-secret-value"
    for shown in (repr(key), str(key), repr(cfg), str(cfg.model_dump())):
        assert "sk-very-secret-value" not in shown


def test_env_default_syntax():
    s = Secret.parse("${SEAWALL_TEST_UNSET_VAR:-fallback}")
    assert s.get() == "fallback"


@pytest.mark.parametrize("text, path, words", [
    (MINIMAL.replace("provider: sim-a", "provider: sim-b"), "models[0].targets[0].provider", "unknown provider 'sim-b'"),
    (MINIMAL.replace("    base_url: http://127.0.0.1:9101/v1\n", ""), "providers[0].base_url", "required"),
    (MINIMAL.replace("kind: openai", "kind: openia"), "providers[0].kind", "openai"),
    (MINIMAL.replace("base_url: http://", "base_url: ftp://"), "providers[0].base_url", "http://"),
    (MINIMAL.replace("        model: gpt-4o-mini", "        model: gpt-4o-mini\n        wieght: 2"),
     "models[0].targets[0].wieght", "unknown key"),
    (MINIMAL + "server:\n  port: eighty\n", "server.port", "integer"),
])
def test_errors_name_file_key_path_and_problem(tmp_path, text, path, words):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load(p)
    msg = str(e.value)
    assert f"{p}: {path}:" in msg
    assert words in msg


def test_yaml_syntax_error_has_line(tmp_path):
    p = write(tmp_path, "providers:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+"):
        load(p)


def test_duplicate_alias_rejected():
    data = {"providers": [{"name": "a", "base_url": "http://x"}],
            "models": [{"name": "m", "targets": [{"provider": "a", "model": "x"}]},
                       {"name": "m", "targets": [{"provider": "a", "model": "y"}]}]}
    with pytest.raises(ConfigError, match=r"models\[1\]\.name: duplicate model name 'm'"):
        parse(data, "cfg")


def test_azure_needs_api_version():
    data = {"providers": [{"name": "az", "kind": "azure", "base_url": "https://x.openai.azure.com"}],
            "models": [{"name": "m", "targets": [{"provider": "az", "model": "gpt4o"}]}]}
    with pytest.raises(ConfigError, match="api_version"):
        parse(data, "cfg")


def test_admin_key_from_environment(monkeypatch):
    monkeypatch.setenv("SEAWALL_ADMIN_KEY", "adm-123")
    cfg = parse({"providers": [{"name": "a", "base_url": "http://x"}],
                 "models": [{"name": "m", "targets": [{"provider": "a", "model": "x"}]}]})
    assert cfg.admin_key.get() == "adm-123"
    assert "adm-123" not in repr(cfg)


def test_check_command(tmp_path, capsys):
    from seawall.cli import main

    assert main(["check", str(write(tmp_path, MINIMAL))]) == 0
    assert "OK" in capsys.readouterr().out
    bad = write(tmp_path, MINIMAL.replace("provider: sim-a", "provider: nope"))
    with pytest.raises(SystemExit) as e:
        main(["check", str(bad)])
    assert e.value.code == 2
    assert "models[0].targets[0].provider" in capsys.readouterr().err


def test_two_aliases_that_share_a_deployment_must_agree_on_its_price():
    # one provider/model is one deployment: a second alias with another price would be billed at
    # the first alias's price, silently
    base = {"providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1"}]}
    same = {**base, "models": [
        {"name": "a", "targets": [{"provider": "p", "model": "m", "price": {"input": 1, "output": 2}}]},
        {"name": "b", "targets": [{"provider": "p", "model": "m", "price": {"input": 1, "output": 2}}]}]}
    parse(same)
    other = {**base, "models": [same["models"][0],
                                {"name": "b", "targets": [{"provider": "p", "model": "m", "price": {"input": 5, "output": 2}}]}]}
    with pytest.raises(ConfigError, match=r"models\[1\]\.targets\[0\]: p/m is also models\[0\]\.targets\[0\], with another price"):
        parse(other)
