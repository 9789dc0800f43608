"""Tests for finance/receipt-scanner with the real PP-OCRv4 models (RapidOCR, ONNX Runtime)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gallery.errors import InputError
from tests.demos.harness import Demo, load_demo, run_ui

DEMO = Path(__file__).resolve().parents[2] / "demos" / "finance" / "receipt-scanner"
GRADIO_IMAGES = Path(__import__("gradio").__file__).parent / "media_assets" / "images"

# What the two example receipts print (render_receipts.py), in order.
EXPECTED = {
    "receipt_en.png": {
        "items": [3.80, 2.95, 17.00, 2.25, 6.50, 1249.00],
        "names": ["Flat white", "Blueberry muffin", None, "Sparkling water", "Granola bowl", "Catering tray"],
        "total": 1384.02, "subtotal": 1281.50, "currency": "$",
    },
    "receipt_zh.png": {
        "items": [12.50, 17.00, 5.00, 22.00],
        "names": ["全麦吐司", None, "豆浆", "抹茶蛋糕"],
        "total": 56.50, "subtotal": None, "currency": "¥",
    },
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(DEMO, tmp_path_factory.mktemp("cache"))



def data_url(image: Image.Image, fmt: str = "PNG") -> str:
    """Return an image as the JSON API receives it."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def results(demo) -> dict[str, dict[str, Any]]:
    """Return the demo's result for each manifest example (OCR runs once per example)."""
    return {example["image"]: run_ui(demo, image=str(DEMO / example["image"])) for example in demo[0].examples}


def test_examples_are_small_pngs() -> None:
    for name in EXPECTED:
        path = DEMO / name
        assert path.stat().st_size < 150_000
        assert Image.open(path).format == "PNG"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_total_items_and_currency_are_read_exactly(results, name: str) -> None:
    expected, result = EXPECTED[name], results[name]
    assert result["total"] == expected["total"]
    assert result["subtotal"] == expected["subtotal"]
    assert result["currency"] == expected["currency"]
    assert [item["amount"] for item in result["items"]] == expected["items"]
    for item, want in zip(result["items"], expected["names"]):
        if want is not None:  # OCR may drop a space inside a name ("Avocadotoast x2"); these it reads whole
            assert item["name"] == want
    # The items add up to the subtotal before tax, or to the total when there is no tax line.
    assert result["items_sum"] == (expected["subtotal"] or expected["total"])
    assert result["note"] is None
    assert result["image_size"] == list(Image.open(DEMO / name).size)


def test_lines_carry_text_score_and_box(results) -> None:
    lines = results["receipt_en.png"]["lines"]
    texts = [line["text"] for line in lines]
    assert texts[0] == "MAPLE & MOSS CAFE"
    assert "SUBTOTAL" in texts and "TOTAL" in texts
    for line in lines:
        assert 0.5 <= line["score"] <= 1.0
        assert len(line["box"]) == 4 and all(len(point) == 2 for point in line["box"])


def test_photo_without_text_gives_an_empty_result_with_a_note(demo) -> None:
    result = run_ui(demo, image=str(GRADIO_IMAGES / "cheetah1.jpg"))
    assert result["items"] == [] and result["total"] is None and result["currency"] is None
    assert "No text was found" in result["note"]
    blank = run_ui(demo, image=data_url(Image.new("RGB", (320, 240), (240, 240, 235))))
    assert blank["lines"] == [] and "No text was found" in blank["note"]


def test_tilted_jpeg_photo_through_the_api_form_reads_the_same_items_and_total(demo) -> None:
    # Five degrees askew: a price sits 35 px (more than a row) off its name's height until rows are deskewed.
    image = Image.open(DEMO / "receipt_en.png").convert("RGB").rotate(5, expand=True, fillcolor=(150, 150, 150))
    result = run_ui(demo, image=data_url(image, "JPEG"))
    expected = EXPECTED["receipt_en.png"]
    assert [item["amount"] for item in result["items"]] == expected["items"]
    assert result["total"] == expected["total"] and result["currency"] == "$"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "image: is required"),
        ({"image": "data:image/png;base64,"}, "image:"),
        ({"image": "data:text/plain;base64," + base64.b64encode(b"TOTAL 12.00").decode()}, "not a readable image"),
        ({"image": data_url(Image.new("RGB", (6000, 5000)))}, "the limit is 25,000,000"),
    ],
)
def test_bad_images_are_refused_with_a_clear_message(demo, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        run_ui(demo, **raw)
    assert message in info.value.message


def test_present_renders_total_items_lines_and_boxes(demo, results) -> None:
    import gradio as gr

    code = demo[1]
    path = str(DEMO / "receipt_en.png")
    view = code.present(results["receipt_en.png"], {"image": path})
    assert view["total"].startswith("### Total: $1,384.02")
    assert "Subtotal: $1,281.50" in view["total"] and "✓ matches" in view["total"]
    assert list(view["items"].columns) == ["Item", "Amount"]
    assert view["items"].iloc[-1].tolist() == ["Catering tray", "$1,249.00"]
    assert len(view["lines"]) == len(results["receipt_en.png"]["lines"])
    assert view["boxes"].size == Image.open(path).size
    gr.Dataframe().postprocess(view["items"])
    zh = code.present(results["receipt_zh.png"], {"image": None}, "zh")
    assert zh["total"].startswith("### 合计: ¥56.50") and zh["boxes"] is None
    assert "Total" not in zh["total"] and list(zh["items"].columns) == ["品名", "金额"]
    nothing = run_ui(demo, image=str(GRADIO_IMAGES / "cheetah1.jpg"))
    empty = code.present(nothing, {})
    assert "—" in empty["total"] and "No text was found" in empty["total"] and empty["items"].empty
    assert "图片中没有找到文字" in code.present(nothing, {}, "zh")["total"]


def test_money_formatting(demo) -> None:
    money = demo[1].module.money
    assert money(1384.02, "$") == "$1,384.02"
    assert money(56.5, "元") == "56.50 元"
    assert money(12.0, "USD") == "12.00 USD"
    assert money(None, "$") == "—"
