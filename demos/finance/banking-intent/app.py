"""Banking intent router: a few-shot head on sentence embeddings, trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english


# The Chinese name of each label in examples.csv (the English name is the label in words).
LABELS_ZH = {
    "card_lost_or_stolen": "银行卡丢失或被盗",
    "check_balance": "查询余额",
    "dispute_charge": "对扣款有异议",
    "loan_or_mortgage": "贷款或房贷",
    "open_account": "开户",
    "report_fraud": "举报欺诈",
    "talk_to_human": "转人工客服",
    "transfer_money": "转账",
}


def predict(ctx: DemoContext, message: str) -> dict[str, Any]:
    """Return the customer message's intent, its confidence and every intent's probability."""
    require_english(message, "message")
    return classify_demo(ctx, message, "intent", input_name="message")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the intents as label bars."""
    return present_classification(result, "intent", lang, LABELS_ZH)
