"""The feedback database: which URL, its engine (SQLite or PostgreSQL through SQLAlchemy), its Alembic migrations."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

logger = logging.getLogger(__name__)

ENV_URL = "OPENMODELS_DATABASE_URL"
FEEDBACK_FILE = "feedback.sqlite3"
BUSY_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5  # a database that is down answers feedback with 503 after this, never hangs a request
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Before Alembic, SQLite files counted their schema steps in PRAGMA user_version; step N is revision 000N.
LEGACY_REVISIONS = {1: "0001", 2: "0002"}
# Any fixed number: PostgreSQL's advisory lock that serialises migrations of replicas starting at once.
PG_MIGRATION_LOCK = 0x6F6D_6662
# Alembic keeps the running migration in module globals (alembic.context, alembic.op): one at a time per process.
_ALEMBIC_LOCK = threading.Lock()
SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"


class DatabaseURLError(ValueError):
    """A database URL the gallery cannot use; the message says what is accepted."""


def resolve_url(url: str | None, data_dir: Path) -> URL:
    """Return the feedback database URL: `url`, else $OPENMODELS_DATABASE_URL, else a SQLite file in `data_dir`."""
    text = url or os.environ.get(ENV_URL) or ""
    if not text:
        return URL.create("sqlite", database=str(data_dir / FEEDBACK_FILE))
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise DatabaseURLError(f"not a database URL: use {SUPPORTED}") from None
    # postgres:// (as Heroku and others hand it out) and postgresql:// would pick psycopg2, which is not installed.
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite") and parsed.database not in (None, "", ":memory:"):
        return parsed.set(drivername="sqlite")
    # Only these two are tested; an in-memory SQLite would lose everything at exit.
    raise DatabaseURLError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: use {SUPPORTED}")


def shown(url: URL) -> str:
    """Return the URL as it may be printed and logged: without its password."""
    return url.render_as_string(hide_password=True)


def create_engine(url: URL) -> Engine:
    """Return an engine whose every transaction is durable once committed."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # pre_ping: a database restarted under a running gallery costs one reconnect, not one failed submission.
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4, pool_timeout=CONNECT_TIMEOUT_S,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "openmodels"})


def _sqlite_engine(url: URL) -> Engine:
    path = Path(url.database or "")
    # Feedback may hold what users typed: keep the folder and the file private to the operator.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would skip BEGIN before DDL and defer the write lock; the
        # "begin" hook below opens every transaction itself (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            logger.warning("feedback: %s does not support WAL (journal_mode=%s); writes stay durable but slower",
                           path, mode)
        # FULL, not NORMAL: in WAL mode NORMAL survives a killed process but may lose the last commits on power
        # loss; FULL fsyncs the WAL at every commit, so an acknowledged submission survives both.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock at once: two writers wait in turn (busy_timeout) instead of one failing
        # when its read transaction cannot be upgraded; migrations read the revision under the same lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest schema revision this gallery knows."""
    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


def current_revision(connection: sa.Connection) -> str | None:
    """Return the database's schema revision (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision in one locked transaction; return that revision.

    A SQLite file from before Alembic (PRAGMA user_version 1 or 2) is stamped at its revision first, so its rows
    stay in place. Raises RuntimeError for a database that a newer gallery has migrated.
    """
    known = {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    with _ALEMBIC_LOCK, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        revision = current_revision(connection)
        config = _alembic_config(connection)
        if revision is None and connection.dialect.name == "sqlite":
            legacy = int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
            if legacy > max(LEGACY_REVISIONS):
                raise RuntimeError(f"the feedback database has schema version {legacy}, newer than this gallery "
                                   "knows; upgrade the gallery")
            if legacy:
                command.stamp(config, LEGACY_REVISIONS[legacy])
                revision = LEGACY_REVISIONS[legacy]
                logger.info("feedback: took over a schema version %d SQLite database as revision %s", legacy, revision)
        if revision is not None and revision not in known:
            raise RuntimeError(f"the feedback database is at schema revision {revision}, newer than this gallery "
                               f"knows ({head_revision()}); upgrade the gallery")
        command.upgrade(config, "head")
        after = current_revision(connection)
    if after != revision:
        logger.info("feedback: migrated the database from revision %s to %s", revision or "(empty)", after)
    return str(after)
