"""Alembic migrations of the feedback database (applied by gallery.feedback.database.migrate)."""
