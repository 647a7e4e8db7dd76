"""Alembic environment: the connection comes from Database.migrate (config.attributes)."""

from __future__ import annotations

from alembic import context

from aitrail.registry.models import Base

conn = context.config.attributes["connection"]
context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=conn.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
