"""Tests for transport/trip-query-zh with the real LAC model: field accuracy on hand-written queries, dates, refusals."""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gallery.checks.bilingual import has_chinese
from gallery.errors import InputError
from shared.when_zh import find_dates, first_date, first_time
from tests.demos.harness import Demo, load_demo, run

FOLDER = Path(__file__).resolve().parents[2] / "demos" / "transport" / "trip-query-zh"
FIELDS = ("origin", "destination", "date", "time", "mode")
# heldout.csv's "today": a Wednesday.
TODAY = date(2026, 3, 4)
# Measured on heldout.csv (40 queries), before any rule was tuned on them: origin 39/40, destination 38/40, date,
# time and mode 40/40; then place nouns after 从/到/去 (市区) were read as places: destination 39/40. The floors
# sit two queries below: they catch a broken rule or model, not one more miss.
MIN_ACCURACY = {"origin": 0.925, "destination": 0.925, "date": 0.95, "time": 0.95, "mode": 0.95}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Return the real demo with its own demo cache, "today" fixed to heldout.csv's."""
    loaded = load_demo(FOLDER, tmp_path_factory.mktemp("cache"))
    real = loaded[1].module.TODAY
    loaded[1].module.TODAY = lambda: TODAY
    yield loaded
    loaded[1].module.TODAY = real


def heldout() -> list[dict[str, str]]:
    """Return the labelled queries (comment lines skipped)."""
    with (FOLDER / "heldout.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_the_labelled_set_is_large_and_varied() -> None:
    rows = heldout()
    assert len(rows) >= 30 and len({r["query"] for r in rows}) == len(rows)
    assert len({r["mode"] for r in rows}) >= 7
    assert sum(not r["date"] for r in rows) >= 3 and sum(not r["time"] for r in rows) >= 5


def test_field_accuracy_on_the_heldout_queries(demo: Demo) -> None:
    rows = heldout()
    right = dict.fromkeys(FIELDS, 0)
    took = []
    for row in rows:
        start = time.perf_counter()
        result = run(demo, query=row["query"])
        took.append(time.perf_counter() - start)
        for key in FIELDS:
            right[key] += result[key] == row[key]
            if result[key] != row[key]:
                print(f"trip-query-zh miss {key}: {row['query']} -> {result[key]!r}, expected {row[key]!r}")
    for key in FIELDS:
        print(f"trip-query-zh {key:11s} {right[key] / len(rows):.3f} ({right[key]}/{len(rows)})")
    print(f"trip-query-zh p50 {1000 * statistics.median(took):.1f} ms over {len(rows)} queries")
    for key, floor in MIN_ACCURACY.items():
        assert right[key] / len(rows) >= floor, (key, right[key])


def test_entities_point_into_the_query_and_roles_follow_the_words(demo: Demo) -> None:
    query = "明天下午三点从北京南站到上海虹桥的高铁还有票吗"
    result = run(demo, query=query)
    assert (result["origin"], result["destination"], result["date"], result["time"], result["mode"]) == (
        "北京南站", "上海虹桥", "2026-03-05", "15:00", "high_speed_rail")
    assert result["today"] == "2026-03-04"
    assert {e["type"] for e in result["entities"]} <= {"LOC", "ORG", "TIME"}
    for e in result["entities"]:
        assert query[e["start"]:e["end"]] == e["text"]
    # The destination first and the origin after 出发: the words decide, not the order.
    swapped = run(demo, query="去上海虹桥的高铁，明天从北京南站出发")
    assert (swapped["origin"], swapped["destination"]) == ("北京南站", "上海虹桥")
    # 飞 between two places is a flight whatever the city's last character (found after heldout.csv was measured).
    assert run(demo, query="下礼拜二晚8点从哈尔滨飞上海")["mode"] == "flight"


def test_today_is_injectable(demo: Demo) -> None:
    module = demo[1].module
    module.TODAY = lambda: date(2026, 12, 31)
    try:
        assert run(demo, query="明天从北京到天津的高铁")["date"] == "2027-01-01"
    finally:
        module.TODAY = lambda: TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天", "2026-03-05"), ("后天", "2026-03-06"), ("大后天", "2026-03-07"), ("今晚", "2026-03-04"),
        ("下周一", "2026-03-09"), ("下个星期天", "2026-03-15"), ("周五", "2026-03-06"), ("这周一", "2026-03-02"),
        ("周三", "2026-03-04"), ("3月5日", "2026-03-05"), ("三月三号", "2027-03-03"), ("五号", "2026-03-05"),
        ("3号", "2026-04-03"), ("二十八日", "2026-03-28"), ("2026-05-01", "2026-05-01"), ("2027年1月2日", "2027-01-02"),
        ("31号", "2026-03-31"), ("2月30日", ""), ("坐5号线", ""), ("3号航站楼", ""),
    ],
)
def test_dates(text: str, expected: str) -> None:
    found = first_date(text, TODAY)
    assert (found.value if found else "") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下午三点", "15:00"), ("15:30", "15:30"), ("晚上八点半", "20:30"), ("早上7点一刻", "07:15"),
        ("中午12点", "12:00"), ("中午一点", "13:00"), ("凌晨两点", "02:00"), ("下午四点二十", "16:20"),
        ("傍晚6点45分", "18:45"), ("晚上10:15", "22:15"), ("十点整", "10:00"), ("明早七点", "07:00"),
        ("深夜十一点", "23:00"), ("早一点的车", ""), ("明天下午", ""), ("要坐三个小时", ""),
    ],
)
def test_times(text: str, expected: str) -> None:
    found = first_time(text)
    assert (found.value if found else "") == expected


def test_several_dates_come_in_order() -> None:
    assert [f.value for f in find_dates("明天去，下周五回", TODAY)] == ["2026-03-05", "2026-03-13"]


def test_manifest_examples_read_and_show_in_one_language(demo: Demo) -> None:
    code = demo[1]
    for example in demo[0].examples:
        inputs = {"query": example["query"]}
        result = run(demo, **inputs)
        assert result["origin"] and result["destination"] and result["mode"], (inputs, result)
        english, chinese = code.present(result, inputs, "en"), code.present(result, inputs, "zh")
        assert not has_chinese(english["mode"]) and has_chinese(chinese["mode"])
        assert list(english["entities"].columns)[0] == "Type" and list(chinese["entities"].columns)[0] == "类型"
        assert all(has_chinese(str(v)) for v in chinese["entities"]["类型"])
    nothing = code.present(run(demo, query="你好，请问怎么买票"), {}, "zh")
    assert nothing["origin"] == "（未提及）" and "没有识别到" in nothing["entities"].iloc[0, 0]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("   ", "is empty"),
        ("Is there a train from Beijing to Shanghai tomorrow?", "has no Chinese characters"),
        ("Train from Beijing to Shanghai tomorrow afternoon please, 北京.", "mostly not Chinese"),
        ("G1234 15:30", "has no Chinese characters"),
        ("从北京到上海" * 60, "300"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demo: Demo, value: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, query=value)
    assert fragment in info.value.message, (value[:40], info.value.message)
