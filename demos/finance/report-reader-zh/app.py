"""Chinese financial-report page reader: turn the page upright, find its layout, read each region, list entities."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from gallery.context import DemoContext
from shared.report_zh import Region, lac_entities, merge, place_lines, rule_entities

logger = logging.getLogger(__name__)

# Pages are read at most this long on their long side: the text of a printed page stays legible, and a phone
# photo of 4,000 pixels would take several times as long for no gain.
WORK_SIDE = 2000
VIEW_SIDE = 1400

CLASS_NAMES = {
    "title": {"en": "Title", "zh": "标题"},
    "text": {"en": "Text", "zh": "正文"},
    "table": {"en": "Table", "zh": "表格"},
    "table_caption": {"en": "Table caption", "zh": "表格标题"},
    "figure": {"en": "Figure", "zh": "图片"},
    "figure_caption": {"en": "Figure caption", "zh": "图片标题"},
    "header": {"en": "Header", "zh": "页眉"},
    "footer": {"en": "Footer", "zh": "页脚"},
    "reference": {"en": "Reference", "zh": "参考文献"},
    "equation": {"en": "Equation", "zh": "公式"},
    "other": {"en": "Other text", "zh": "其他文字"},
}
TYPE_NAMES = {
    "ORG": {"en": "Organisation", "zh": "机构"},
    "DATE": {"en": "Date", "zh": "日期"},
    "AMOUNT": {"en": "Amount", "zh": "金额"},
    "PERCENT": {"en": "Percentage", "zh": "百分比"},
}
SOURCE_NAMES = {"lac": {"en": "LAC model", "zh": "LAC 模型"}, "rule": {"en": "rule", "zh": "规则"}}
# Colours of the boxes drawn on the page, by class.
COLOURS = {"title": (200, 30, 30), "text": (30, 100, 220), "table": (20, 150, 60), "table_caption": (140, 60, 200),
           "figure": (230, 130, 0), "figure_caption": (200, 100, 160), "header": (110, 110, 110),
           "footer": (110, 110, 110), "other": (160, 160, 0)}
NO_TEXT = {"en": "No text was found on the page. Try a sharper scan with the page filling the image.",
           "zh": "页面上没有找到文字。请换一张更清晰、页面占满画面的扫描件。"}
TURNED = {"en": "The page was turned {deg}° to stand upright before it was read.",
          "zh": "页面先旋转了 {deg}° 摆正，再进行识别。"}


def predict(ctx: DemoContext, image: Any) -> dict[str, Any]:
    """Return the page's rotation, its layout regions with their text, and the entities found in them."""
    page = image.convert("RGB")
    page.thumbnail((WORK_SIDE, WORK_SIDE))
    rotation = ctx.model("orientation")(page)
    if rotation:
        page = page.rotate(rotation, expand=True)
    layout = ctx.model("layout")(page)
    lines = ctx.model("ocr").read(page)
    regions = place_lines(layout, lines)
    lac = ctx.model("lac")
    entities = []
    for index, region in enumerate(regions):
        text = region.text()
        if not text:
            continue
        # LAC reads each row of a table on its own: a table row is not a sentence with the next one.
        found = rule_entities(text, index)
        offset = 0
        for line in text.split("\n"):
            found += [replace(e, start=e.start + offset, end=e.end + offset) for e in lac_entities(lac.tag(line), index)]
            offset += len(line) + 1
        entities += merge(found)
    result = {
        "rotation": rotation,
        "page_size": [page.width, page.height],
        "regions": [_region_dict(region) for region in regions],
        "entities": [e.as_dict() for e in entities],
        "counts": dict(sorted(Counter(e.type for e in entities).items())),
    }
    # Counts only: what a report says is the user's business, not the log's.
    logger.info("%s: turned %d°, %d regions %s, %d lines, entities %s", ctx.id, rotation, len(regions),
                dict(Counter(r.kind for r in regions)), len(lines), result["counts"])
    return result


def _region_dict(region: Region) -> dict[str, Any]:
    return {"class": region.kind, "score": round(region.score, 3), "box": [round(v) for v in region.box],
            "text": region.text()}


