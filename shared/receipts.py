"""Receipts: OCR text boxes grouped into rows, line items paired with amounts, the total and the currency."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Detection, direction classifier and recognition models inside rapidocr-onnxruntime's `models` folder.
OCR_FILES = {"det": "ch_PP-OCRv4_det_infer.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
             "rec": "ch_PP-OCRv4_rec_infer.onnx"}

_CURRENCY = r"US\$|HK\$|[$€£¥]|USD|CNY|RMB|EUR|GBP|JPY|HKD"
# An amount at the end of a text run: a sign, a currency before or after, and a number written with
# thousands separators and a decimal point (1,234.50) or a decimal comma (1.234,50 / 12,50).
_AMOUNT_AT_END = re.compile(
    rf"(?<![\d.,])(?:(?<!\w)(?P<sign>-))?(?P<pre>{_CURRENCY})?\s?(?P<sign2>-)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+,\d{1,2}|\d+[.,]\d{1,2}|\d+)"
    rf"\s*(?P<post>{_CURRENCY}|元)?\s*$"
)
_ANY_CURRENCY = re.compile(rf"(?<![A-Za-z])(?:{_CURRENCY})(?![A-Za-z])|元")
# Keywords are matched on the lower-cased row name with spaces removed, so OCR that drops spaces
# ("AMOUNTDUE", "Grandtotal") still matches.
_STRONG_TOTAL = ("grandtotal", "amountdue", "balancedue", "totaldue", "totalamount", "amountpayable",
                 "totaltopay", "价税合计", "價稅合計", "应付", "應付", "应收", "應收", "总金额", "總金額", "总额", "總額")
_TOTAL = ("total", "合计", "合計", "总计", "總計")
_NOT_TOTAL = ("subtotal", "sub-total", "小计", "小計", "totaltax", "taxtotal", "totalitems", "totalqty",
              "totalsaving", "totaldiscount", "件数", "數量", "数量")
_SUMMARY = ("subtotal", "sub-total", "tax", "vat", "gst", "tip", "gratuity", "change", "cash", "card", "visa",
            "mastercard", "amex", "paid", "payment", "tendered", "balance", "rounding", "小计", "小計", "税", "稅",
            "找零", "实收", "實收", "现金", "現金", "收款", "支付", "微信", "支付宝", "银行卡", "刷卡", "实付", "實付")
_DISCOUNT = ("discount", "coupon", "voucher", "saving", "优惠", "優惠", "折扣", "减免")


@dataclass(frozen=True)
class TextBox:
    """One text run found by OCR: its text, confidence and four corner points (x, y) in image pixels."""

    text: str
    score: float
    box: tuple[tuple[int, int], ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form: text, score (3 decimals) and box as [[x, y] x 4]."""
        return {"text": self.text, "score": round(self.score, 3), "box": [list(p) for p in self.box]}


@dataclass(frozen=True)
class Amount:
    """A money amount read at the end of a text, with the currency printed next to it (if any)."""

    value: Decimal
    currency: str | None
    start: int  # where the amount begins in the (normalised) text


def normalise(text: str) -> str:
    """Return text in NFKC form (full-width ￥ and digits become ¥ and ASCII) with spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _to_decimal(num: str) -> Decimal | None:
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d{1,2}", num):  # 1.234,50: dots group, comma is the decimal point
        num = num.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{1,2}", num):  # 12,50: a decimal comma
        num = num.replace(",", ".")
    else:
        num = num.replace(",", "")
    try:
        return Decimal(num)
    except InvalidOperation:
        return None


def amount_at_end(text: str) -> Amount | None:
    """Return the amount that ends `text`, or None; a bare integer without a currency is not an amount."""
    text = normalise(text)
    match = _AMOUNT_AT_END.search(text)
    if not match:
        return None
    num, currency = match.group("num"), match.group("pre") or match.group("post")
    # Bare whole numbers on receipts are counts, table numbers, dates and times, rarely prices.
    if currency is None and not re.search(r"[.,]\d{1,2}$", num):
        return None
    value = _to_decimal(num)
    if value is None:
        return None
    if match.group("sign") or match.group("sign2"):
        value = -value
    return Amount(value, currency, match.start())


def boxes_from_ocr(raw: Sequence[Any] | None) -> list[TextBox]:
    """Return TextBoxes from RapidOCR's `[box, text, score]` triples (None when nothing was found)."""
    boxes = []
    for points, text, score in raw or []:
        corners = tuple((round(float(x)), round(float(y))) for x, y in points)
        if str(text).strip():
            boxes.append(TextBox(str(text).strip(), float(score), corners))
    return boxes


