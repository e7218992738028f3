"""What an answer cost, from a deployment's price table (USD per million tokens) and the usage
the upstream reported. Admission settles with it; the cache counts what its hits saved."""
from __future__ import annotations


def cost_usd(price, usage: dict | None) -> float:
    if not usage or price is None:
        return 0.0
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int(((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    return ((prompt - cached) * price.input + cached * cached_price + completion * price.output) / 1e6
