"""Alembic environment: the connection comes from Database.migrate (config.attributes)."""

from __future__ import annotations

from alembic import context

from aitrail.registry.models import Base, include_name

conn = context.config.attributes["connection"]
context.configure(
    connection=conn,
    target_metadata=Base.metadata,
    render_as_batch=conn.dialect.name == "sqlite",
    include_name=include_name,  # the full-text search structures are not models (migration 0004)
)
with context.begin_transaction():
    context.run_migrations()