def skew_angle(boxes: Sequence[TextBox]) -> float:
    """Return the page's tilt in radians: the median slope of the top edges of long text runs."""
    angles = []
    for box in boxes:
        (x0, y0), (x1, y1), _, (x3, y3) = box.box
        length, height = math.hypot(x1 - x0, y1 - y0), math.hypot(x3 - x0, y3 - y0)
        angle = math.atan2(y1 - y0, x1 - x0)
        # Short runs ("6.50") give noisy slopes; runs tilted past 30 degrees are not lines of a receipt.
        if length >= 2 * height and abs(angle) < math.radians(30):
            angles.append(angle)
    return float(sorted(angles)[len(angles) // 2]) if angles else 0.0


def group_rows(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """Group boxes into printed rows by vertical overlap, each row sorted left to right, rows top to bottom.

    The boxes are first turned by the page's tilt, so a receipt photographed a few degrees askew still has
    its names and prices, which sit far apart on a row, at the same height.
    """
    angle = skew_angle(boxes)
    cos, sin = math.cos(angle), math.sin(angle)
    spans_of: dict[int, tuple[float, float, float]] = {}
    for index, box in enumerate(boxes):
        ys = [y * cos - x * sin for x, y in box.box]
        spans_of[index] = (min(ys), max(ys), min(x * cos + y * sin for x, y in box.box))
    rows: list[list[int]] = []
    spans: list[tuple[float, float]] = []
    for index in sorted(spans_of, key=lambda i: spans_of[i][0] + spans_of[i][1]):
        top, bottom, _ = spans_of[index]
        height = max(bottom - top, 1.0)
        best, best_overlap = None, 0.0
        for row, (row_top, row_bottom) in enumerate(spans):
            overlap = min(row_bottom, bottom) - max(row_top, top)
            # Half the smaller height: neighbouring rows touch a little, boxes of one row overlap a lot.
            share = overlap / min(height, max(row_bottom - row_top, 1.0))
            if share > 0.5 and share > best_overlap:
                best, best_overlap = row, share
        if best is None:
            rows.append([index])
            spans.append((top, bottom))
        else:
            rows[best].append(index)
            row_top, row_bottom = spans[best]
            spans[best] = (min(row_top, top), max(row_bottom, bottom))
    order = sorted(range(len(rows)), key=lambda r: spans[r][0] + spans[r][1])
    return [[boxes[i] for i in sorted(rows[r], key=lambda i: spans_of[i][2])] for r in order]


@dataclass(frozen=True)
class Row:
    """One printed row: its text, and the name and amount it splits into (amount None when it has none)."""

    text: str
    name: str
    amount: Amount | None


def split_row(boxes: Sequence[TextBox]) -> Row:
    """Split a row into a name (the text on the left) and the amount that ends it (the rightmost run)."""
    text = normalise(" ".join(b.text for b in boxes))
    amount = amount_at_end(text)
    name = text[: amount.start].strip(" :：-—.") if amount else text
    return Row(text, name, amount)


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name.lower())


def total_rank(name: str) -> int:
    """Return 2 for a grand-total row (AMOUNT DUE, 应付), 1 for a TOTAL/合计 row, 0 otherwise (SUBTOTAL, TAX)."""
    key = _key(name)
    if any(word in key for word in _STRONG_TOTAL):
        return 2
    if any(word in key for word in _NOT_TOTAL):
        return 0
    if any(word in key for word in _TOTAL) and not any(word in key for word in ("tax", "vat", "税", "稅")):
        return 1
    return 0


def _is_summary(name: str) -> bool:
    """Return whether a row is a total, subtotal, tax, payment or change row rather than a line item."""
    key, lower = _key(name), name.lower()
    if total_rank(name) > 0 or any(word in key for word in _NOT_TOTAL):
        return True
    # English words must stand alone ("card", not "cardamom"); an s/es plural and a glued digit ("TAX8%") pass.
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?:e?s)?(?![a-z])", lower) if w.isascii() else w in key
               for w in _SUMMARY)


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))


