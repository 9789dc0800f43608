"""Text helpers for demos: passages and sentences with exact character offsets, script checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gallery.errors import InputError

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a full-width Chinese/Japanese terminator, which needs no following space.
_SENTENCE_END = re.compile(r"(?:[.!?]+[\"'’”)\]]*(?=\s)|[。！？；]+[”’」』）]*)")
# Short tokens that end in a full stop without ending a sentence ("e.g. the", "Dr. Smith").
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx", "ca", "cf", "jr", "sr"}
)
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<title>.+?)[ \t#]*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Span:
    """A piece of a larger text: `source[start:end] == text`."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage(Span):
    """A retrievable passage, with the nearest heading above it (for context, not part of the span)."""

    heading: str | None = None

    def for_embedding(self) -> str:
        """Return the text to embed: heading and passage, so short passages keep their topic."""
        return f"{self.heading}: {self.text}" if self.heading else self.text


def _strip_span(source: str, start: int, end: int) -> Span | None:
    """Return the span [start, end) of source without surrounding whitespace, or None if blank."""
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return Span(source[start:end], start, end) if end > start else None


def _is_abbreviation(source: str, stop: int) -> bool:
    """Return whether the full stop at `stop` closes an abbreviation or a list number ("1.")."""
    begin = stop
    while begin > 0 and (source[begin - 1].isalnum() or source[begin - 1] == "."):
        begin -= 1
    word = source[begin:stop].lower()
    if word in _ABBREVIATIONS:
        return True
    line_start = source.rfind("\n", 0, begin) + 1
    return word.isdigit() and not source[line_start:begin].strip()


def split_sentences(source: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split source[start:end] into sentences; each keeps its exact offsets into `source`."""
    end = len(source) if end is None else end
    spans: list[Span] = []
    cursor = start
    # Line breaks inside a block also end a sentence: notes are full of bullet points without full stops.
    for line in re.finditer(r"[^\n]+", source[start:end]):
        line_start, line_end = start + line.start(), start + line.end()
        cursor = line_start
        for match in _SENTENCE_END.finditer(source, line_start, line_end):
            if source[match.start()] == "." and _is_abbreviation(source, match.start()):
                continue
            span = _strip_span(source, cursor, match.end())
            if span is not None:
                spans.append(span)
            cursor = match.end()
        span = _strip_span(source, cursor, line_end)
        if span is not None:
            spans.append(span)
    return spans


def _blocks(source: str) -> list[Span]:
    """Return the blank-line separated blocks of source, stripped, with offsets."""
    blocks: list[Span] = []
    cursor = 0
    for match in _BLANK_LINES.finditer(source):
        span = _strip_span(source, cursor, match.start())
        if span is not None:
            blocks.append(span)
        cursor = match.end()
    span = _strip_span(source, cursor, len(source))
    if span is not None:
        blocks.append(span)
    return blocks


def _pack(sentences: list[Span], source: str, max_chars: int) -> list[Span]:
    """Group consecutive sentences into spans of at most max_chars (a longer sentence stands alone)."""
    packed: list[Span] = []
    group: list[Span] = []
    for sentence in sentences:
        if group and sentence.end - group[0].start > max_chars:
            packed.append(Span(source[group[0].start : group[-1].end], group[0].start, group[-1].end))
            group = []
        group.append(sentence)
    if group:
        packed.append(Span(source[group[0].start : group[-1].end], group[0].start, group[-1].end))
    return packed


def split_passages(source: str, max_chars: int = 500) -> list[Passage]:
    """Split notes into passages (paragraphs, long ones cut at sentence ends) with exact offsets.

    Markdown headings (`# Title`) are not passages themselves; they label the passages below them.
    """
    passages: list[Passage] = []
    heading: str | None = None
    for block in _blocks(source):
        body_start = block.start
        # A heading may sit directly above its paragraph without a blank line in between.
        for line in re.finditer(r"[^\n]*", source[block.start : block.end]):
            match = _HEADING.match(line.group())
            if match is None:
                break
            heading = match.group("title").strip()
            body_start = block.start + line.end()
        body = _strip_span(source, body_start, block.end)
        if body is None:
            continue
        if len(body.text) <= max_chars:
            pieces = [body]
        else:
            pieces = _pack(split_sentences(source, body.start, body.end), source, max_chars)
        passages.extend(Passage(p.text, p.start, p.end, heading) for p in pieces)
    return passages


def cjk_share(text: str) -> float:
    """Return the share of letters in text that are Chinese, Japanese or Korean characters."""
    letters = _LETTER.findall(text)
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _CJK.match(ch)) / len(letters)


def require_english(text: str, field: str) -> None:
    """Raise InputError when text is mostly CJK: the English-only encoder cannot read it."""
    if cjk_share(text) > 0.5:
        raise InputError(
            "this demo's model reads English only; please write in English (此演示的模型只能理解英文，请用英文输入)",
            field,
        )
