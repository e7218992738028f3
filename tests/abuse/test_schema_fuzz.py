"""A property-based fuzz of the routes /openapi.json documents, against a real gateway process
with the simulator as its upstream: schemathesis draws valid and invalid requests for every
operation (admin bodies, queries and path parameters; OpenAI and Anthropic bodies). No answer
may be a server error (a 503 from /readyz or a down upstream is deliberate), and the gateway's
log must hold no traceback.

Run on SQLite + memory and on PostgreSQL + Redis. Bounded for CI (about 400 cases a backend,
under half a minute each); SEAWALL_FUZZ_EXAMPLES raises the count
per operation and mode, SEAWALL_FUZZ_RANDOM=1 draws new cases instead of the fixed ones.
"""
from __future__ import annotations

import json
import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from procs import http, start_gateway, start_simulator  # noqa: E402
from services import backend  # noqa: E402,F401  (fixture: SQLite + memory, PostgreSQL + Redis)

ADMIN = "adm-fuzz-7f3a"
CLIENT = "client-fuzz-c21e"
EXAMPLES = int(os.environ.get("SEAWALL_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("SEAWALL_FUZZ_RANDOM") == "1"


@pytest.fixture
def gateway(backend):
    sim = start_simulator(seed=5)
    gw = start_gateway({
        "admin_key": ADMIN,
        # PostgreSQL refuses what SQLite lets through (text past a column's length, NUL bytes)
        "store": {"sql": backend["sql"], "state": backend["state"], "prefix": backend["prefix"]},
        "governance": {"audit": {"spool_dir": backend["spool"]}},
        "server": {"api_keys": [CLIENT], "access_log": False},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}],
                    "cache": {"category": "short"}},
                   {"name": "emb", "kind": "embeddings",
                    "targets": [{"provider": "sim", "model": "text-embedding-3-small"}]}],
    })
    yield gw
    gw.stop()
    sim.stop()


def test_no_route_answers_a_server_error(gateway):
    import requests

    status, _, raw = http("GET", gateway.url + "/openapi.json")
    assert status == 200
    schema = schemathesis.openapi.from_dict(json.loads(raw))
    session = requests.Session()
    failures: list[str] = []
    seen: dict[str, dict[int, int]] = {}

    for result in schema.get_all_operations():
        op = result.ok()
        key = ADMIN if op.path.startswith("/admin/") else CLIENT
        name = f"{op.method.upper()} {op.path}"

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(op.as_strategy(generation_mode=mode))
            def run(case):
                # always the right key: the fuzz is after what lies behind authentication
                r = case.call(base_url=gateway.url, session=session, headers={"authorization": f"Bearer {key}"},
                              timeout=30)
                counts = seen.setdefault(name, {})
                counts[r.status_code] = counts.get(r.status_code, 0) + 1
                if r.status_code >= 500 and r.status_code != 503:
                    failures.append(f"{name} -> {r.status_code}: {r.text[:200]} "
                                    f"(body {str(case.body)[:200]}, query {case.query}, path {case.path_parameters})")

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid in this operation (no body, query or parameter)

    cases = sum(sum(c.values()) for c in seen.values())
    assert cases >= 150, seen
    assert not failures, "\n".join(failures[:20])
    assert "Traceback" not in gateway.output()
    # the fuzz reached the handlers, not only the validation in front of them
    assert seen["POST /v1/chat/completions"].get(200) and seen["POST /admin/keys"].get(201), seen