def region_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per region: number, class, box and text, in `lang`."""
    pick = "zh" if lang == "zh" else "en"
    return [[number, CLASS_NAMES.get(r["class"], CLASS_NAMES["other"])[pick], ", ".join(str(v) for v in r["box"]),
             r["text"]] for number, r in enumerate(result["regions"], 1)]


def entity_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per entity: type, text, region number and what found it, in `lang`."""
    pick = "zh" if lang == "zh" else "en"
    return [[TYPE_NAMES[e["type"]][pick], e["text"], e["region"] + 1, SOURCE_NAMES[e["source"]][pick]]
            for e in result["entities"]]


def _image_path(raw: Any) -> Path | None:
    if isinstance(raw, dict):
        raw = raw.get("path")
    if isinstance(raw, (str, Path)) and Path(raw).is_file():
        return Path(raw)
    return None


def draw_regions(path: Path | None, result: dict[str, Any], lang: str = "en") -> Any:
    """Return the upright page with each region outlined and labelled by number and class (None without an image)."""
    if path is None:
        return None
    from PIL import Image, ImageDraw, ImageFont, ImageOps  # deferred: only the UI draws

    with Image.open(path) as opened:
        page = ImageOps.exif_transpose(opened).convert("RGB")
    page.thumbnail((WORK_SIDE, WORK_SIDE))
    if result.get("rotation"):
        page = page.rotate(result["rotation"], expand=True)
    seen = result.get("page_size") or list(page.size)
    page.thumbnail((VIEW_SIDE, VIEW_SIDE))
    scale = page.width / seen[0]
    draw = ImageDraw.Draw(page)
    width = max(2, round(max(page.size) / 500))
    # WenQuanYi Micro Hei labels the classes in Chinese; without it the labels fall back to English.
    cjk = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    size = max(14, round(max(page.size) / 70))
    font = ImageFont.truetype(str(cjk), size) if cjk.is_file() else ImageFont.load_default(size=size)
    pick = "zh" if lang == "zh" and cjk.is_file() else "en"
    for number, region in enumerate(result["regions"], 1):
        colour = COLOURS.get(region["class"], COLOURS["other"])
        x0, y0, x1, y1 = (v * scale for v in region["box"])
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        label = f"{number} {CLASS_NAMES.get(region['class'], CLASS_NAMES['other'])[pick]}"
        left, top, right, bottom = draw.textbbox((x0, y0), label, font=font, anchor="lb")
        draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=colour)
        draw.text((x0, y0), label, fill=(255, 255, 255), font=font, anchor="lb")
    return page


def summary(result: dict[str, Any], lang: str = "en") -> str:
    """Return a one-paragraph markdown summary: rotation, regions by class and entities by type."""
    pick = "zh" if lang == "zh" else "en"
    if not any(r["text"] for r in result["regions"]):
        return NO_TEXT[pick]
    parts = []
    if result["rotation"]:
        parts.append(TURNED[pick].format(deg=result["rotation"]))
    kinds = Counter(r["class"] for r in result["regions"])
    sep = "，" if pick == "zh" else ", "
    listed = sep.join(f"{CLASS_NAMES.get(k, CLASS_NAMES['other'])[pick]} {n}" for k, n in kinds.most_common())
    found = sep.join(f"{TYPE_NAMES[k][pick]} {n}" for k, n in result["counts"].items())
    if pick == "zh":
        parts.append(f"版面区域：{listed}。识别到的实体：{found or '无'}。")
    else:
        parts.append(f"Layout regions: {listed}. Entities found: {found or 'none'}.")
    return " ".join(parts)


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the summary, the regions and entities tables, and the page with its regions drawn, in `lang`."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    region_headers = ["#", "类别", "位置 (x0, y0, x1, y1)", "文字"] if zh else ["#", "Class", "Box (x0, y0, x1, y1)", "Text"]
    entity_headers = ["类型", "文字", "区域", "识别方式"] if zh else ["Type", "Text", "Region", "Found by"]
    return {
        "summary": summary(result, lang),
        "regions": pd.DataFrame(region_rows(result, lang), columns=region_headers),
        "entities": pd.DataFrame(entity_rows(result, lang), columns=entity_headers),
        "page": draw_regions(_image_path(inputs.get("image")), result, lang),
    }
