"""Receipt scanner: OCR a receipt, rebuild its rows, and pull out the line items, the total and the currency."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gallery.context import DemoContext
from shared.receipts import read_receipt

logger = logging.getLogger(__name__)

# Currencies written after the amount ("12.50 USD") rather than before it ("$12.50").
_CODES_AFTER = ("USD", "CNY", "RMB", "EUR", "GBP", "JPY", "HKD", "元")
VIEW_SIDE = 1600


def predict(ctx: DemoContext, image: Any) -> dict[str, Any]:
    """Return the receipt's text lines, line items, total, subtotal and currency (empty, with a note, if no text)."""
    boxes = ctx.model("ocr").read(image)
    result = read_receipt(boxes)
    # The size the boxes refer to, so a view of the original file can scale them if the decoder resized it.
    result["image_size"] = [int(image.width), int(image.height)]
    # Counts only: what a receipt says is the user's business, not the log's.
    logger.info("%s: %d text runs, %d items, total %s", ctx.id, len(result["lines"]), len(result["items"]),
                "found" if result["total"] is not None else "not found")
    return result


def money(value: float | None, currency: str | None) -> str:
    """Return an amount as printed for people: '$1,384.02', '56.50 元', or '—' when missing."""
    if value is None:
        return "—"
    text = f"{value:,.2f}"
    if not currency:
        return text
    return f"{text} {currency}" if currency in _CODES_AFTER else f"{currency}{text}"


# The notes shared/receipts.py writes, in Chinese.
NOTES_ZH = {
    "No text was found in the image. Try a sharper, well-lit photo with the receipt filling the frame.":
        "图片中没有找到文字。请换一张更清晰、光线充足、小票占满画面的照片。",
    "No total line (TOTAL, AMOUNT DUE, 合计, 应付…) was found; the total is left empty.":
        "没有找到合计行（TOTAL、AMOUNT DUE、合计、应付…），合计留空。",
    "No line items with amounts were found.": "没有找到带金额的商品行。",
}


def _note(note: str, zh: bool) -> str:
    if not zh:
        return note
    # A note is one or more of the known sentences, joined by spaces.
    for english, chinese in NOTES_ZH.items():
        note = note.replace(english, chinese)
    return note


def total_markdown(result: dict[str, Any], lang: str = "en") -> str:
    """Return the total, subtotal and the items-add-up check as a short markdown block, in `lang`."""
    zh = lang == "zh"
    currency = result.get("currency")
    parts = [f"### {'合计' if zh else 'Total'}: {money(result.get('total'), currency)}"]
    if result.get("subtotal") is not None:
        parts.append(f"{'小计' if zh else 'Subtotal'}: {money(result['subtotal'], currency)}")
    items_sum = result.get("items_sum")
    if items_sum is not None:
        # Items add up to the subtotal (before tax) when there is one, else to the total.
        target = result.get("subtotal") if result.get("subtotal") is not None else result.get("total")
        if target is None:
            check = ""
        elif abs(items_sum - target) < 0.005:
            check = " ✓ 一致" if zh else " ✓ matches"
        else:
            check = " ⚠ 不一致，请核对明细" if zh else " ⚠ does not match: check the items"
        parts.append(f"{'明细合计' if zh else 'Items add up to'}: {money(items_sum, currency)}{check}")
    if result.get("note"):
        parts.append(f"_{_note(result['note'], zh)}_")
    return "\n\n".join(parts)


def _image_path(raw: Any) -> Path | None:
    if isinstance(raw, dict):
        raw = raw.get("path")
    if isinstance(raw, (str, Path)) and Path(raw).is_file():
        return Path(raw)
    return None


def draw_boxes(path: Path | None, lines: list[dict[str, Any]], seen_size: list[int] | None) -> Any:
    """Return the uploaded image with each found text run outlined and numbered (None without an image)."""
    if path is None:
        return None
    from PIL import Image, ImageDraw, ImageFont, ImageOps  # deferred: only the UI draws

    with Image.open(path) as opened:
        # Upright as the decoder saw it, so the boxes land where the text is.
        image = ImageOps.exif_transpose(opened).convert("RGB")
    original = image.size
    image.thumbnail((VIEW_SIDE, VIEW_SIDE))  # a phone photo is far larger than the page shows it
    scale_x = image.width / (seen_size[0] if seen_size else original[0])
    scale_y = image.height / (seen_size[1] if seen_size else original[1])
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / 400))
    font = ImageFont.load_default(size=max(12, round(max(image.size) / 60)))
    for number, line in enumerate(lines, 1):
        points = [(x * scale_x, y * scale_y) for x, y in line["box"]]
        draw.polygon(points, outline=(220, 40, 40), width=width)
        draw.text((points[0][0], points[0][1] - 2), str(number), fill=(220, 40, 40), font=font, anchor="lb")
    return image


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Render the total as markdown, the items and lines as tables, and the image with the text outlined."""
    import pandas as pd  # deferred: only the UI renders tables

    currency = result.get("currency")
    items = pd.DataFrame(
        [[item["name"], money(item["amount"], currency)] for item in result["items"]],
        columns=["品名", "金额"] if lang == "zh" else ["Item", "Amount"],
    )
    lines = pd.DataFrame(
        [[number, line["text"], line["score"]] for number, line in enumerate(result["lines"], 1)],
        columns=["#", "文字", "置信度"] if lang == "zh" else ["#", "Text", "Confidence"],
    )
    return {"total": total_markdown(result, lang), "items": items, "lines": lines,
            "boxes": draw_boxes(_image_path(inputs.get("image")), result["lines"], result.get("image_size"))}
