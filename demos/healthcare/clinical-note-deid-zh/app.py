"""Chinese clinical note de-identification: LAC's names, places, organisations and dates, and rules for numbers."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from gallery.context import DemoContext
from shared.chinese import require_chinese
from shared.deid_zh import mask

logger = logging.getLogger(__name__)

TYPE_NAMES = {
    "PER": {"en": "Name", "zh": "姓名"},
    "LOC": {"en": "Place", "zh": "地点"},
    "ORG": {"en": "Organisation", "zh": "机构"},
    "DATE": {"en": "Date", "zh": "日期"},
    "PHONE": {"en": "Phone", "zh": "电话"},
    "IDCARD": {"en": "ID-card number", "zh": "身份证号"},
    "RECORD": {"en": "Record number", "zh": "病历等编号"},
    "AGE": {"en": "Age over 89", "zh": "89 岁以上年龄"},
}
SOURCE_NAMES = {"lac": {"en": "LAC model", "zh": "LAC 模型"}, "rule": {"en": "rule", "zh": "规则"}}
NOTHING = {"en": "(nothing to mask was found)", "zh": "（没有发现需要遮盖的信息）"}


def predict(ctx: DemoContext, note: str) -> dict[str, Any]:
    """Return the note with identifying details masked, and each masked span (offsets into the note)."""
    # Only the ends are trimmed: offsets must point into the note as pasted, less its outer blank space.
    text = note.strip()
    require_chinese(text, "note")
    entities = ctx.model("lac").find(text)
    counts = Counter(item.type for item in entities)
    # Types and counts only: the note itself is exactly what must not reach the log.
    logger.info("%s: %d characters, %d spans masked %s", ctx.id, len(text), len(entities), dict(sorted(counts.items())))
    return {
        "deidentified": mask(text, entities),
        "entities": [item.as_dict() for item in entities],
        "counts": dict(sorted(counts.items())),
    }


def entity_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per masked span: type, original text, start, end and what found it, in `lang`."""
    pick = "zh" if lang == "zh" else "en"
    return [[TYPE_NAMES[e["type"]][pick], e["text"], e["start"], e["end"], SOURCE_NAMES[e["source"]][pick]]
            for e in result["entities"]]


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the de-identified note and the table of masked spans, headers in the page's language."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    headers = ["类型", "原文", "起始", "结束", "识别方式"] if zh else ["Type", "Text", "Start", "End", "Found by"]
    rows = entity_rows(result, lang)
    if not rows:
        rows = [[NOTHING["zh" if zh else "en"], "", "", "", ""]]
    return {"deidentified": result["deidentified"], "entities": pd.DataFrame(rows, columns=headers)}
