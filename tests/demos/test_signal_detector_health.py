"""Tests for transport/signal-detector-health with the real atspm-detector models: the package README's result, junk logs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from gallery.checks.bilingual import has_chinese
from gallery.errors import InputError
from shared.signal_log import MAX_ROWS, read_csv_log, sample_log
from tests.demos.harness import Demo, load_demo, run

FOLDER = Path(__file__).resolve().parents[2] / "demos" / "transport" / "signal-detector-health"
# atspm-detector 1.1.0's README, on its bundled 30-minute sample: (phase, phase_prob, function, lanes, setback, health).
README_TABLE = {
    2: (2, 0.99, "Advance", "2", 164, "ok"),
    3: (2, 1.00, "Advance", "1,2", 153, "ok"),
    4: (2, 1.00, "Presence", "1,2", 0, "ok"),
    5: (2, 1.00, "Advance", "1", 152, "ok"),
}
HEADER = "DeviceId,Timestamp,EventId,Parameter\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(FOLDER, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def sample_result(demo: Demo) -> dict:
    """Return the demo's result on the bundled sample (one run: about 6 s)."""
    start = time.perf_counter()
    result = run(demo, use_sample=True)
    print(f"signal-detector-health sample run {time.perf_counter() - start:.1f} s (model load included)")
    return result


def sample_csv(sep: str = ",", names: tuple[str, ...] = ("DeviceId", "Timestamp", "EventId", "Parameter")) -> bytes:
    """Return the bundled sample as CSV bytes, with the given separator and column names."""
    frame = sample_log().events.copy()
    frame.columns = list(names)
    buffer = io.StringIO()
    frame.to_csv(buffer, sep=sep, index=False)
    return buffer.getvalue().encode()


def test_the_sample_gives_the_package_readmes_answers(sample_result: dict) -> None:
    rows = {row["detector"]: row for row in sample_result["detectors"]}
    for detector, (phase, prob, function, lanes, setback, health) in README_TABLE.items():
        row = rows[detector]
        assert (row["phase"], row["function"], row["lanes"], row["health"]) == (phase, function, lanes, health), row
        assert abs(row["phase_prob"] - prob) <= 0.01 and abs(row["setback_ft"] - setback) <= 1, row
    # Detector 6 had one actuation: too few to judge, and no phase is made up for it.
    assert rows[6]["health"] == "not_enough_data" and rows[6]["phase"] is None
    assert sample_result["minutes"] == pytest.approx(30, abs=0.1) and sample_result["events"] == 6404
    assert len(rows) == 17 and sum(row["health"] == "ok" for row in rows.values()) == 14


def test_an_uploaded_csv_with_other_spellings_gives_the_same_answers(demo: Demo, sample_result: dict) -> None:
    data = sample_csv(";", ("device_id", "timestamp", "event_code", "param"))
    uploaded = run(demo, events=data, use_sample=False)
    assert uploaded["detectors"] == sample_result["detectors"]
    assert uploaded["source"] == "upload" and not uploaded["notes"]


def test_the_view_speaks_the_pages_language(demo: Demo, sample_result: dict) -> None:
    code = demo[1]
    english, chinese = code.present(sample_result, {}, "en"), code.present(sample_result, {}, "zh")
    assert list(english["detectors"].columns)[0] == "Detector" and list(chinese["detectors"].columns)[0] == "检测器"
    assert set(english["detectors"]["Health"]) == {"ok", "not enough data"}
    assert set(chinese["detectors"]["健康状况"]) == {"正常", "数据不足"}
    assert "无异常" in chinese["detectors"]["说明"].iloc[0] and has_chinese(chinese["summary"])
    assert not has_chinese(english["summary"])
    chart = english["chart"]
    assert list(chart.columns) == ["t", "value", "series"] and "det 2 · P2" in set(chart["series"])
    # Six 5-minute bins of detector 2's actuations add up to its count.
    det2 = chart[chart["series"] == "det 2 · P2"]
    assert len(det2) == 6 and det2["value"].sum() == sample_result["detectors"][0]["actuations"]


def test_the_csv_example_runs(demo: Demo) -> None:
    example = demo[0].examples[1]
    result = run(demo, events=(FOLDER / example["events"]).read_bytes(), use_sample=False)
    assert result["minutes"] == 10.5  # the sample's log stops from 12:10:30 to 12:15
    assert {row["detector"]: row["phase"] for row in result["detectors"]}[2] == 2


