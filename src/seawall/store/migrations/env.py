"""Alembic environment: migrations run on a connection Seawall hands over (see store.sql)."""
from alembic import context

from seawall.store.sql import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Seawall always passes its connection
    raise RuntimeError("run migrations through seawall.store.sql.migrate or `seawall db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
