"""Governance: virtual keys and principals, rate limits, budgets, cost, and the audit log."""
