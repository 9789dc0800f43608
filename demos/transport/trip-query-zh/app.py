"""Chinese trip query reader: origin, destination, date, time and mode of travel, from LAC's entities and rules."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from gallery.context import DemoContext
from shared.chinese import require_chinese
from shared.trip_zh import MODE_NAMES

logger = logging.getLogger(__name__)

# Queries are read as written in China: "明天" is tomorrow in Beijing time (UTC+8, no daylight saving), whatever
# the server's zone. Tests replace TODAY to fix the date that relative words resolve against.
CHINA = timezone(timedelta(hours=8))
TODAY: Callable[[], date] = lambda: datetime.now(CHINA).date()  # noqa: E731

TYPE_NAMES = {"LOC": {"en": "Place", "zh": "地点"}, "ORG": {"en": "Organisation or station", "zh": "机构/站点"},
              "TIME": {"en": "Time", "zh": "时间"}}
NOT_SAID = {"en": "(not said)", "zh": "（未提及）"}
NOTHING = {"en": "(no place or time was found)", "zh": "（没有识别到地点或时间）"}


def predict(ctx: DemoContext, query: str) -> dict[str, Any]:
    """Return where from, where to, the ISO date, the 24-hour time and the mode the query asks about."""
    text = query.strip()
    require_chinese(text, "query")
    today = TODAY()
    trip = ctx.model("lac").read(text, today).as_dict()
    # Which fields were found, not the query: a trip says where someone is going.
    logger.info("%s: %d characters, found %s", ctx.id, len(text),
                sorted(k for k in ("origin", "destination", "date", "time", "mode") if trip[k]))
    return {**trip, "today": today.isoformat()}


def entity_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per LAC entity: type, text, start and end, the type in `lang`."""
    pick = "zh" if lang == "zh" else "en"
    return [[TYPE_NAMES[e["type"]][pick], e["text"], e["start"], e["end"]] for e in result["entities"]]


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show each field (the mode named in the page's language) and the entity table."""
    import pandas as pd  # deferred: only the UI renders tables

    pick = "zh" if lang == "zh" else "en"
    blank = NOT_SAID[pick]
    headers = ["类型", "文本", "起始", "结束"] if pick == "zh" else ["Type", "Text", "Start", "End"]
    rows = entity_rows(result, lang) or [[NOTHING[pick], "", "", ""]]
    mode = result["mode"]
    return {
        "origin": result["origin"] or blank,
        "destination": result["destination"] or blank,
        "date": result["date"] or blank,
        "time": result["time"] or blank,
        "mode": MODE_NAMES[mode][pick] if mode else blank,
        "entities": pd.DataFrame(rows, columns=headers),
    }
