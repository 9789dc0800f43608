"""Financial headline sentiment: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


# The Chinese name of each label in examples.csv (the English name is the label in words).
LABELS_ZH = {
    "negative": "利空",
    "neutral": "中性",
    "positive": "利好",
}


def predict(ctx: DemoContext, headline: str) -> dict[str, Any]:
    """Return the headline's sentiment (positive, negative or neutral) and each label's probability."""
    require_english(headline, "headline")
    return classify_demo(ctx, headline, "label", input_name="headline")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the sentiments as label bars."""
    return present_classification(result, "label", lang, LABELS_ZH)