def read_receipt(boxes: Sequence[TextBox]) -> dict[str, Any]:
    """Return lines, items, total, subtotal, currency, items_sum and a note from a receipt's OCR boxes."""
    grouped = group_rows(boxes)
    lines = [box.as_dict() for row in grouped for box in row]
    if not boxes:
        return {"lines": [], "items": [], "total": None, "subtotal": None, "currency": None, "items_sum": None,
                "note": "No text was found in the image. Try a sharper, well-lit photo with the receipt filling the frame."}
    rows = [split_row(row) for row in grouped]
    # A name printed alone with its amount on the next row (long item names wrap) is joined back up.
    merged: list[Row] = []
    for row in rows:
        if row.amount and not row.name and merged and merged[-1].amount is None and merged[-1].name:
            merged[-1] = Row(f"{merged[-1].text} {row.text}", merged[-1].name, row.amount)
        else:
            merged.append(row)
    items: list[dict[str, Any]] = []
    totals: list[tuple[int, Decimal, Amount]] = []
    subtotal: Decimal | None = None
    past_items = False
    for row in merged:
        if row.amount is None:
            continue
        rank = total_rank(row.name)
        is_subtotal = bool(re.search(r"sub-?total|小计|小計", _key(row.name)))
        if rank:
            totals.append((rank, row.amount.value, row.amount))
        if is_subtotal and subtotal is None:
            subtotal = row.amount.value
        # Items sit above the first subtotal or total; below it come tax, payments, change and the like.
        past_items = past_items or rank > 0 or is_subtotal
        if past_items or _is_summary(row.name) or not re.search(r"[^\W\d_]", row.name):
            continue
        value = row.amount.value
        if any(word in _key(row.name) for word in _DISCOUNT):
            value = -abs(value)
        items.append({"name": row.name, "amount": _money(value)})
    total_amount = max(totals, key=lambda t: (t[0], t[1]))[2] if totals else None
    currency = _currency(merged, total_amount)
    items_sum = _money(sum((Decimal(str(i["amount"])) for i in items), Decimal(0))) if items else None
    notes = []
    if total_amount is None:
        notes.append("No total line (TOTAL, AMOUNT DUE, 合计, 应付…) was found; the total is left empty.")
    if not items:
        notes.append("No line items with amounts were found.")
    return {"lines": lines, "items": items, "total": _money(total_amount.value) if total_amount else None,
            "subtotal": _money(subtotal), "currency": currency, "items_sum": items_sum,
            "note": " ".join(notes) or None}


def _currency(rows: Sequence[Row], total: Amount | None) -> str | None:
    """Return the currency printed by the total, else the commonest printed next to amounts, else anywhere."""
    if total is not None and total.currency:
        return total.currency
    near = [r.amount.currency for r in rows if r.amount and r.amount.currency]
    if near:
        return max(set(near), key=near.count)
    anywhere = [m.group(0) for r in rows for m in _ANY_CURRENCY.finditer(r.text)]
    return max(set(anywhere), key=anywhere.count) if anywhere else None


class ReceiptOCR:
    """PP-OCRv4 (RapidOCR, ONNX Runtime) reading a PIL image into TextBoxes."""

    backend = "onnxruntime-cpu"

    def __init__(self, model_dir: Path, options: dict[str, Any]) -> None:
        from rapidocr_onnxruntime import RapidOCR

        paths = {kind: Path(model_dir) / str(options.get(f"{kind}_file", name)) for kind, name in OCR_FILES.items()}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"OCR model files missing: {', '.join(missing)}")
        self.engine = RapidOCR(det_model_path=str(paths["det"]), cls_model_path=str(paths["cls"]),
                               rec_model_path=str(paths["rec"]))

    def read(self, image: Any) -> list[TextBox]:
        """Return the text runs found in an RGB PIL image (an empty list when there is no text)."""
        raw, _timings = self.engine(image.convert("RGB"))
        return boxes_from_ocr(raw)


def load_ocr(path: Path, options: dict[str, Any]) -> ReceiptOCR:
    """Build the OCR engine from the model folder (the runtime's `custom` factory)."""
    logger.info("receipts: loading PP-OCRv4 from %s", path)
    return ReceiptOCR(path, options)
