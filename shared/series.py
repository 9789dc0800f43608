"""Time series for demos: parse pasted numbers or CSV text, and forecast quantiles with Fracast-0."""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gallery.errors import InputError

logger = logging.getLogger(__name__)

# Fracast-0 refuses fewer than 8 observed values, and reads at most the last 2,048 (its context window).
MIN_POINTS = 8
CONTEXT_POINTS = 2048
MAX_POINTS = 10_000
# The model computes in float32; far larger magnitudes overflow, and no ridership count comes near this.
MAX_ABS_VALUE = 1e15

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]+")
_TIME_NAMES = re.compile(r"time|date|stamp|hour|^day$|period|^ds$|^t$|时间|日期|時間", re.IGNORECASE)
_VALUE_NAMES = re.compile(r"value|count|rider|boarding|passenger|trip|demand|volume|^y$|客流|数量|人次", re.IGNORECASE)


@dataclass(frozen=True)
class Series:
    """A parsed series: its values (oldest first) and, for CSV input, evenly spaced timestamps."""

    values: np.ndarray
    input_format: str  # "numbers" or "csv"
    timestamps: Any = None  # pandas DatetimeIndex, or None for a bare list of numbers
    step: Any = None  # pandas offset or Timedelta between timestamps
    frequency: str | None = None  # a pandas frequency ("h", "D", "MS") or a step in words ("90 minutes")
    time_column: str | None = None
    value_column: str | None = None
    notes: list[str] = field(default_factory=list)

    def future(self, horizon: int) -> list[str] | None:
        """Return the ISO timestamps of the next `horizon` steps (None without timestamps)."""
        if self.timestamps is None:
            return None
        import pandas as pd

        future = pd.date_range(self.timestamps[-1], periods=horizon + 1, freq=self.step)[1:]
        return [stamp.isoformat() for stamp in future]


def _finite(token: str, where: str, field_name: str) -> float:
    if not token:
        raise InputError(f"{where} is empty; every row needs a value (fill in or remove missing values)", field_name)
    if _NOT_FINITE.fullmatch(token):
        raise InputError(f"{where} is {token!r}; every value must be a finite number "
                         "(fill in or remove missing values)", field_name)
    if not _NUMBER.fullmatch(token):
        raise InputError(f"{where}: {token[:40]!r} is not a number", field_name)
    value = float(token)
    if not abs(value) <= MAX_ABS_VALUE:  # also catches 1e999, which float() turns into inf
        raise InputError(f"{where}: {token[:40]!r} is too large; values must lie between -1e15 and 1e15", field_name)
    return value


def _check_count(count: int, field_name: str) -> None:
    if count < MIN_POINTS:
        raise InputError(f"has {count} value{'s' if count != 1 else ''}; the model needs at least {MIN_POINTS} "
                         f"(and up to {MAX_POINTS:,})", field_name)
    if count > MAX_POINTS:
        raise InputError(f"has {count:,} values; the limit is {MAX_POINTS:,} (only the last {CONTEXT_POINTS:,} "
                         "are used anyway)", field_name)


def _numbers(text: str, field_name: str) -> Series:
    values = []
    for number, line in enumerate(text.splitlines(), 1):
        for token in _SEPARATORS.split(line.strip()):
            if token:
                values.append(_finite(token, f"line {number}, value {len(values) + 1}", field_name))
    _check_count(len(values), field_name)
    return Series(np.asarray(values, dtype=np.float64), "numbers")


def _delimiter(first_line: str) -> str | None:
    for delimiter in ("\t", ";", ","):
        if delimiter in first_line:
            return delimiter
    return None


