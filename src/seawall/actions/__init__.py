"""The action proxy: every operation an AI agent attempts passes policy (Cedar) and is allowed,
denied, degraded (a deterministic rewrite) or held for a human approval (docs/actions.md)."""
