"""Chinese patient feedback: snownlp's sentiment score, a calibrated neutral band, and the comment's keywords."""

from __future__ import annotations

import logging
from typing import Any

from gallery.context import DemoContext
from shared.chinese import require_chinese
from shared.sentiment_zh import Band

logger = logging.getLogger(__name__)

# Chosen by shared.sentiment_zh.calibrate on calibration.csv (60 labelled comments); tests/demos/
# test_patient_feedback_zh.py recomputes it, so the numbers cannot drift from the data they came from.
BAND = Band(negative_below=0.29, positive_above=0.79)
KEYWORDS = 5
LABEL_NAMES = {
    "positive": {"en": "Positive", "zh": "正面"},
    "neutral": {"en": "Neutral", "zh": "中性"},
    "negative": {"en": "Negative", "zh": "负面"},
}


def predict(ctx: DemoContext, feedback: str) -> dict[str, Any]:
    """Return the label (positive / negative / neutral), snownlp's score, the band used and the keywords."""
    text = feedback.strip()
    require_chinese(text, "feedback")
    model = ctx.model("sentiment")
    score = model.score(text)
    label = BAND.label(score)
    keywords = model.keywords(text, KEYWORDS)
    # The label and counts only: what a patient wrote is not the log's business.
    logger.info("%s: %s (%.2f), %d characters, %d keywords", ctx.id, label, score, len(text), len(keywords))
    return {
        "label": label,
        "score": round(score, 4),
        "keywords": keywords,
        "band": {"negative_below": BAND.negative_below, "positive_above": BAND.positive_above},
    }


def score_markdown(result: dict[str, Any], lang: str = "en") -> str:
    """Return the score, where it falls against the band, and a reminder of what the score is, in `lang`."""
    score, band = result["score"], result["band"]
    lo, hi = band["negative_below"], band["positive_above"]
    # A 20-cell bar: where the score sits between 0 and 1 reads faster than the number alone.
    filled = min(20, max(0, round(score * 20)))
    bar = "▓" * filled + "░" * (20 - filled)
    if lang == "zh":
        return (f"**{score:.2f}** `{bar}`\n\n"
                f"snownlp 情感分数（0 = 负面，1 = 正面）。低于 {lo:.2f} 为负面，高于 {hi:.2f} 为正面，"
                f"介于两者之间为中性。分数来自商品评论训练的模型，仅反映语气，不代表对医疗质量的评价。")
    return (f"**{score:.2f}** `{bar}`\n\n"
            f"snownlp's sentiment score (0 = negative, 1 = positive). Below {lo:.2f} is negative, above "
            f"{hi:.2f} positive, and in between neutral. The model was trained on product reviews: the score "
            "reflects tone only, not the quality of care.")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the label in the page's language, the score against the band, and the keywords."""
    zh = lang == "zh"
    keywords = ("、" if zh else ", ").join(result["keywords"])
    if not keywords:
        keywords = "（没有找到关键词）" if zh else "(no keywords found)"
    return {
        "label": LABEL_NAMES[result["label"]]["zh" if zh else "en"],
        "score": score_markdown(result, lang),
        "keywords": keywords,
    }
