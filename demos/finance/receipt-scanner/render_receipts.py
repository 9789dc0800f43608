"""Render the demo's example receipts (invented shops and items) as small PNG files.

Run from the repository root: `.venv/bin/python demos/finance/receipt-scanner/render_receipts.py`.
The PNG files are committed; this script documents how they were made and remakes them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONO_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

# (left text, right text, bold); None is a dashed rule; a right text of "" centres the left text.
ENGLISH = [
    ("MAPLE & MOSS CAFE", "", True),
    ("Store 042 - Till 3", "", False),
    ("2025-03-14 12:41", "", False),
    None,
    ("Flat white", "3.80", False),
    ("Blueberry muffin", "2.95", False),
    ("Avocado toast x2", "17.00", False),
    ("Sparkling water", "2.25", False),
    ("Granola bowl", "6.50", False),
    ("Catering tray", "1,249.00", False),
    None,
    ("SUBTOTAL", "1,281.50", False),
    ("TAX 8%", "102.52", False),
    ("TOTAL", "$1,384.02", True),
    ("Card", "1,384.02", False),
    None,
    ("Thank you, come again!", "", False),
]

CHINESE = [
    ("小麦田面包坊", "", True),
    ("单号 000318", "", False),
    ("2025-03-14 09:20", "", False),
    None,
    ("品名", "金额", False),
    ("全麦吐司", "¥12.50", False),
    ("牛角包 x2", "¥17.00", False),
    ("豆浆", "¥5.00", False),
    ("抹茶蛋糕", "¥22.00", False),
    None,
    ("合计", "¥56.50", True),
    ("实收", "¥60.00", False),
    ("找零", "¥3.50", False),
    None,
    ("谢谢惠顾", "", False),
]


def render(rows: list, font_path: str, bold_path: str, width: int = 440, size: int = 22, angle: float = 0.0) -> Image.Image:
    """Draw the rows on a receipt-like strip of paper on a grey table, slightly rotated."""
    line_h = int(size * 1.65)
    margin = 28
    height = margin * 2 + line_h * len(rows)
    paper = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(paper)
    for index, row in enumerate(rows):
        y = margin + index * line_h
        if row is None:
            draw.text((margin, y), "-" * 32, font=ImageFont.truetype(MONO, size - 4), fill=90)
            continue
        left, right, bold = row
        font = ImageFont.truetype(bold_path if bold else font_path, size)
        if not right:
            w = draw.textlength(left, font=font)
            draw.text(((width - w) / 2, y), left, font=font, fill=25)
            continue
        draw.text((margin, y), left, font=font, fill=25)
        w = draw.textlength(right, font=font)
        draw.text((width - margin - w, y), right, font=font, fill=25)
    table = Image.new("L", (width + 80, height + 80), 150)
    table.paste(paper.rotate(angle, expand=False, fillcolor=150, resample=Image.BICUBIC), (40, 40))
    return table


def main() -> None:
    """Write receipt_en.png and receipt_zh.png next to this script."""
    render(ENGLISH, MONO, MONO_BOLD, angle=0.8).save(HERE / "receipt_en.png", optimize=True)
    render(CHINESE, CJK, CJK, width=400, size=24, angle=-0.6).save(HERE / "receipt_zh.png", optimize=True)


if __name__ == "__main__":
    main()
