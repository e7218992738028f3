"""Browsing the audit log (GET /admin/audit): filters on indexed columns, newest first, with a
keyset cursor on seq, so every page costs the same however deep it is (store/sql.py indexes
audit_log by key and team together with seq, and the rare outcomes and kinds)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from ..store import sql

FILTERS = {"key": "key_id", "team": "team_id", "department": "department_id", "user": "user_id",
           "outcome": "outcome", "kind": "kind", "model": "alias", "request_id": "request_id"}
FIELDS = ("seq", "id", "ts", "kind", "request_id", "key_id", "user_id", "team_id", "department_id", "alias",
          "deployment", "outcome", "status", "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms")


def _epoch(t: datetime | float | None) -> float | None:
    if t is None or isinstance(t, (int, float)):
        return t
    if t.tzinfo is None:  # a time without a zone is UTC
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


async def browse(engine, *, filters: dict[str, str], since=None, until=None, before: int | None = None,
                 limit: int = 100, content: bool = False) -> dict:
    """Records newest first. `before` is the cursor: the next page is `before=next_cursor`.
    `since` is inclusive, `until` exclusive. Prompt and response (as the audit stored them,
    per governance.audit.content) only with `content`."""
    t = sql.audit_log
    cols = [t.c[f] for f in FIELDS] + [t.c.detail] + ([t.c.prompt, t.c.response] if content else [])
    q = sa.select(*cols)
    for name, value in filters.items():
        q = q.where(t.c[FILTERS[name]] == value)
    # the partial indexes' predicates, spelled out: SQLite uses a partial index only then
    if filters.get("outcome") not in (None, "ok"):
        q = q.where(t.c.outcome != "ok")
    if filters.get("kind") not in (None, "request"):
        q = q.where(t.c.kind != "request")
    if (lo := _epoch(since)) is not None:
        q = q.where(t.c.ts >= lo)
    if (hi := _epoch(until)) is not None:
        q = q.where(t.c.ts < hi)
    if before is not None:
        q = q.where(t.c.seq < before)
    q = q.order_by(t.c.seq.desc()).limit(limit + 1)
    async with engine.connect() as c:
        rows = (await c.execute(q)).all()
    more = len(rows) > limit
    data = []
    for r in rows[:limit]:
        rec = {str(k): v for k, v in r._mapping.items()}
        try:
            rec["detail"] = json.loads(rec["detail"]) if rec["detail"] else None
        except ValueError:
            pass  # kept as stored: the chain hashes the text, not its parse
        data.append(rec)
    return {"object": "list", "data": data, "next_cursor": data[-1]["seq"] if more else None}
