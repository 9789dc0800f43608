"""Feedback records: validation, and the store (SQLite or PostgreSQL), durable before acknowledged."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from gallery.feedback import database
from gallery.feedback.database import FEEDBACK_FILE  # noqa: F401  (re-exported: callers know it from here)

logger = logging.getLogger(__name__)

RATINGS = ("up", "down")
SOURCES = ("ui", "api")
COMMENT_CHARS = 2000
IO_BYTES = 64 * 1024  # each of input and output, as compact JSON
FIELDS = ("rating", "comment", "include_io", "input", "output")

COLUMNS = ("id", "demo_id", "created_at", "rating", "comment", "source", "input_json", "output_json")
# The table as the queries see it; its history (and so its exact DDL) is in migrations/versions/.
TABLE = sa.Table("feedback", sa.MetaData(), *(sa.Column(name, sa.Integer if name == "id" else sa.Text,
                                                        primary_key=name == "id") for name in COLUMNS))


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


class FeedbackStore:
    """Thread-safe feedback database (SQLite file or PostgreSQL); connected and migrated on first use."""

    def __init__(self, url: URL | str | Path) -> None:
        if isinstance(url, Path):
            url = URL.create("sqlite", database=str(url))
        self.url = url if isinstance(url, URL) else database.resolve_url(url, default_data_dir())
        self.path = Path(self.url.database or "") if self.url.get_backend_name() == "sqlite" else None
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def shown_url(self) -> str:
        """Return where feedback goes, fit to print (no password)."""
        return str(self.path) if self.path else database.shown(self.url)

    def open(self) -> FeedbackStore:
        """Connect and bring the schema up to date (raises FeedbackStoreError)."""
        self._ready()
        return self

    def _ready(self) -> Engine:
        with self._lock:
            if self._engine is None:
                engine = None
                try:
                    engine = database.create_engine(self.url)
                    database.migrate(engine)
                except (OSError, SQLAlchemyError, RuntimeError) as exc:
                    if engine is not None:
                        engine.dispose()
                    raise FeedbackStoreError(f"cannot open the feedback database {self.shown_url}: "
                                             f"{_reason(exc)}") from exc
                self._engine = engine
            return self._engine

    def add(self, feedback: Feedback) -> tuple[int, str]:
        """Store one submission in its own committed transaction; return (id, UTC time) once durable."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        values = {"demo_id": feedback.demo_id, "created_at": created, "rating": feedback.rating,
                  "comment": feedback.comment, "input_json": feedback.input_json,
                  "output_json": feedback.output_json, "source": feedback.source}
        engine = self._ready()
        try:
            # The transaction commits (and the database syncs it) before begin() returns: then it is durable.
            with engine.begin() as conn:
                feedback_id = int(conn.execute(sa.insert(TABLE).values(values)).inserted_primary_key[0])
        except SQLAlchemyError as exc:
            raise FeedbackStoreError(f"feedback for {feedback.demo_id} was not stored: {_reason(exc)}") from exc
        logger.info("demo %s: feedback %d stored (%s)", feedback.demo_id, feedback_id, feedback.rating)
        return feedback_id, created

    def rows(self, demo_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield stored feedback as dicts (COLUMNS), oldest first, optionally for one demo."""
        query = sa.select(*(TABLE.c[c] for c in COLUMNS)).order_by(TABLE.c.id)
        if demo_id:
            query = query.where(TABLE.c.demo_id == demo_id)
        try:
            with self._ready().connect() as conn:
                found = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise FeedbackStoreError(f"cannot read the feedback database: {_reason(exc)}") from exc
        for row in found:
            yield dict(zip(COLUMNS, row))

    def stats(self) -> list[dict[str, Any]]:
        """Return per-demo counts: total, up, down, with comment, with input/output, last time."""
        c = TABLE.c

        def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        query = (sa.select(c.demo_id, sa.func.count(), count_if(c.rating == "up"), count_if(c.rating == "down"),
                           sa.func.count(c.comment), count_if(c.input_json.isnot(None) | c.output_json.isnot(None)),
                           sa.func.max(c.created_at))
                 .group_by(c.demo_id).order_by(c.demo_id))
        try:
            with self._ready().connect() as conn:
                found = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise FeedbackStoreError(f"cannot read the feedback database: {_reason(exc)}") from exc
        keys = ("demo_id", "total", "up", "down", "comments", "with_io", "last")
        return [dict(zip(keys, (int(v) if isinstance(v, Decimal) else v for v in row))) for row in found]

    def close(self) -> None:
        """Close every connection (the next use reconnects)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _reason(exc: BaseException) -> str:
    """Return the first line of the driver's message, without SQLAlchemy's statement dump and links."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