def looks_like_csv(text: str) -> bool:
    """Return whether text is a table (a header or a timestamp per row) rather than a bare list of numbers."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return False
    if _delimiter(lines[0]) is None:
        return False
    # A first line made only of numbers starts a list, however they are separated.
    return any(token and not _NUMBER.fullmatch(token) for token in _SEPARATORS.split(lines[0].replace('"', "")))


def _is_time(cell: str) -> bool:
    import pandas as pd

    # Dates and times always have digits; without this, dateutil reads header words like "March" as dates.
    if _NUMBER.fullmatch(cell.strip()) or not re.search(r"\d", cell):
        return False
    try:
        return not pd.isna(pd.to_datetime(cell, format="mixed"))
    except (ValueError, TypeError, OverflowError):
        return False


def _columns(header: list[str], first: list[str], has_header: bool, field_name: str) -> tuple[int, int]:
    """Return the indexes of the timestamp column and the value column."""
    names = [h.strip() for h in header]
    time_col = next((i for i, n in enumerate(names) if has_header and _TIME_NAMES.search(n)), None)
    if time_col is None:
        time_col = next((i for i, c in enumerate(first) if _is_time(c)), None)
    if time_col is None:
        raise InputError("looks like CSV but no column holds dates or times; give a timestamp column "
                         "(e.g. 2025-03-01 08:00) and a value column, or paste just the numbers", field_name)
    others = [i for i in range(len(names)) if i != time_col]
    named = [i for i in others if has_header and _VALUE_NAMES.search(names[i])]
    numeric = [i for i in others if i < len(first) and _NUMBER.fullmatch(first[i].strip().replace(",", "."))]
    choice = (named or numeric or [None])[0]
    if choice is None:
        raise InputError("has no column of numbers next to the timestamps; the CSV needs a timestamp column "
                         "and a value column", field_name)
    return time_col, choice


def _is_regular(parsed: Any) -> bool:
    stamps = np.sort(parsed.to_numpy())
    diffs = np.diff(stamps)
    return len(diffs) > 0 and bool((diffs == diffs[0]).all()) or (len(stamps) >= 3 and _infer(stamps) is not None)


def _infer(stamps: Any) -> str | None:
    import pandas as pd

    try:
        return pd.infer_freq(pd.DatetimeIndex(stamps))
    except (ValueError, TypeError):
        return None


def _parse_times(times: list[str], column: str, field_name: str) -> Any:
    """Parse timestamps, trying ISO 8601 (fast), then other styles month-first, then day-first (01/02 = 1 Feb)."""
    import pandas as pd

    series = pd.Series(times)
    first_complete = None
    for options in ({"format": "ISO8601"}, {"format": "mixed"}, {"format": "mixed", "dayfirst": True}):
        try:
            parsed = pd.to_datetime(series, errors="coerce", **options)
        except (ValueError, TypeError, OverflowError):
            continue  # e.g. time zones mixed with naive times: try the next style, report below
        if parsed.isna().any():
            first_complete = first_complete if first_complete is not None else parsed
            continue
        if _is_regular(parsed):
            return parsed
        first_complete = parsed if first_complete is None or first_complete.isna().any() else first_complete
    if first_complete is None:
        raise InputError(f"column {column!r} mixes time zones or date styles; give every timestamp in one style "
                         "(e.g. 2025-03-01 08:00)", field_name)
    return first_complete


def _human(step: Any) -> str:
    """Return a Timedelta as words: '1 hour', '2 days', '15 minutes'."""
    seconds = int(step.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return str(step)


def _regular_steps(stamps: Any, lines: list[int], field_name: str) -> tuple[Any, str]:
    """Return the step between timestamps and its name, or say where the spacing breaks."""
    import pandas as pd

    inferred = _infer(stamps) if len(stamps) >= 3 else None
    if inferred:
        offset = pd.tseries.frequencies.to_offset(inferred)
        return offset, offset.freqstr
    diffs = stamps[1:] - stamps[:-1]
    common = pd.Series(diffs).mode().iloc[0]
    bad = next((i for i, d in enumerate(diffs) if d != common), None)
    if bad is None:
        return common, _human(common)
    raise InputError(
        f"the timestamps are not evenly spaced: line {lines[bad + 1]} jumps from {stamps[bad]} to "
        f"{stamps[bad + 1]}, but most steps are {_human(common)}; fill in the missing rows (the model needs one "
        "value per step)", field_name)


def _csv(text: str, field_name: str) -> Series:
    import pandas as pd

    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    delimiter = _delimiter(numbered[0][1]) or ","
    rows = [(n, [c.strip() for c in cells]) for (n, _), cells in
            zip(numbered, csv.reader([line for _, line in numbered], delimiter=delimiter))]
    first_cells = rows[0][1]
    has_header = not any(_is_time(c) for c in first_cells)
    data = rows[1:] if has_header else rows
    if not data:
        raise InputError("has a header but no data rows", field_name)
    header = first_cells if has_header else [f"column {i + 1}" for i in range(len(first_cells))]
    time_col, value_col = _columns(header, data[0][1], has_header, field_name)
    values, times, lines = [], [], []
    for number, cells in data:
        if len(cells) <= max(time_col, value_col):
            raise InputError(f"line {number} has {len(cells)} field(s); expected a timestamp and a value "
                             f"separated by {delimiter!r}", field_name)
        cell = cells[value_col]
        if delimiter == ";" and re.fullmatch(r"[+-]?\d+,\d+", cell):
            cell = cell.replace(",", ".")  # semicolon CSV from a decimal-comma locale
        values.append(_finite(cell, f"line {number}, column {header[value_col]!r}", field_name))
        times.append(cells[time_col])
        lines.append(number)
    _check_count(len(values), field_name)
    parsed = _parse_times(times, header[time_col], field_name)
    if parsed.isna().any():
        bad = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(f"line {lines[bad]}: {times[bad][:40]!r} in column {header[time_col]!r} is not a date "
                         "or time", field_name)
    notes = []
    order = np.argsort(parsed.to_numpy(), kind="stable")
    if not (order == np.arange(len(order))).all():
        notes.append("The rows were not in time order; they were sorted oldest first.")
    stamps = pd.DatetimeIndex(parsed.to_numpy()[order])
    lines = [lines[i] for i in order]
    duplicated = stamps.duplicated()
    if duplicated.any():
        bad = int(np.flatnonzero(duplicated)[0])
        raise InputError(f"line {lines[bad]}: timestamp {stamps[bad]} appears more than once", field_name)
    step, name = _regular_steps(stamps, lines, field_name)
    return Series(np.asarray(values, dtype=np.float64)[order], "csv", stamps, step, name,
                  header[time_col], header[value_col], notes)


def parse_series(text: str, field_name: str = "series") -> Series:
    """Parse numbers separated by commas, spaces or new lines, or CSV text with a timestamp and a value column."""
    if not text or not text.strip():
        raise InputError("is empty; paste numbers or CSV text, or use the sample", field_name)
    if looks_like_csv(text):
        return _csv(text, field_name)
    return _numbers(text, field_name)


class Forecaster:
    """Fracast-0 quantile forecasts: `[horizon]` arrays of the 10%, 50% and 90% quantiles."""

    backend = "torch-cpu"

    def __init__(self, model: Any) -> None:
        self.model = model
        self.context_points = int(model.context_length)

    def forecast(self, values: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
        """Return p10, median and p90 for the next `horizon` steps after `values` (oldest first)."""
        context = np.asarray(values, dtype=np.float32)[-self.context_points:]
        quantiles = np.asarray(self.model.forecast(context, horizon=int(horizon)), dtype=np.float64)
        # The model's quantiles can cross by a little; sorting each step restores their order.
        quantiles = np.sort(quantiles, axis=1)
        if (context >= 0).all():
            # Counts (riders, trips) cannot go below zero; a series with no negative value is treated as one.
            quantiles = np.maximum(quantiles, 0.0)
        return {"p10": quantiles[:, 0], "median": quantiles[:, 4], "p90": quantiles[:, 8]}


def load_fracast(path: Path, options: dict[str, Any]) -> Forecaster:
    """Build Fracast-0 from the package's weights folder (the runtime's `custom` factory)."""
    import torch
    from fracast import FracastModel

    # Measured: one 48-step forecast takes 0.04 s of CPU on one torch thread and 1.1 s on two when the other
    # core is busy (thread contention in its small FFT and conv ops). In the gallery torch runs only small
    # custom models like this one, and parallelism comes from concurrent requests, so one thread is right.
    torch.set_num_threads(1)
    weights = str(options.get("weights", "fp32"))
    logger.info("series: loading Fracast-0 (%s) from %s", weights, path)
    return Forecaster(FracastModel.from_pretrained(Path(path), weights=weights))


_UNIT_WORDS = {"h": "hour", "D": "day", "B": "business day", "W": "week", "MS": "month", "ME": "month", "M": "month",
               "QS": "quarter", "QE": "quarter", "YS": "year", "YE": "year", "min": "minute", "s": "second"}


def describe_step(frequency: str | None) -> str | None:
    """Return a pandas frequency ('h', '15min', 'W-SUN', 'MS') or a worded step in plain words ('1 hour')."""
    if not frequency:
        return None
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-\w+)?", frequency)
    if not match or match.group(2) not in _UNIT_WORDS:
        return frequency  # already words ("90 minutes"), or a rare pandas code shown as it is
    count = int(match.group(1) or 1)
    return f"{count} {_UNIT_WORDS[match.group(2)]}{'s' if count != 1 else ''}"


def significant(values: np.ndarray, digits: int = 6) -> list[float]:
    """Return values as plain floats rounded to a few significant digits (for JSON)."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else 0.0 for v in np.asarray(values, dtype=np.float64)]
