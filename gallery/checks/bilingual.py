"""Bilingual texts: titles, summaries, disclaimers, labels and example captions carry non-empty `en` and `zh`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gallery.checks.base import DemoFolder, Problem, validation_problems
from gallery.manifest import Bilingual

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Prose that a reader sees first must really be in both languages; a label may be "BMI" in both.
_PROSE = ("title", "summary", "disclaimer")


def has_chinese(text: str) -> bool:
    """Return whether the text contains at least one Chinese character."""
    return bool(_CJK.search(text))


def has_english(text: str) -> bool:
    """Return whether the text contains at least one Latin letter."""
    return bool(_LATIN.search(text))


def text_problems(path: Path, field: str, value: Any, required: bool) -> list[Problem]:
    """Return the problems of one bilingual field (a mapping with `en` and `zh`)."""
    if value is None:
        if not required:
            return []
        return [Problem(path, field, "missing: give it in English and Chinese, e.g. {en: Bus delays, zh: 公交延误}")]
    if not isinstance(value, dict):
        return [Problem(path, field, "must be a mapping with `en` and `zh` texts, e.g. {en: Bus delays, zh: 公交延误}")]
    try:
        Bilingual.model_validate(value)
    except ValidationError as exc:
        return validation_problems(path, exc, prefix=field)
    problems = []
    if field in _PROSE:
        if not has_chinese(value["zh"]):
            problems.append(Problem(path, f"{field}.zh", "has no Chinese characters: write the Chinese text here"))
        if not has_english(value["en"]):
            problems.append(Problem(path, f"{field}.en", "has no English words: write the English text here"))
    return problems


def check(folder: DemoFolder) -> list[Problem]:
    """Report bilingual fields that are missing, not mappings, or lack a non-empty `en` or `zh`."""
    if folder.data is None:
        return []
    path = folder.manifest_path
    problems = text_problems(path, "title", folder.get("title"), required=True)
    problems += text_problems(path, "summary", folder.get("summary"), required=True)
    problems += text_problems(path, "disclaimer", folder.get("disclaimer"), required=False)
    for key in ("inputs", "outputs"):
        items = folder.get(key)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                problems += text_problems(path, f"{key}[{index}].label", item.get("label"), required=True)
    examples = folder.get("examples")
    for index, example in enumerate(examples if isinstance(examples, list) else []):
        if isinstance(example, dict):  # a caption is optional: the UI shows the example's value without one
            problems += text_problems(path, f"examples[{index}].label", example.get("label"), required=False)
    return problems
