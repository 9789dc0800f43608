"""Passenger complaint router: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


# The Chinese name of each label in examples.csv (the English name is the label in words).
LABELS_ZH = {
    "accessibility": "无障碍服务",
    "delays_and_schedule": "延误与时刻表",
    "fares_and_tickets": "票价与车票",
    "lost_property": "失物招领",
    "safety_and_security": "安全与保卫",
    "staff_behaviour": "员工服务态度",
    "vehicle_condition": "车辆状况",
}


def predict(ctx: DemoContext, complaint: str) -> dict[str, Any]:
    """Return the department that should handle the complaint and each department's probability."""
    require_english(complaint, "complaint")
    return classify_demo(ctx, complaint, "department", input_name="complaint")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the departments as label bars."""
    return present_classification(result, "department", lang, LABELS_ZH)
