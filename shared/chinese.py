"""Chinese text helpers for demos: what counts as a Han character, and refusing text that is not Chinese."""

from __future__ import annotations

import re

from gallery.errors import InputError
from shared.text import cjk_share

# CJK Unified Ideographs (the main block, extensions A to H), the compatibility blocks and 〇 (líng, zero): the
# characters Chinese text is written in.
_HAN_RANGES = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\U0002f800-\U0002fa1f"
HAN = re.compile(f"[{_HAN_RANGES}]")
# A Han character, or a run of other letters: a Latin word counts once, as a Chinese word of one or two characters
# does roughly, so "我有 3 个 iPhone" is mostly Chinese.
_UNIT = re.compile(f"[{_HAN_RANGES}]|(?:(?![{_HAN_RANGES}])[^\\W\\d_])+")


def han_share(text: str) -> float:
    """Return the share of Han characters among the text's Han characters and other words (0.0 when none)."""
    units = _UNIT.findall(text)
    if not units:
        return 0.0
    return sum(1 for unit in units if HAN.match(unit)) / len(units)


def require_chinese(text: str, field: str, min_share: float = 0.5) -> None:
    """Raise InputError when the text has no Han character, or fewer than `min_share` of its units are Han."""
    if not HAN.search(text):
        raise InputError(
            "has no Chinese characters; this demo reads Chinese only (此演示只能理解中文，请输入汉字)", field)
    if han_share(text) < min_share:
        raise InputError(
            "is mostly not Chinese; this demo reads Chinese only, please write in Chinese "
            "(此演示只能理解中文，请用中文输入)", field)


def text_language(text: str, field: str) -> str:
    """Return `zh` for text written mostly in Han characters, `en` otherwise; refuse mostly Japanese or Korean text."""
    if han_share(text) >= 0.5:
        return "zh"
    if cjk_share(text) > 0.5:  # kana or hangul: neither the English nor the Chinese encoder was chosen for them
        raise InputError("please write in English or Chinese (请用中文或英文输入)", field)
    return "en"


def word_count(text: str) -> float:
    """Return the number of words, a Latin word as one and two Han characters as one (Chinese has no spaces)."""
    units = _UNIT.findall(text)
    han = sum(1 for unit in units if HAN.match(unit))
    return (len(units) - han) + han / 2
