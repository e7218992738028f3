"""The cache and the guard together: requests that look alike only after the guard masked or
tokenized them ("Who is <PERSON_1>?") never share a stored answer; the same request repeated
still hits; a look-alike never reaches the semantic level."""
from __future__ import annotations

import pytest

from seawall.config import parse
from seawall.gateway import Gateway
from seawall.sim import Simulator


@pytest.fixture
async def sim():
    async with Simulator(seed=41) as s:
        yield s


def _gateway(sim, tmp_path, semantic: bool) -> Gateway:
    cache = {"category": "long", "semantic": {"enabled": semantic}}
    return Gateway(parse({
        "store": {"sql": f"sqlite:///{tmp_path}/c.db"},
        "governance": {"audit": {"spool_dir": str(tmp_path / "spool")}},
        "providers": [{"name": "sim", "base_url": sim.url + "/v1"}],
        "models": [{"name": "m", "targets": [{"provider": "sim", "model": "gpt-4o-mini"}], "cache": cache}],
    }))


async def _ask(gw, text):
    r = await gw.chat(model="m", messages=[{"role": "user", "content": text}], temperature=0)
    return r.meta.cache, r.meta.guard_outcome


@pytest.mark.parametrize("semantic", [False, True])
async def test_values_behind_the_same_placeholder_never_share_an_answer(sim, tmp_path, semantic):
    gw = _gateway(sim, tmp_path, semantic)
    try:
        first = await _ask(gw, "Please write to jane.doe@example.com about the invoice.")
        assert first == ("miss", "masked")  # the address went upstream as a placeholder
        await gw.cache.drain()
        other = await _ask(gw, "Please write to john.roe@example.org about the invoice.")
        assert other[0] == "miss"  # same text after masking, another person: not her answer
        await gw.cache.drain()
        assert (await _ask(gw, "Please write to jane.doe@example.com about the invoice."))[0] == "hit-exact"
        assert sim.stats["received"] == 2
    finally:
        await gw.aclose()
