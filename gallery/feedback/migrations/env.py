"""Alembic environment: run the migrations on the connection (and transaction) the gallery hands over."""

from __future__ import annotations

from alembic import context

# The gallery opens the transaction and takes the lock before Alembic reads the current revision
# (gallery.feedback.database.migrate), so two processes starting at once never migrate twice.
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the feedback migrations through gallery.feedback.database.migrate")
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
