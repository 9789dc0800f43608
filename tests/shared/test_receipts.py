"""Tests for shared/receipts.py: amounts, rows and totals from OCR boxes (no model needed)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from shared.receipts import (
    TextBox,
    amount_at_end,
    boxes_from_ocr,
    group_rows,
    read_receipt,
    skew_angle,
    total_rank,
)


def box(text: str, left: float, top: float, width: float = 100, height: float = 24, score: float = 0.99) -> TextBox:
    """Return a text run at (left, top), as RapidOCR would report it."""
    corners = ((left, top), (left + width, top), (left + width, top + height), (left, top + height))
    return TextBox(text, score, tuple((int(x), int(y)) for x, y in corners))


def tilted(boxes: list[TextBox], degrees: float) -> list[TextBox]:
    """Return the boxes turned about the origin, as on a photo taken a few degrees askew."""
    a = math.radians(degrees)
    return [TextBox(b.text, b.score, tuple((round(x * math.cos(a) - y * math.sin(a)), round(x * math.sin(a) + y * math.cos(a)))
                                           for x, y in b.box)) for b in boxes]


def receipt(rows: list[tuple[str, str | None]]) -> list[TextBox]:
    """Return boxes for rows of (name, amount): names on the left, amounts on the right, in shuffled order."""
    boxes = []
    for index, (name, amount) in enumerate(rows):
        top = 40 + index * 36
        boxes.append(box(name, 30, top, width=12 * len(name)))
        if amount is not None:
            boxes.append(box(amount, 330, top, width=80))
    return boxes[::2] + boxes[1::2]


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("12.00", "12.00", None),
        ("1,234.50", "1234.50", None),
        ("¥35.5", "35.5", "¥"),
        ("￥12.50", "12.50", "¥"),  # full-width yen, as PP-OCR often reads it
        ("TOTAL $1,384.02", "1384.02", "$"),
        ("合计¥56.50", "56.50", "¥"),
        ("12,50 €", "12.50", "€"),
        ("1.234,50", "1234.50", None),
        ("Member discount -1.00", "-1.00", None),
        ("35 USD", "35", "USD"),
        ("RMB 88.00", "88.00", "RMB"),
        ("56.50元", "56.50", "元"),
    ],
)
def test_amounts_are_parsed_robustly(text: str, value: str, currency: str | None) -> None:
    amount = amount_at_end(text)
    assert amount is not None
    assert amount.value == Decimal(value)
    assert amount.currency == currency


@pytest.mark.parametrize("text", ["2025-03-14", "12:41", "Table 12", "Store042-Till 3", "TAX 8%", "Thank you", "1.234"])
def test_dates_counts_and_words_are_not_amounts(text: str) -> None:
    assert amount_at_end(text) is None


@pytest.mark.parametrize(
    ("name", "rank"),
    [("TOTAL", 1), ("Total", 1), ("合计", 1), ("总计", 1), ("AMOUNT DUE", 2), ("Grand Total", 2), ("应付", 2),
     ("价税合计", 2), ("SUBTOTAL", 0), ("Sub Total", 0), ("小计", 0), ("TAX", 0), ("Total tax", 0),
     ("Total items", 0), ("Flat white", 0)],
)
def test_total_rows_are_told_from_subtotal_and_tax(name: str, rank: int) -> None:
    assert total_rank(name) == rank


@pytest.mark.parametrize("degrees", [0, 4, -4, 8])
def test_boxes_on_one_printed_row_are_grouped_even_when_tilted(degrees: float) -> None:
    # At 4 degrees a price 300 px to the right sits 21 px (most of a row) higher or lower than its name.
    boxes = tilted(receipt([("Flat white", "3.80"), ("Blueberry muffin", "2.95"), ("TOTAL", "6.75")]), degrees)
    rows = group_rows(boxes)
    assert [[b.text for b in row] for row in rows] == [["Flat white", "3.80"], ["Blueberry muffin", "2.95"],
                                                       ["TOTAL", "6.75"]]
    assert abs(math.degrees(skew_angle(boxes)) - degrees) < 0.5


def test_items_total_subtotal_and_payment_rows() -> None:
    boxes = receipt([
        ("GREEN LEAF CAFE", None), ("2025-03-14 12:41", None), ("Flat white", "3.80"), ("Cardamom bun", "3.20"),
        ("Catering tray", "1,249.00"), ("SUBTOTAL", "1,256.00"), ("TAX 8%", "100.48"), ("TOTAL", "$1,356.48"),
        ("Card", "1,356.48"), ("Change", "0.00"),
    ])
    result = read_receipt(boxes)
    assert result["items"] == [{"name": "Flat white", "amount": 3.8}, {"name": "Cardamom bun", "amount": 3.2},
                               {"name": "Catering tray", "amount": 1249.0}]
    assert result["total"] == 1356.48 and result["subtotal"] == 1256.0
    assert result["currency"] == "$"
    assert result["items_sum"] == 1256.0
    assert result["note"] is None
    assert len(result["lines"]) == len(boxes)
    assert result["lines"][0]["text"] == "GREEN LEAF CAFE"  # reading order, top to bottom
    assert all(set(line) == {"text", "score", "box"} and len(line["box"]) == 4 for line in result["lines"])


def test_amount_due_beats_a_plain_total_and_discounts_count_negative() -> None:
    result = read_receipt(receipt([("Bus pass", "€30.00"), ("Student discount", "3.00"), ("Total", "27.00"),
                                   ("AMOUNT DUE", "€27.00")]))
    assert result["items"] == [{"name": "Bus pass", "amount": 30.0}, {"name": "Student discount", "amount": -3.0}]
    assert result["total"] == 27.0 and result["currency"] == "€"
    assert result["items_sum"] == 27.0


def test_chinese_receipt_with_total_and_change() -> None:
    result = read_receipt(receipt([("品名", "金额"), ("全麦吐司", "￥12.50"), ("豆浆", "￥5.00"), ("合计", "￥17.50"),
                                   ("实收", "￥20.00"), ("找零", "￥2.50")]))
    assert result["items"] == [{"name": "全麦吐司", "amount": 12.5}, {"name": "豆浆", "amount": 5.0}]
    assert result["total"] == 17.5 and result["currency"] == "¥"


def test_name_and_amount_merged_into_one_run_and_wrapped_names() -> None:
    boxes = [box("Oat latte 4.20", 30, 40, width=380), box("Chicken and leek pie, family size", 30, 76, width=380),
             box("12.99", 330, 112, width=80), box("TOTAL 17.19", 30, 148, width=380)]
    result = read_receipt(boxes)
    assert result["items"] == [{"name": "Oat latte", "amount": 4.2},
                               {"name": "Chicken and leek pie, family size", "amount": 12.99}]
    assert result["total"] == 17.19 and result["currency"] is None


def test_no_total_line_leaves_total_empty_with_a_note() -> None:
    result = read_receipt(receipt([("Flat white", "3.80"), ("Muffin", "2.95")]))
    assert result["total"] is None and len(result["items"]) == 2
    assert "No total line" in result["note"]


def test_no_text_gives_an_empty_result_with_a_note() -> None:
    result = read_receipt(boxes_from_ocr(None))
    assert result["lines"] == [] and result["items"] == [] and result["total"] is None and result["currency"] is None
    assert "No text was found" in result["note"]


def test_boxes_from_ocr_rounds_points_and_drops_blank_runs() -> None:
    raw = [[[[10.4, 5.6], [50.2, 5.0], [50.0, 20.9], [10.0, 21.0]], " TOTAL ", 0.98765], [[[0, 0]] * 4, "  ", 0.5]]
    boxes = boxes_from_ocr(raw)
    assert len(boxes) == 1 and boxes[0].text == "TOTAL"
    assert boxes[0].as_dict() == {"text": "TOTAL", "score": 0.988, "box": [[10, 6], [50, 5], [50, 21], [10, 21]]}


def test_a_payment_word_above_the_total_does_not_end_the_items() -> None:
    result = read_receipt(receipt([("Coffee", "3.00"), ("Cash back", "10.00"), ("Muffin", "2.50"), ("TOTAL", "15.50")]))
    assert result["items"] == [{"name": "Coffee", "amount": 3.0}, {"name": "Muffin", "amount": 2.5}]
    assert result["total"] == 15.5
