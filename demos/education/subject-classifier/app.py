"""School subject classifier: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from gallery.errors import InputError
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


# The Chinese name of each label in examples.csv (the English name is the label in words).
LABELS_ZH = {
    "biology": "生物",
    "chemistry": "化学",
    "geography": "地理",
    "history": "历史",
    "literature": "文学",
    "maths": "数学",
    "physics": "物理",
}


def predict(ctx: DemoContext, question: str) -> dict[str, Any]:
    """Return the subject of a student's question, its confidence and every subject's probability."""
    require_english(question, "question")
    if len(question.split()) < 2:
        raise InputError("write the whole question, not a single word", "question")
    return classify_demo(ctx, question, label_field="subject", input_name="question")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show every subject's probability as label bars."""
    return present_classification(result, "subject", lang, LABELS_ZH)
