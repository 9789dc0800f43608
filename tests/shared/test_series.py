"""Tests for shared/series.py: parsing pasted numbers and CSV text (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from gallery.errors import InputError
from shared.series import (
    MAX_POINTS,
    MIN_POINTS,
    describe_step,
    looks_like_csv,
    parse_series,
)


def daily_csv(days: range, header: str = "date,riders", value=lambda d: d * 10, sep: str = ",") -> str:
    """Return a small daily CSV text, one row per day of January 2025."""
    rows = [header] if header else []
    rows += [f"2025-01-{d:02d}{sep}{value(d)}" for d in days]
    return "\n".join(rows)


@pytest.mark.parametrize(
    "text",
    ["1 2 3 4 5 6 7 8", "1,2,3,4\n5,6,7,8", "1;2;3;4;5;6;7;8", "1\n2\n3\n4\n5\n6\n7\n8\n", "1.5, -2, 3e2, 4 5 6 7 8"],
)
def test_lists_of_numbers_in_any_separator(text: str) -> None:
    series = parse_series(text)
    assert series.input_format == "numbers" and len(series.values) == 8
    assert series.timestamps is None and series.future(3) is None


def test_csv_with_header_timestamp_and_value_column() -> None:
    series = parse_series(daily_csv(range(1, 15)))
    assert series.input_format == "csv"
    assert (series.time_column, series.value_column, series.frequency) == ("date", "riders", "D")
    np.testing.assert_array_equal(series.values, np.arange(1, 15) * 10.0)
    assert series.future(2) == ["2025-01-15T00:00:00", "2025-01-16T00:00:00"]


def test_csv_without_header_and_with_extra_columns() -> None:
    headerless = parse_series(daily_csv(range(1, 15), header=""))
    assert headerless.input_format == "csv" and headerless.value_column == "column 2"
    hourly = "\n".join(["time,station,count"] + [f"2025-01-01 {h:02d}:00,Central,{h}" for h in range(12)])
    series = parse_series(hourly)
    assert series.value_column == "count" and series.frequency == "h"
    assert series.future(1) == ["2025-01-01T12:00:00"]


def test_semicolon_csv_with_decimal_commas_and_day_first_dates() -> None:
    text = "datum;fahrgaeste\n" + "\n".join(f"{d:02d}/01/2025;{d},5" for d in range(1, 15))
    series = parse_series(text)
    assert series.values[0] == 1.5 and series.frequency == "D"
    assert series.future(1) == ["2025-01-15T00:00:00"]


def test_rows_newest_first_are_sorted_with_a_note() -> None:
    series = parse_series(daily_csv(range(14, 0, -1)))
    np.testing.assert_array_equal(series.values, np.arange(1, 15) * 10.0)
    assert "sorted oldest first" in series.notes[0]


def test_monthly_series_steps_by_calendar_month() -> None:
    text = "month,value\n" + "\n".join(f"2024-{m:02d}-01,{m}" for m in range(1, 13))
    assert parse_series(text).future(2) == ["2025-01-01T00:00:00", "2025-02-01T00:00:00"]


def test_numbers_are_not_mistaken_for_csv() -> None:
    assert not looks_like_csv("1, 2, 3\n4, 5, 6")
    assert looks_like_csv("date,value\n2025-01-01,3")
    assert looks_like_csv("2025-01-01,3\n2025-01-02,4")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        (" \n\t ", "is empty"),
        ("1 2 3", f"has 3 values; the model needs at least {MIN_POINTS}"),
        ("1 2 3 NaN 5 6 7 8 9", "line 1, value 4 is 'NaN'; every value must be a finite number"),
        ("1 2 3 4\n5 inf 7 8 9", "line 2, value 6 is 'inf'"),
        ("1 2 3 x 5 6 7 8 9", "line 1, value 4: 'x' is not a number"),
        ("1 2 3 4 5 6 7 1e999", "line 1, value 8: '1e999' is too large"),
        (" ".join(["1"] * (MAX_POINTS + 1)), f"has {MAX_POINTS + 1:,} values; the limit is {MAX_POINTS:,}"),
        (daily_csv(range(1, 15), value=lambda d: "abc" if d == 5 else d), "line 6, column 'riders': 'abc' is not a number"),
        (daily_csv(range(1, 15), value=lambda d: "" if d == 4 else d), "line 5, column 'riders' is empty"),
        (daily_csv(range(1, 15), value=lambda d: "NaN" if d == 2 else d), "line 3, column 'riders' is 'NaN'"),
        (daily_csv([d for d in range(1, 15) if d != 7]), "not evenly spaced: line 8 jumps from 2025-01-06 00:00:00 to 2025-01-08"),
        (daily_csv([1, 2, 3, 4, 5, 5, 6, 7, 8, 9]), "line 7: timestamp 2025-01-05 00:00:00 appears more than once"),
        (daily_csv(range(1, 5)), "has 4 values; the model needs at least 8"),
        ("date,riders\n", "has a header but no data rows"),
        ("a,b\n" + "\n".join(f"{d},{d}" for d in range(1, 15)), "no column holds dates or times"),
        ("date,station\n" + "\n".join(f"2025-01-{d:02d},North" for d in range(1, 15)), "no column of numbers"),
        ("date,riders\n2025-01-01,1\n2025-13-45,2\n" + "\n".join(f"2025-02-{d:02d},{d}" for d in range(1, 10)),
         "line 3: '2025-13-45' in column 'date' is not a date or time"),
        ("date,riders\n2025-01-01\n", "line 2 has 1 field(s); expected a timestamp and a value"),
    ],
)
def test_bad_series_name_the_row_and_the_limit(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_series(text)
    assert info.value.field == "series"
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("frequency", "words"),
    [("h", "1 hour"), ("D", "1 day"), ("15min", "15 minutes"), ("W-SUN", "1 week"), ("MS", "1 month"),
     ("B", "1 business day"), ("90 minutes", "90 minutes"), (None, None)],
)
def test_steps_in_plain_words(frequency: str | None, words: str | None) -> None:
    assert describe_step(frequency) == words
