"""Traffic-signal controller event logs: read and check an uploaded CSV, and run atspm-detector's models on it.

A log is the Indiana hi-res format: one row per event with DeviceId, Timestamp, EventId and Parameter
(atspm-detector also accepts lower-case and underscore spellings). Every way an upload can be wrong is refused
with an InputError naming what is wrong, before the models see it: not text, not CSV, missing columns, no rows,
values that are not timestamps or event codes, too many rows, too long or too short a span, several signals, no
detector events.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gallery.errors import InputError

logger = logging.getLogger(__name__)

NEEDED = ("DeviceId", "Timestamp", "EventId", "Parameter")
# atspm-detector's own spellings (atspm_detector.pipeline.ALIASES), so a log it reads is not refused here.
ALIASES = {"deviceid": "DeviceId", "device_id": "DeviceId", "devid": "DeviceId", "timestamp": "Timestamp",
           "time_stamp": "Timestamp", "ts": "Timestamp", "eventid": "EventId", "event_id": "EventId",
           "eventcode": "EventId", "event_code": "EventId", "parameter": "Parameter", "param": "Parameter",
           "eventparam": "Parameter", "event_param": "Parameter"}
DETECTOR_ON, DETECTOR_OFF = 82, 81
# A day of a busy intersection is about a million events; a run takes seconds per hour of log on two cores, and the
# upload limit (manifest) comes first. These keep one request under the gallery's wait limit.
MAX_ROWS = 300_000
MAX_HOURS = 6.0
MIN_MINUTES = 5.0
# Rows that fail to parse are dropped with a note up to this share; above it the file is refused.
MAX_BAD_SHARE = 0.01


@dataclass
class EventLog:
    """A checked log: the events as a DataFrame, and what reading it noticed."""

    events: Any  # pandas.DataFrame with NEEDED columns, typed
    device_id: str
    notes: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        """Return the span of the log in minutes."""
        span = self.events["Timestamp"].max() - self.events["Timestamp"].min()
        return span.total_seconds() / 60


def _text(data: bytes, name: str) -> str:
    """Return the upload as text, refusing binary files (a parquet, a spreadsheet, an image)."""
    if b"\x00" in data[:65536] or data[:4] in (b"PAR1", b"PK\x03\x04", b"\x89PNG"):
        raise InputError("is not a CSV text file (it looks binary: a parquet, a spreadsheet or an image?); "
                         "export the log as CSV with the columns DeviceId, Timestamp, EventId, Parameter", name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any bytes
            raise InputError("is not readable text; save the CSV as UTF-8", name) from None


def _columns(header: list[str], name: str) -> dict[str, str]:
    """Return {file column: standard name}, refusing a header that lacks one of NEEDED."""
    mapping: dict[str, str] = {}
    for column in header:
        key = column.strip().lower().replace(" ", "_")
        standard = column.strip() if column.strip() in NEEDED else ALIASES.get(key)
        if standard and standard not in mapping.values():
            mapping[column] = standard
    missing = [c for c in NEEDED if c not in mapping.values()]
    if missing:
        shown = ", ".join(repr(c) for c in header[:8]) + (" ..." if len(header) > 8 else "")
        raise InputError(f"is missing the column(s) {', '.join(missing)}; an event log needs the columns "
                         f"DeviceId, Timestamp, EventId and Parameter (found: {shown or 'no header'})", name)
    return mapping


def read_csv_log(data: bytes, name: str = "events") -> EventLog:
    """Return the checked event log of one signal from CSV bytes, or raise InputError saying what is wrong."""
    import pandas as pd  # deferred: only a run reads logs

    text = _text(data, name)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError("is empty; upload a CSV event log with a header line", name)
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    mapping = _columns(header, name)
    if len(lines) - 1 > MAX_ROWS:
        raise InputError(f"has {len(lines) - 1:,} rows; this demo reads at most {MAX_ROWS:,} events "
                         f"(about {MAX_HOURS:g} hours of a busy signal): upload a shorter part of the log", name)
    try:
        # index_col=False: a row with a trailing extra field must not turn the first column into the index.
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, usecols=list(mapping), index_col=False,
                            keep_default_na=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise InputError(f"is not valid CSV ({first})", name) from None
    frame = frame.rename(columns=mapping)[list(NEEDED)]
    if frame.empty:
        raise InputError("has a header but no events; upload at least 5 minutes of the log (30 minutes or more "
                         "is better)", name)
    return _typed(frame, name)


def _typed(frame: Any, name: str) -> EventLog:
    """Return the log with typed columns, refusing one whose values are mostly not timestamps or event codes."""
    import pandas as pd

    notes: list[str] = []
    total = len(frame)
    try:
        stamps = pd.to_datetime(frame["Timestamp"].str.strip(), errors="coerce", format="mixed")
    except (ValueError, TypeError):
        raise InputError("has timestamps in several time zones; give the controller's local times, without a zone "
                         "(2024-12-03 12:00:00.1)", name) from None
    if getattr(stamps.dt, "tz", None) is not None:
        # The models read controller local time; a single zone (…Z, +08:00) is kept as the wall-clock time written.
        stamps = stamps.dt.tz_localize(None)
    typed = pd.DataFrame({
        "DeviceId": frame["DeviceId"].str.strip(),
        "Timestamp": stamps,
        "EventId": pd.to_numeric(frame["EventId"].str.strip(), errors="coerce"),
        "Parameter": pd.to_numeric(frame["Parameter"].str.strip(), errors="coerce"),
    })
    bad = {
        "Timestamp": typed["Timestamp"].isna(),
        "EventId": ~typed["EventId"].between(0, 65535) | (typed["EventId"] % 1 != 0),
        "Parameter": ~typed["Parameter"].between(0, 65535) | (typed["Parameter"] % 1 != 0),
        "DeviceId": typed["DeviceId"] == "",
    }
    any_bad = bad["Timestamp"] | bad["EventId"] | bad["Parameter"] | bad["DeviceId"]
    if any_bad.sum() > MAX_BAD_SHARE * total:
        column = max(bad, key=lambda c: int(bad[c].sum()))
        row = int(bad[column].to_numpy().argmax())
        value = str(frame[column].iloc[row])[:40]
        what = {"Timestamp": "a date and time (2024-12-03 12:00:00.1)", "EventId": "an event code (a whole number from 0 to 65535)",
                "Parameter": "a whole number from 0 to 65535", "DeviceId": "the signal's id"}[column]
        raise InputError(f"has {int(bad[column].sum()):,} of {total:,} rows whose {column} is not {what}; the first "
                         f"is line {row + 2}: {value!r}", name)
    if any_bad.any():
        notes.append(f"{int(any_bad.sum()):,} of {total:,} rows had an unreadable value and were left out.")
        typed = typed[~any_bad]
    typed = typed.astype({"EventId": "uint16", "Parameter": "uint16"})
    devices = typed["DeviceId"].unique()
    if len(devices) > 1:
        listed = ", ".join(str(d)[:40] for d in devices[:3]) + (" ..." if len(devices) > 3 else "")
        raise InputError(f"holds the logs of {len(devices)} signals (DeviceId {listed}); upload one signal's log "
                         "at a time", name)
    log = EventLog(typed.sort_values("Timestamp", kind="stable").reset_index(drop=True), str(devices[0]), notes)
    if log.minutes > MAX_HOURS * 60:
        raise InputError(f"covers {log.minutes / 60:.1f} hours; this demo reads at most {MAX_HOURS:g} hours: upload "
                         "a shorter part of the log", name)
    if log.minutes < MIN_MINUTES:
        raise InputError(f"covers only {log.minutes * 60:.0f} seconds; the models need at least {MIN_MINUTES:g} "
                         "minutes of log (30 minutes or more is better)", name)
    if not (log.events["EventId"] == DETECTOR_ON).any():
        raise InputError(f"has no detector events (EventId {DETECTOR_ON}, detector on); is it a signal "
                         "controller's hi-res event log?", name)
    return log


def sample_log() -> EventLog:
    """Return atspm-detector's bundled 30-minute log of a real signal (read with DuckDB, so pyarrow is not needed)."""
    import duckdb
    from importlib.resources import files

    path = files("atspm_detector") / "data" / "sample_events.parquet"
    con = duckdb.connect()
    try:
        frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    finally:
        con.close()
    return EventLog(frame, str(frame["DeviceId"].iloc[0]))


class DetectorModels:
    """atspm-detector's phase, function, lane, setback and health models over one signal's log."""

    backend = "onnxruntime (atspm-detector)"

    def __init__(self, weights: Path, threads: int) -> None:
        # The package reads its ONNX Runtime thread counts from these, when it opens its sessions.
        os.environ.setdefault("DC_TREE_THREADS", str(threads))
        os.environ.setdefault("DC_NET_THREADS", str(threads))
        import atspm_detector

        self._predict = atspm_detector.predict
        self.weights = weights
        self.threads = threads
        self.version = atspm_detector.__version__

    def predict(self, log: EventLog) -> Any:
        """Return the package's table, one row per detector channel."""
        return self._predict(log.events, model_dir=self.weights, threads=self.threads, memory="1GB")


def load_detector_models(path: Path, options: dict[str, Any]) -> DetectorModels:
    """Build the detector models from atspm-detector's weights folder (the runtime's `custom` factory)."""
    logger.info("signal_log: loading atspm-detector from %s", path)
    return DetectorModels(path, int(options.get("threads", 2)))