def _rows(count: int, start: str = "2024-12-03 12:00:00", step_s: float = 1.0, device: str = "sig1") -> str:
    """Return `count` detector-on rows of one made-up signal, `step_s` seconds apart."""
    import pandas as pd

    times = pd.date_range(start, periods=count, freq=pd.Timedelta(seconds=step_s))
    return "".join(f"{device},{t:%Y-%m-%d %H:%M:%S.%f},82,{i % 4 + 1}\n" for i, t in enumerate(times))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "is not a CSV text file"),
        (b"PAR1" + b"\x00\x01" * 40, "is not a CSV text file"),
        (b"PK\x03\x04 spreadsheet", "is not a CSV text file"),
        (b"\n\n", "is empty"),
        (b"timestamp,value\n2024-01-01,abc\n", "missing the column(s) DeviceId, EventId, Parameter"),
        (b"DeviceId,Time,EventId,Parameter\ns,2024-12-03 12:00:00,82,1\n", "missing the column(s) Timestamp"),
        (HEADER.encode(), "has a header but no events"),
        ((HEADER + 'a,"2024-12-03 12:00:00,82,1\n').encode(), "is not valid CSV"),
        ((HEADER + "sig1,yesterday,82,1\n" * 50).encode(), "whose Timestamp is not a date and time"),
        ((HEADER + "sig1,2024-12-03 12:00:00,on,1\n" * 50).encode(), "whose EventId is not an event code"),
        ((HEADER + _rows(400) + _rows(400, device="sig2")).encode(), "holds the logs of 2 signals"),
        ((HEADER + _rows(100)).encode(), "covers only 99 seconds"),
        ((HEADER + _rows(1000, step_s=30)).encode(), "covers 8.3 hours"),
        ((HEADER + _rows(400).replace(",82,", ",1,")).encode(), "has no detector events"),
        ((HEADER + _rows(200).replace(".000000,", ".000000+01:00,") + _rows(200, "2024-12-03 12:04:00")
          .replace(".000000,", ".000000-05:00,")).encode(), "several time zones"),
    ],
)
def test_junk_logs_are_refused_with_what_is_wrong(demo: Demo, data: bytes, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, events=data, use_sample=False)
    assert fragment in info.value.message and info.value.field == "events", info.value.message
    assert "Traceback" not in info.value.message


def test_too_many_rows_and_too_many_bytes_are_refused_before_reading(demo: Demo) -> None:
    many = (HEADER + "sig1,2024-12-03 12:00:00,82,1\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(InputError) as info:
        read_csv_log(many)
    assert f"at most {MAX_ROWS:,} events" in info.value.message
    with pytest.raises(InputError) as info:
        run(demo, events=b"x" * 16_000_001, use_sample=False)
    assert "upload limit is 16,000,000 bytes" in info.value.message


def test_nothing_given_asks_for_a_log(demo: Demo) -> None:
    with pytest.raises(InputError) as info:
        run(demo, use_sample=False)
    assert "Use the sample" in info.value.message


def test_a_single_zone_and_a_trailing_field_are_read_as_written() -> None:
    rows = _rows(400).replace(".000000,82,", ".000000Z,82,").replace("\n", ",extra\n")
    log = read_csv_log((HEADER + rows).encode())
    assert str(log.events["Timestamp"].iloc[0]) == "2024-12-03 12:00:00" and log.minutes == pytest.approx(399 / 60)
    assert set(log.events["EventId"]) == {82}


def test_a_few_bad_rows_are_left_out_with_a_note() -> None:
    text = sample_csv().decode().splitlines()
    text[10] = "d2d0de72-c8aa-45ca-ae1a-8fc626c5afc9,not a time,82,2"
    log = read_csv_log("\n".join(text).encode())
    assert len(log.events) == 6403 and "1 of 6,404 rows" in log.notes[0]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"events": "data:image/png;base64,iVBORw0KGgoAAAAA", "use_sample": False}, "is not a CSV text file"),
        ({"events": "data:text/csv;base64,YSxiCjEsMgo=", "use_sample": False}, "found: 'a', 'b'"),
        ({"use_sample": False}, "is missing; upload"),
    ],
)
def test_the_json_api_answers_a_bad_upload_with_422(tmp_path: Path, raw: dict, fragment: str) -> None:
    from gallery.errors import GalleryError, answer
    from gallery.service import GalleryService

    service = GalleryService.open(FOLDER.parents[1], tmp_path, select=["transport/signal-detector-health"])
    with pytest.raises(GalleryError) as info:
        service.run("transport/signal-detector-health", raw)
    reply = answer(info.value, "transport/signal-detector-health")
    assert reply.status == 422 and fragment in reply.body["detail"], reply.body
