"""Tests for finance/report-reader-zh with the real models: orientation, CDLA layout, PP-OCRv4 and LAC."""

from __future__ import annotations

import base64
import importlib.util
import io
import statistics
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gallery.errors import InputError
from tests.demos.harness import Demo, load_demo, run_ui

DEMO = Path(__file__).resolve().parents[2] / "demos" / "finance" / "report-reader-zh"
GRADIO_IMAGES = Path(__import__("gradio").__file__).parent / "media_assets" / "images"
# Measured in development on the three example pages: character recall 1.000 (every rendered character read),
# entity recall 1.000 (48/48) and precision 1.000 (48/48). The floors leave room for a character or an entity
# or two, not for a broken model or rule.
MIN_CHAR_RECALL = 0.97
MIN_ENTITY_RECALL = 0.9
MIN_ENTITY_PRECISION = 0.9


def _render_module() -> Any:
    spec = importlib.util.spec_from_file_location("render_pages", DEMO / "render_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGES = {page["file"]: page for page in _render_module().PAGES}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(DEMO, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def results(demo: Demo) -> dict[str, dict[str, Any]]:
    """Return the demo's result for each manifest example (each page is read once), timing each run."""
    out, times = {}, []
    for example in demo[0].examples:
        start = time.perf_counter()
        out[example["image"]] = run_ui(demo, image=str(DEMO / example["image"]))
        times.append(time.perf_counter() - start)
    print(f"report-reader-zh: seconds a page {[round(t, 2) for t in times]}, median {statistics.median(times):.2f}")
    return out


def data_url(image: Image.Image, fmt: str = "PNG") -> str:
    """Return an image as the JSON API receives it."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def rendered_text(page: dict[str, Any]) -> str:
    """Return every string drawn on the page."""
    parts = [page["header"], page["title"], page["footer"]]
    for kind, content in page["blocks"]:
        parts += [cell for row in content for cell in row] if kind == "table" else [content]
    return "".join(parts)


def char_recall(expected: str, read: str) -> tuple[int, int]:
    """Return (characters of `expected` found in `read`, counted as multisets, and how many it has), spaces left out."""
    def chars(text: str) -> Counter[str]:
        return Counter(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())

    want, got = chars(expected), chars(read)
    return sum(min(n, got[c]) for c, n in want.items()), sum(want.values())


def test_examples_are_small_pngs() -> None:
    for name in PAGES:
        path = DEMO / name
        assert path.stat().st_size < 200_000
        assert Image.open(path).format == "PNG"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_layout_finds_title_text_table_caption_header_and_footer(results, name: str) -> None:
    classes = Counter(region["class"] for region in results[name]["regions"])
    for kind in ("title", "text", "table", "table_caption", "header", "footer"):
        assert classes[kind] >= 1, (name, classes)
    assert classes["table"] == 1 and classes["title"] == 1
    assert "figure" not in classes  # the sideways page, read before it is turned, looks like one big figure
    table = next(r for r in results[name]["regions"] if r["class"] == "table")
    # The table's rows come back as rows, its cells in order.
    header_row = PAGES[name]["blocks"][[k for k, _ in PAGES[name]["blocks"]].index("table")][1][0]
    assert table["text"].split("\n")[0].replace(" ", "") == "|".join(header_row)


def test_the_sideways_page_is_turned_upright_and_the_others_are_left_alone(results) -> None:
    assert {name: r["rotation"] for name, r in results.items()} == {
        "annual_report_page.png": 0, "quarterly_report_page.png": 0, "rotated_scan_page.png": 270}
    assert results["rotated_scan_page.png"]["page_size"] == [1000, 1414]  # upright: portrait again


def test_ocr_reads_the_rendered_characters(results) -> None:
    found = total = 0
    for name, page in PAGES.items():
        read = "".join(region["text"] for region in results[name]["regions"])
        hit, count = char_recall(rendered_text(page), read)
        print(f"report-reader-zh: {name} character recall {hit / count:.3f} ({hit}/{count})")
        assert hit / count >= MIN_CHAR_RECALL, name
        found, total = found + hit, total + count
    print(f"report-reader-zh: character recall {found / total:.3f} ({found}/{total})")


def test_entities_recall_and_precision_against_what_was_rendered(results) -> None:
    gold = {(name, kind, text) for name, page in PAGES.items() for kind, texts in page["entities"].items()
            for text in texts}
    predicted = {(name, e["type"], e["text"]) for name, r in results.items() for e in r["entities"]}
    recall, precision = len(gold & predicted) / len(gold), len(gold & predicted) / len(predicted)
    for kind in ("ORG", "DATE", "AMOUNT", "PERCENT"):
        g = {item for item in gold if item[1] == kind}
        p = {item for item in predicted if item[1] == kind}
        print(f"report-reader-zh: {kind:7s} recall {len(g & p)}/{len(g)} precision {len(g & p)}/{len(p)}")
    print(f"report-reader-zh: entities recall {recall:.3f} ({len(gold & predicted)}/{len(gold)}) "
          f"precision {precision:.3f} ({len(gold & predicted)}/{len(predicted)}); missed {sorted(gold - predicted)}, "
          f"extra {sorted(predicted - gold)}")
    assert recall >= MIN_ENTITY_RECALL and precision >= MIN_ENTITY_PRECISION
    # Every organisation the page names, LAC's running-on word trimmed (华明会计师事务所为 -> 华明会计师事务所).
    assert {item for item in gold if item[1] == "ORG"} <= predicted
    for result in results.values():
        for entity in result["entities"]:
            assert result["regions"][entity["region"]]["text"][entity["start"]:entity["end"]] == entity["text"]


def test_an_upside_down_jpeg_through_the_api_form_is_turned_and_read(demo) -> None:
    image = Image.open(DEMO / "quarterly_report_page.png").convert("RGB").rotate(180)
    result = run_ui(demo, image=data_url(image, "JPEG"))
    assert result["rotation"] == 180
    texts = {(e["type"], e["text"]) for e in result["entities"]}
    assert {("ORG", "招商银行股份有限公司"), ("AMOUNT", "人民币5,000万元"), ("PERCENT", "41.28%")} <= texts


def test_a_page_without_text_gives_an_empty_result(demo) -> None:
    blank = run_ui(demo, image=data_url(Image.new("RGB", (700, 990), (250, 250, 248))))
    assert blank["entities"] == [] and all(not r["text"] for r in blank["regions"])
    summary = demo[1].module.summary
    assert summary(blank).startswith("No text was found") and summary(blank, "zh").startswith("页面上没有找到文字")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "image: is required"),
        ({"image": "data:image/png;base64,"}, "image:"),
        ({"image": "data:text/plain;base64," + base64.b64encode(b"2024 annual report").decode()}, "not a readable image"),
        ({"image": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()},
         "not a readable image"),
        ({"image": data_url(Image.new("RGB", (6000, 5000)))}, "the limit is 25,000,000"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(demo, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        run_ui(demo, **raw)
    assert message in info.value.message


def test_present_shows_tables_and_the_page_in_one_language(demo, results) -> None:
    import gradio as gr

    code = demo[1]
    path = str(DEMO / "rotated_scan_page.png")
    result = results["rotated_scan_page.png"]
    view = code.present(result, {"image": path})
    assert view["summary"].startswith("The page was turned 270°")
    assert list(view["regions"].columns) == ["#", "Class", "Box (x0, y0, x1, y1)", "Text"]
    assert list(view["entities"].columns) == ["Type", "Text", "Region", "Found by"]
    assert "Table" in view["regions"]["Class"].tolist() and "Organisation" in view["entities"]["Type"].tolist()
    assert view["page"].width < view["page"].height  # drawn on the upright page
    gr.Dataframe().postprocess(view["regions"])
    zh = code.present(result, {"image": None}, "zh")
    assert zh["summary"].startswith("页面先旋转了 270°") and zh["page"] is None
    assert list(zh["entities"].columns) == ["类型", "文字", "区域", "识别方式"]
    assert "表格" in zh["regions"]["类别"].tolist() and "Table" not in zh["summary"]


def test_rules_find_amounts_percentages_and_dates_and_trim_a_run_on_organisation() -> None:
    from shared.report_zh import lac_entities, merge, rule_entities

    text = "净利润1,234.56万元，同比增长-3.5%；于2024-12-31派发人民币2亿元，另有¥3.20和12,000股。"
    found = {(e.type, e.text) for e in rule_entities(text, 0)}
    assert found == {("AMOUNT", "1,234.56万元"), ("PERCENT", "-3.5%"), ("DATE", "2024-12-31"),
                     ("AMOUNT", "人民币2亿元"), ("AMOUNT", "¥3.20")}
    tags = [("同意", "v"), ("续聘", "v"), ("华明会计师事务所为", "ORG"), ("2024年度", "TIME"), ("上年末", "TIME")]
    lac = lac_entities(tags, 0)
    assert [(e.type, e.text, e.start) for e in lac] == [("ORG", "华明会计师事务所", 4), ("DATE", "2024年度", 13)]
    # A rule's longer span wins over LAC's shorter one at the same place.
    date = rule_entities("2024年3月26日", 0)
    assert [e.text for e in merge(date + lac_entities([("2024年", "TIME"), ("3月26日", "TIME")], 0))] == ["2024年3月26日"]
