"""Alembic environment for the outbox: migrations run on a connection remindkit passes in."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("remindkit runs its migrations on a connection it opened itself")
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
