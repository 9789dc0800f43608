"""Feedback records in one SQLite file (WAL), durable before acknowledged, with versioned migrations."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.sqlite3"
RATINGS = ("up", "down")
SOURCES = ("ui", "api")
COMMENT_CHARS = 2000
IO_BYTES = 64 * 1024  # each of input and output, as compact JSON
BUSY_TIMEOUT_S = 10.0
FIELDS = ("rating", "comment", "include_io", "input", "output")

# Each step is applied once, in order, in its own transaction; PRAGMA user_version counts the steps applied.
# Never edit a released step: append a new one.
MIGRATIONS: list[tuple[str, ...]] = [
    (  # 1: the first schema
        (
            "CREATE TABLE feedback ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " demo_id TEXT NOT NULL,"
            " created_at TEXT NOT NULL,"
            " rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),"
            " comment TEXT,"
            " input_json TEXT,"
            " output_json TEXT)"
        ),
    ),
    (  # 2: where the feedback came from, and an index for per-demo export and stats
        "ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'unknown'",
        "CREATE INDEX feedback_demo_time ON feedback (demo_id, created_at)",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
COLUMNS = ("id", "demo_id", "created_at", "rating", "comment", "source", "input_json", "output_json")


class FeedbackError(ValueError):
    """A feedback submission is invalid; the message says which field and why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class FeedbackStoreError(RuntimeError):
    """The feedback database cannot be opened or written."""


def default_data_dir() -> Path:
    """Return `$OPENMODELS_DATA`, else the platform's per-user data dir + openmodels."""
    if os.environ.get("OPENMODELS_DATA"):
        return Path(os.environ["OPENMODELS_DATA"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "openmodels"


def _json_field(name: str, value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise FeedbackError("must be JSON (objects, lists, text, finite numbers)", name) from None
    size = len(text.encode("utf-8"))
    if size > IO_BYTES:
        raise FeedbackError(f"is {size:,} bytes as JSON; the limit is {IO_BYTES:,} bytes", name)
    return text


@dataclass(frozen=True)
class Feedback:
    """One validated submission, ready to store."""

    demo_id: str
    rating: str
    comment: str | None = None
    input_json: str | None = None
    output_json: str | None = None
    source: str = "api"

    @classmethod
    def parse(cls, demo_id: str, data: Any, source: str = "api") -> Feedback:
        """Validate a submission ({rating, comment?, include_io?, input?, output?}); raise FeedbackError."""
        if not isinstance(data, dict):
            raise FeedbackError("the body must be a JSON object: {rating, comment?, include_io?, input?, output?}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise FeedbackError(f"unknown field(s) {unknown}; allowed: {list(FIELDS)}")
        rating = data.get("rating")
        if rating not in RATINGS:
            raise FeedbackError(f"must be 'up' or 'down', got {str(rating)[:20]!r}", "rating")
        comment = data.get("comment")
        if comment is not None:
            if not isinstance(comment, str):
                raise FeedbackError(f"must be text, got {type(comment).__name__}", "comment")
            if len(comment) > COMMENT_CHARS:
                raise FeedbackError(f"is {len(comment):,} characters long; the limit is {COMMENT_CHARS:,}", "comment")
            # Control characters other than tab and newline would only break CSV viewers.
            comment = "".join(c if c in "\t\n" or c.isprintable() else " " for c in comment).strip() or None
        include = data.get("include_io", False)
        if not isinstance(include, bool):
            raise FeedbackError(f"must be true or false, got {type(include).__name__}", "include_io")
        given = [name for name in ("input", "output") if data.get(name) is not None]
        if given and not include:
            raise FeedbackError(f"{' and '.join(given)} are stored only with include_io: true", "include_io")
        return cls(
            demo_id=demo_id, rating=rating, comment=comment, source=source,
            input_json=_json_field("input", data["input"]) if data.get("input") is not None else None,
            output_json=_json_field("output", data["output"]) if data.get("output") is not None else None,
        )


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), one per submission.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        logger.warning("feedback: %s does not support WAL (journal_mode=%s); writes stay durable but slower", path, mode)
    # FULL, not NORMAL: in WAL mode NORMAL survives a killed process but may lose the last commits on power
    # loss; FULL fsyncs the WAL at every commit, so an acknowledged submission survives both. Feedback is
    # rare enough that one fsync each costs nothing that matters.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """Return how many migration steps the database has had."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing migration steps up to `target`, each in its own transaction; return the version."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise FeedbackStoreError(f"the feedback database has schema version {current}, newer than this gallery "
                                 f"knows ({SCHEMA_VERSION}); upgrade the gallery")
    for version in range(current, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) != version:  # another process migrated meanwhile
                conn.execute("ROLLBACK")
                continue
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        logger.info("feedback: migrated the database to schema version %d", version + 1)
    return schema_version(conn)


class FeedbackStore:
    """Thread-safe feedback database; opened (and migrated) on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> FeedbackStore:
        """Create the file if needed and bring its schema up to date (raises FeedbackStoreError)."""
        with self._lock:
            self._open_locked()
        return self

    def _open_locked(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                # Feedback may hold what users typed: keep the folder and the file private to the operator.
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                conn = _connect(self.path)
                migrate(conn)
            except (OSError, sqlite3.Error) as exc:
                raise FeedbackStoreError(f"cannot open the feedback database {self.path}: {exc}") from exc
            self._conn = conn
        return self._conn

    def add(self, feedback: Feedback) -> tuple[int, str]:
        """Store one submission in its own committed transaction; return (id, UTC time) once durable."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            conn = self._open_locked()
            try:
                conn.execute("BEGIN IMMEDIATE")
                cursor = conn.execute(
                    "INSERT INTO feedback (demo_id, created_at, rating, comment, input_json, output_json, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (feedback.demo_id, created, feedback.rating, feedback.comment, feedback.input_json,
                     feedback.output_json, feedback.source),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise FeedbackStoreError(f"feedback for {feedback.demo_id} was not stored: {exc}") from exc
        logger.info("demo %s: feedback %d stored (%s)", feedback.demo_id, cursor.lastrowid, feedback.rating)
        return int(cursor.lastrowid or 0), created

    def rows(self, demo_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield stored feedback as dicts (COLUMNS), oldest first, optionally for one demo."""
        where, params = ("WHERE demo_id = ?", (demo_id,)) if demo_id else ("", ())
        with self._lock:
            conn = self._open_locked()
            found = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback {where} ORDER BY id", params).fetchall()
        for row in found:
            yield dict(zip(COLUMNS, row))

    def stats(self) -> list[dict[str, Any]]:
        """Return per-demo counts: total, up, down, with comment, with input/output, last time."""
        with self._lock:
            conn = self._open_locked()
            found = conn.execute(
                "SELECT demo_id, COUNT(*), SUM(rating = 'up'), SUM(rating = 'down'), COUNT(comment),"
                " SUM(input_json IS NOT NULL OR output_json IS NOT NULL), MAX(created_at)"
                " FROM feedback GROUP BY demo_id ORDER BY demo_id"
            ).fetchall()
        keys = ("demo_id", "total", "up", "down", "comments", "with_io", "last")
        return [dict(zip(keys, row)) for row in found]

    def close(self) -> None:
        """Close the connection (the next use reopens it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
