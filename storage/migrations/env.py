"""Alembic environment: runs on the connection handed in by storage.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for `alembic revision --autogenerate` by hand
    raise RuntimeError("run migrations through storage.db.migrate()")

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
