"""The library face runs the same pipeline as the server, in process."""
import pytest

from seawall import Gateway, GatewayError
from seawall.sim import Faults, Simulator


@pytest.fixture(autouse=True)
def _own_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the embedded default keeps ./seawall.db: one per test


@pytest.fixture
async def sim():
    s = Simulator(seed=21)
    await s.start(port=0)
    yield s
    await s.stop()


def config(url: str) -> dict:
    return {
        "providers": [{"name": "sim", "base_url": url + "/v1"},
                      {"name": "sim-anthropic", "kind": "anthropic", "base_url": url}],
        "models": [
            {"name": "chat", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}]},
            {"name": "claude", "targets": [{"provider": "sim-anthropic", "model": "claude-3-5-haiku"}]},
            {"name": "embed", "kind": "embeddings", "targets": [{"provider": "sim", "model": "emb"}]},
        ],
    }


async def test_chat_returns_typed_result_with_meta(sim):
    async with Gateway.from_config(config(sim.url)) as gw:
        r = await gw.chat(model="chat", messages=[{"role": "user", "content": "hello"}], request_id="lib-1")
        assert r.text and r.usage["completion_tokens"] > 0
        assert r.meta.request_id == "lib-1"
        assert r.meta.deployment == "sim/gpt-4o-mini"
        assert r.meta.attempts == 1 and r.meta.latency_ms > 0


async def test_stream_yields_chunks_and_meta(sim):
    async with Gateway.from_config(config(sim.url)) as gw:
        text = ""
        async with gw.stream(model="claude", messages=[{"role": "user", "content": "hi"}]) as s:
            async for chunk in s:
                for c in chunk.get("choices", []):
                    text += c["delta"].get("content") or ""
        assert text
        assert s.meta.deployment == "sim-anthropic/claude-3-5-haiku"
        assert s.meta.ttft_ms is not None


async def test_embed(sim):
    async with Gateway.from_config(config(sim.url)) as gw:
        r = await gw.embed(model="embed", input=["a b", "c d"])
        assert len(r.vectors) == 2 and len(r.vectors[0]) > 0


async def test_errors_are_gateway_errors(sim):
    async with Gateway.from_config(config(sim.url)) as gw:
        with pytest.raises(GatewayError) as e:
            await gw.chat(model="nope", messages=[{"role": "user", "content": "x"}])
        assert e.value.code == "model_not_found" and e.value.status == 404
        with pytest.raises(GatewayError) as e:
            await gw.chat(model="chat", messages=[])
        assert e.value.param == "messages"


async def test_upstream_failure_is_classified(sim):
    sim.set_faults(error_rate=1.0, error_status=400)
    async with Gateway.from_config(config(sim.url)) as gw:
        with pytest.raises(GatewayError) as e:
            await gw.chat(model="chat", messages=[{"role": "user", "content": "x"}])
        assert e.value.status == 400 and e.value.code == "invalid_request"
        assert sim.stats["received"] == 1  # a client error is never retried
