"""Stores every stateful feature uses.

`sql`: SQLAlchemy 2 (async) over SQLite (default, ./seawall.db, WAL) or PostgreSQL, with
Alembic migrations. Only background writers and the admin API touch it: no request waits on
SQL. `state`: counters, TTL keys, atomic scripts and pub/sub, in memory (default) or Redis,
every call bounded by a timeout and a circuit breaker.
"""
