"""Passenger complaint router: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


def predict(ctx: DemoContext, complaint: str) -> dict[str, Any]:
    """Return the department that should handle the complaint and each department's probability."""
    require_english(complaint, "complaint")
    return classify_demo(ctx, complaint, "department", input_name="complaint")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the departments as label bars."""
    return present_classification(result, "department")
