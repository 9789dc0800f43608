"""Normalise Chinese dates and clock times: 明天, 后天, 下周一, 3月5日, 五号 -> an ISO date; 下午三点, 15:30, 晚上八点半 -> HH:MM.

Relative words are resolved against a `today` the caller passes in (so tests can fix it). The first date and the
first clock time in the text win; a time of day without an hour ("明天下午") gives no clock time. Rules only: a
Chinese travel query says its date and time in a few dozen set ways, and LAC's TIME tag marks where, not what.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from shared.deid_zh import chinese_number

_NUM = r"[0-9０-９〇零一二两三四五六七八九十]"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
# Words that move the date by whole days, longest first so 大后天 is not read as 后天.
_RELATIVE = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "明儿": 1, "明晨": 1, "今天": 0, "今日": 0,
             "今早": 0, "今晚": 0, "今儿": 0, "今夜": 0, "今晨": 0}
# Parts of the day, longest first; each says how an hour of 1 to 12 in it becomes a 24-hour hour.
_MORNING = ("凌晨", "清晨", "早晨", "早上", "上午", "明早", "今早", "明晨", "今晨", "一早", "早")
_NOON = ("中午", "正午")
_EVENING = ("下午", "午后", "傍晚", "晚上", "夜里", "夜间", "晚间", "今晚", "明晚", "今夜", "当晚", "晚", "夜")
_LATE_NIGHT = ("半夜", "深夜", "午夜")
_PERIOD = "|".join(sorted(_MORNING + _NOON + _EVENING + _LATE_NIGHT, key=len, reverse=True))

_ISO = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>1[0-2]|0?[1-9])[-/.](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")
_MONTH_DAY = re.compile(rf"(?:(?P<y>(?:19|20)\d{{2}})\s*年\s*)?(?P<m>{_NUM}{{1,3}})\s*月\s*(?:份\s*)?(?P<d>{_NUM}{{1,3}})\s*[日号]?")
# A day of the month alone (五号, 15日); not 5号线 (a metro line), 3号门, 2号航站楼 or 7号车厢.
_DAY = re.compile(rf"(?<![月\d{_NUM[1:-1]}])(?P<d>{_NUM}{{1,3}})\s*(?:号|日)(?![线站口门楼车厅航台院])")
_WEEK = re.compile(r"(?P<rel>下下|下个|下|本|这个|这|今)?(?:周|星期|礼拜)(?P<w>[一二三四五六日天末1-7])")
_RELATIVE_RE = re.compile("|".join(sorted(_RELATIVE, key=len, reverse=True)))

_CLOCK = re.compile(r"(?<![\d:：])(?P<h>[01]?\d|2[0-3])\s*[:：]\s*(?P<min>[0-5]\d)(?![\d:：])")
_HOUR = re.compile(rf"(?P<h>{_NUM}{{1,3}})\s*(?:点|时)(?!半天|多久)(?:钟)?\s*"
                   rf"(?P<min>半|一刻|三刻|整|(?P<mm>{_NUM}{{1,3}})\s*分?)?")
_BEFORE_HOUR = re.compile(rf"(?P<period>{_PERIOD})\s*$")
# "早一点", "快点", "多少点" are no clock times.
_NOT_HOUR_BEFORE = set("早晚快慢多少些宜好近远有")


@dataclass(frozen=True)
class Found:
    """A normalised value and the span of the text it came from."""

    value: str
    start: int
    end: int


def _number(text: str) -> int | None:
    """Return the value of a numeral (Arabic, full-width or Chinese), or None."""
    text = text.replace("两", "二")
    try:
        return chinese_number(text)
    except (ValueError, KeyError):
        return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    """Return the date, or None when it does not exist (2月30日)."""
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return date(year, month, day)


def _month_day(month: int, day: int, today: date) -> date | None:
    """Return the next month-day on or after today (this year, else next year)."""
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        found = _safe_date(today.year + 1, month, day)
    return found


def _day_of_month(day: int, today: date) -> date | None:
    """Return the next date with this day of the month, on or after today."""
    year, month = today.year, today.month
    for _ in range(13):
        found = _safe_date(year, month, day)
        if found is not None and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _weekday(rel: str | None, weekday: int, today: date) -> date:
    """Return the date of a weekday: 下周三 in the week after this one (weeks start on Monday), 周三 the next one."""
    monday = today - timedelta(days=today.weekday())
    if rel in ("下", "下个"):
        return monday + timedelta(days=7 + weekday)
    if rel == "下下":
        return monday + timedelta(days=14 + weekday)
    if rel in ("本", "这", "这个", "今"):
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def find_dates(text: str, today: date) -> list[Found]:
    """Return every date the text names, resolved against `today`, ordered by position (overlaps removed)."""
    found: list[Found] = []
    for match in _ISO.finditer(text):
        value = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if value:
            found.append(Found(value.isoformat(), *match.span()))
    for match in _MONTH_DAY.finditer(text):
        month, day = _number(match["m"]), _number(match["d"])
        if month is None or day is None:
            continue
        value = (_safe_date(int(match["y"]), month, day) if match["y"] else _month_day(month, day, today))
        if value:
            found.append(Found(value.isoformat(), *match.span()))
    for match in _DAY.finditer(text):
        day = _number(match["d"])
        value = _day_of_month(day, today) if day else None
        if value:
            found.append(Found(value.isoformat(), *match.span()))
    for match in _WEEK.finditer(text):
        value = _weekday(match["rel"], _WEEKDAYS[match["w"]], today)
        found.append(Found(value.isoformat(), *match.span()))
    for match in _RELATIVE_RE.finditer(text):
        found.append(Found((today + timedelta(days=_RELATIVE[match.group(0)])).isoformat(), *match.span()))
    return _without_overlaps(found)


def _to_24h(hour: int, period: str | None) -> int | None:
    """Return the 24-hour hour for an hour said with a part of the day (下午三点 -> 15), or None if impossible."""
    if not 0 <= hour <= 24:
        return None
    if period in _EVENING and 1 <= hour < 12:
        hour += 12
    elif period in _NOON and 1 <= hour <= 5:
        hour += 12
    elif period in _LATE_NIGHT:
        hour = 0 if hour == 12 else hour + 12 if 9 <= hour <= 11 else hour
    elif period in _MORNING and hour == 12 and period != "中午":
        hour = 0 if period == "凌晨" else 12
    return hour % 24


def _minutes(text: str | None, numeral: str | None) -> int | None:
    """Return the minutes of 半, 一刻, 三刻, 整 or a numeral (with or without 分)."""
    if not text or text == "整":
        return 0
    if text in ("半", "一刻", "三刻"):
        return {"半": 30, "一刻": 15, "三刻": 45}[text]
    minute = _number(numeral or "")
    return minute if minute is not None and 0 <= minute < 60 else None


def find_times(text: str) -> list[Found]:
    """Return every clock time in the text as 24-hour HH:MM, ordered by position (a part of the day just before counts)."""
    found: list[Found] = []
    for match in _CLOCK.finditer(text):
        hour = int(match["h"])
        period = _period_before(text, match.start())
        hour = _to_24h(hour, period) if period else hour
        if hour is not None:
            found.append(Found(f"{hour:02d}:{match['min']}", *match.span()))
    for match in _HOUR.finditer(text):
        start = match.start()
        if match["h"] in ("一", "1") and start and text[start - 1] in _NOT_HOUR_BEFORE:
            continue
        hour, minute = _number(match["h"]), _minutes(match["min"], match["mm"])
        if hour is None or minute is None:
            continue
        hour = _to_24h(hour, _period_before(text, start))
        if hour is not None:
            found.append(Found(f"{hour:02d}:{minute:02d}", start, match.end()))
    return _without_overlaps(found)


def _period_before(text: str, start: int) -> str | None:
    """Return the part of the day written just before position `start` (晚上八点: 晚上), if any."""
    match = _BEFORE_HOUR.search(text[max(0, start - 4):start])
    return match["period"] if match else None


def _without_overlaps(found: list[Found]) -> list[Found]:
    """Return the finds by position, the longest kept where two overlap."""
    chosen: list[Found] = []
    for item in sorted(found, key=lambda f: (-(f.end - f.start), f.start)):
        if all(item.end <= other.start or item.start >= other.end for other in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda f: f.start)


def first_date(text: str, today: date) -> Found | None:
    """Return the first date the text names, or None."""
    dates = find_dates(text, today)
    return dates[0] if dates else None


def first_time(text: str) -> Found | None:
    """Return the first clock time the text names, or None."""
    times = find_times(text)
    return times[0] if times else None
