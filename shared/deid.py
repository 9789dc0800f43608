"""De-identify text (dictated clinical notes): mask dates, phone numbers, e-mail addresses, ID numbers and ages over 89.

Rule-based and English-only. Each rule is a regular expression naming the part to mask; written forms
("12/03/2024", "555-123-4567") and the spoken forms speech recognition produces ("march third twenty twenty
four", "five five five one two three four") are both covered. Overlapping finds keep the longest. Offsets in
the redactions point into the original text, so a UI can highlight them there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

TYPES = ("DATE", "PHONE", "EMAIL", "ID", "AGE", "NAME")

# -- vocabulary -----------------------------------------------------------------------------------------------

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_WORD_VALUES = {w: i + 1 for i, w in enumerate(_UNITS.split("|"))}
_WORD_VALUES.update({w: i + 10 for i, w in enumerate(_TEENS.split("|"))})
_WORD_VALUES.update({w: (i + 2) * 10 for i, w in enumerate(_TENS.split("|"))})

# Full month names in any case, except "may" (a verb) which must be capitalised; abbreviations capitalised.
_MONTH = (r"(?:(?i:january|february|march|april|june|july|august|september|october|november|december)|May"
          r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)")
_WEEKDAY = r"(?:(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)"
_DAY_NUM = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_ORDINAL_UNIT = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_DAY_WORD = (rf"(?:(?:twenty|thirty)[-\s]+(?:{_ORDINAL_UNIT})|{_ORDINAL_UNIT}|tenth|eleventh|twelfth|thirteenth"
             r"|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)")
_DAY = rf"(?:{_DAY_NUM}|(?i:{_DAY_WORD}))"
_YEAR_NUM = r"(?:1[89]\d\d|20\d\d|'\d\d)"
_TWO_DIGIT_WORDS = rf"(?:(?:{_TENS})(?:[-\s]+(?:{_UNITS}))?|{_TEENS}|oh[-\s]+(?:{_UNITS}))"
_YEAR_WORD = (rf"(?:(?:nineteen|twenty)[-\s]+(?:{_TWO_DIGIT_WORDS}|hundred)"
              rf"|two[-\s]+thousand(?:[-\s]+(?:and[-\s]+)?(?:{_TWO_DIGIT_WORDS}|{_UNITS}))?)")
_YEAR = rf"(?:{_YEAR_NUM}|(?i:{_YEAR_WORD}))"
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"

# Words before a number that say what kind of number it is.
_PHONE_CONTEXT = re.compile(r"(?i)\b(?:phone|telephone|tel|mobile|cell|fax|pager|bleep|call(?:ed)?|ring|text|"
                            r"contact(?:ed)?|reach(?:ed)?|dial(?:led)?)\b[^.\n]{0,30}$")
_ID_CONTEXT = re.compile(r"(?i)\b(?:mrn|record|chart|nhs|id|identifier|hospital|account|insurance|policy|ssn|"
                         r"social\s+security|case|member|passport|licen[cs]e|reference|ref)\b[^.\n]{0,30}$")
# "at", "on", ":" and "number is" between a keyword and its value.
_LINK = r"(?:\s*(?:number|no\.?|num|#|is|was|:|at|on|of|back|her|him|them|me|us)\b\.?)*\s*[:#]?\s*"


@dataclass(frozen=True)
class Redaction:
    """One masked span of the original text: `text[start:end]` became `[TYPE]`."""

    type: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"type": self.type, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Deidentified:
    """The masked text and what was masked (offsets into the original)."""

    text: str
    redactions: list[Redaction] = field(default_factory=list)

    def redaction_dicts(self) -> list[dict[str, object]]:
        """Return the redactions as JSON-ready dicts."""
        return [r.as_dict() for r in self.redactions]


@dataclass(frozen=True)
class Rule:
    """A pattern, the type it masks, the group to mask (default: the whole match) and an optional check."""

    type: str
    pattern: re.Pattern[str]
    group: str | int = 0
    accept: Callable[[re.Match[str], str], bool] | None = None
    kind: Callable[[re.Match[str], str], str] | None = None  # decides the type from context


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def words_to_number(text: str) -> int | None:
    """Return the value of a number written in words up to a few hundred ("ninety-two", "a hundred and one")."""
    words = [w for w in re.split(r"[\s-]+", text.lower().strip()) if w and w != "and"]
    if not words:
        return None
    value = 0
    for position, word in enumerate(words):
        if word == "a" and position == 0:
            value = 1
        elif word == "hundred":
            value = max(value, 1) * 100
        elif word in _WORD_VALUES:
            value += _WORD_VALUES[word]
        elif word.isdigit():
            value += int(word)
        else:
            return None
    return value


def _age_over_89(match: re.Match[str], _: str) -> bool:
    value = match.group("age")
    number = int(value) if value.isdigit() else words_to_number(value)
    return number is not None and 90 <= number <= 130


def _before(match: re.Match[str], text: str, group: str | int = 0) -> str:
    start = match.start(group)
    return text[max(0, start - 45):start]


def _number_kind(match: re.Match[str], text: str) -> str:
    """Return ID when record-number words come just before the number, else PHONE."""
    before = _before(match, text, "v" if "v" in match.groupdict() else 0)
    id_hit = _ID_CONTEXT.search(before)
    phone_hit = _PHONE_CONTEXT.search(before)
    if id_hit and (not phone_hit or id_hit.start() > phone_hit.start()):
        return "ID"
    return "PHONE"


def _phone_digits(match: re.Match[str], _: str) -> bool:
    return 7 <= _digits(match.group("v")) <= 15


def _spoken_digits(match: re.Match[str], _: str) -> bool:
    return len(re.findall(_DIGIT_WORD, match.group(0), flags=re.IGNORECASE)) >= 7


def _not_a_date_or_phone(match: re.Match[str], text: str) -> bool:
    return 7 <= _digits(match.group(0)) and not _PHONE_CONTEXT.search(_before(match, text))


_AGE_WORDS = rf"(?:ninety(?:[-\s]+(?:{_UNITS}))?|(?:a|one)[-\s]+hundred(?:[-\s]+(?:and[-\s]+)?(?:{_UNITS}|{_TEENS}|(?:{_TENS})(?:[-\s]+(?:{_UNITS}))?))?)"
_AGE = rf"(?P<age>\d{{2,3}}|(?i:{_AGE_WORDS}))"

RULES: tuple[Rule, ...] = (
    # E-mail addresses, written and spoken ("jane dot doe at example dot com").
    Rule("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    Rule("EMAIL", re.compile(r"(?i)\b[a-z0-9_-]+(?:(?:\s+dot\s+|[._])[a-z0-9_-]+)*\s+(?:at|@)\s+[a-z0-9-]+"
                             r"(?:(?:\s+dot\s+|\.)[a-z0-9-]+)*(?:\s+dot\s+|\.)(?:com|org|net|edu|gov|uk|io|info|co)\b")),
    # Dates with numbers only: 12/03/2024, 3.3.24, 2024-03-12.
    Rule("DATE", re.compile(r"\b(?:[12]\d|3[01]|0?[1-9])[/.-](?:[12]\d|3[01]|0?[1-9])[/.-](?:\d{4}|\d{2})\b")),
    Rule("DATE", re.compile(r"\b(?:1[89]|20)\d\d[/.-](?:1[0-2]|0?[1-9])[/.-](?:[12]\d|3[01]|0?[1-9])\b")),
    # 3 March 2024, 3rd of March, Monday 3 March, the third of march twenty twenty four.
    Rule("DATE", re.compile(rf"\b{_WEEKDAY}?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b")),
    # March 3rd, 2024; March the third; march third twenty twenty four; Mar. 3.
    Rule("DATE", re.compile(rf"\b{_WEEKDAY}?{_MONTH}\s+(?:the\s+)?{_DAY}(?!\s*(?:mg|ml|kg|g|%|units?)\b)"
                            rf"(?:,?\s+{_YEAR})?\b(?![:.]\d)")),
    # March 2024, March of twenty twenty three.
    Rule("DATE", re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b")),
    # Ages over 89: 92-year-old, 92 years old, aged 95, age: 91, 93 yo, ninety-two years of age.
    Rule("AGE", re.compile(rf"\b{_AGE}[-\s]+(?:years?|yrs?)[-\s]+old\b"), "age", _age_over_89),
    Rule("AGE", re.compile(rf"\b{_AGE}\s+(?:years?|yrs?)\s+of\s+age\b"), "age", _age_over_89),
    Rule("AGE", re.compile(rf"(?i)\b(?:aged?|age\s*:)\s+(?:of\s+)?{_AGE}\b"), "age", _age_over_89),
    Rule("AGE", re.compile(rf"\b{_AGE}\s*(?:y/?o|yo)\b"), "age", _age_over_89),
    # Numbers after record-number words: MRN 00482913, patient ID 12345678, NHS number 943 476 5919.
    Rule("ID", re.compile(rf"(?i)\b(?:mrn|medical\s+record|record|chart|hospital\s+(?:number|no)|nhs|patient\s+id|id|"
                          rf"identifier|account|insurance|policy|ssn|social\s+security|case\s+(?:number|no)|member)"
                          rf"{_LINK}(?P<v>(?:[A-Z]{{1,3}}[-\s]?)?\d{{2,}}(?:[-\s]\d{{2,}})*)\b"), "v",
         lambda m, _: _digits(m.group("v")) >= 4),
    # Phone numbers after call/phone words, however the digits were grouped ("call her back at 555, 123 45 67").
    Rule("PHONE", re.compile(rf"(?i)\b(?:phone|telephone|tel|mobile|cell|fax|pager|call(?:ed)?|ring|text|"
                             rf"contact(?:ed)?|reach(?:ed)?|dial(?:led)?){_LINK}(?P<v>\+?\(?\d[\d\s().,-]{{5,}}\d)"),
         "v", _phone_digits),
    # Phone numbers by their shape: (555) 123-4567, +1 555 123 4567, 020 7946 0958, 07700 900123, 555-1234.
    Rule("PHONE", re.compile(r"(?<![\w/.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)\s?|\d{2,5}[\s.-])\d{3,4}[\s.-]\d{3,4}"
                             r"(?![\w/]|[.-]\d)"), kind=_number_kind),
    Rule("PHONE", re.compile(r"(?<![\w/.-])(?:\d{3}-\d{4}|0\d{4}\s?\d{6})(?![\w/]|[.-]\d)"), kind=_number_kind),
    # Spoken digit strings: "five five five one two three four", "my number is oh seven seven ...".
    Rule("PHONE", re.compile(rf"(?i)\b{_DIGIT_WORD}(?:[\s,-]+{_DIGIT_WORD}){{6,}}\b"), 0, _spoken_digits,
         kind=_number_kind),
    # Numbers read digit by digit and written that way: "5-5-5-0-1-4-2", "4, 8, 2, 9, 1, 3, 7".
    Rule("PHONE", re.compile(r"(?<![\w.,-])\d(?:(?:\s*[-.,]\s*|\s)\d){6,14}(?!\w|[.,-]\d)"), kind=_number_kind),
    # Long bare numbers (7+ digits, or letters then 5+ digits) are identifiers: 12345678, AB123456.
    Rule("ID", re.compile(r"(?<![\w.,/-])\d{7,}(?![\w.,/-]\d)"), 0, _not_a_date_or_phone),
    Rule("ID", re.compile(r"\b[A-Z]{1,3}-?\d{5,}\b")),
    # Names after a title ("Dr. Patel", "Mrs Jane Doe") or "patient"/"name is" ("patient Jane Doe").
    Rule("NAME", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Doctor|Nurse)\.?\s+(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})"),
         "v"),
    Rule("NAME", re.compile(r"(?i:\b(?:patient|name\s+is|named|called))\s+(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})"),
         "v", lambda m, _: m.group("v").split()[0] not in _NOT_NAMES),
    # A full name (two or three capitalised words) after the words that introduce a person in a note:
    # "Clinic note for John Carter", "seen with Maria Lopez", "referred by Anna Berg". One capitalised word
    # alone is too often something else ("for Monday", "to Radiology"); two of them are masked even when they
    # name a place, which costs less than a name left in the text.
    Rule("NAME", re.compile(r"(?i:\b(?:for|with|to|from|by|saw|see|seen|visited|about|regarding))\s+"
                            r"(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){1,2})\b"),
         "v", lambda m, _: not (set(m.group("v").split()) & _NOT_NAMES)),
)

# Capitalised words that follow "patient"/"called" without being a name.
_NOT_NAMES = frozenset({"The", "This", "He", "She", "They", "It", "Is", "Was", "Has", "Had", "And", "But", "In", "On",
                        "At", "For", "With", "Denies", "Reports", "Presents", "States", "Says", "Today", "Yesterday",
                        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Back", "Me",
                        "Her", "Him", "Them", "Us", "Doctor", "Dr", "Nurse", "Mr", "Mrs", "Ms", "Miss", "January",
                        "February", "March", "April", "May", "June", "July", "August", "September", "October",
                        "November", "December", "I", "We", "You"})


def find_redactions(text: str, types: tuple[str, ...] = TYPES) -> list[Redaction]:
    """Return the spans to mask, ordered by start and never overlapping (the longest find wins)."""
    found: list[Redaction] = []
    for rule in RULES:
        if rule.type not in types and rule.kind is None:
            continue
        for match in rule.pattern.finditer(text):
            if rule.accept is not None and not rule.accept(match, text):
                continue
            start, end = match.span(rule.group)
            if start == end:
                continue
            kind = rule.kind(match, text) if rule.kind else rule.type
            if kind in types:
                found.append(Redaction(kind, start, end))
    chosen: list[Redaction] = []
    # Longest first: "call 555 123 4567" by context and by shape give the same span; a date inside a longer
    # date ("3 March" inside "Monday 3 March 2024") loses to it.
    for item in sorted(found, key=lambda r: (-(r.end - r.start), r.start, TYPES.index(r.type))):
        if all(item.end <= other.start or item.start >= other.end for other in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda r: r.start)


def deidentify(text: str, types: tuple[str, ...] = TYPES) -> Deidentified:
    """Return the text with each found span replaced by `[TYPE]`, and the spans (offsets into `text`)."""
    redactions = find_redactions(text, types)
    parts: list[str] = []
    cursor = 0
    for item in redactions:
        parts += [text[cursor:item.start], f"[{item.type}]"]
        cursor = item.end
    parts.append(text[cursor:])
    return Deidentified("".join(parts), redactions)


def highlight(text: str, redactions: list[dict[str, object]] | list[Redaction]) -> list[tuple[str, str | None]]:
    """Return (piece, type or None) pairs covering the text, for a highlighted-text view."""
    spans = [r if isinstance(r, Redaction) else Redaction(str(r["type"]), int(r["start"]), int(r["end"]))  # type: ignore[arg-type]
             for r in redactions]
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for item in sorted(spans, key=lambda r: r.start):
        if item.start < cursor:
            continue
        if item.start > cursor:
            pieces.append((text[cursor:item.start], None))
        pieces.append((text[item.start:item.end], item.type))
        cursor = item.end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces
