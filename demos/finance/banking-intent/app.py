"""Banking intent router: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


def predict(ctx: DemoContext, message: str) -> dict[str, Any]:
    """Return the customer message's intent, its confidence and every intent's probability."""
    require_english(message, "message")
    return classify_demo(ctx, message, "intent", input_name="message")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the intents as label bars."""
    return present_classification(result, "intent")
