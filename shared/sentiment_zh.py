"""Chinese sentiment with snownlp: its 0-1 score, a neutral band calibrated on labelled text, and keywords."""

from __future__ import annotations

import csv
import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.chinese import HAN

logger = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
# Thresholds are searched on this grid: finer steps only fit the calibration set's noise.
GRID_STEP = 0.01


@dataclass(frozen=True)
class Band:
    """The neutral band: scores below `negative_below` are negative, above `positive_above` positive."""

    negative_below: float
    positive_above: float

    def label(self, score: float) -> str:
        """Return the label of a snownlp score."""
        if score < self.negative_below:
            return "negative"
        if score > self.positive_above:
            return "positive"
        return "neutral"


class SnowSentiment:
    """snownlp's naive Bayes sentiment (trained on Chinese product reviews) and its TextRank keywords."""

    backend = "snownlp"

    def __init__(self) -> None:
        # Importing snownlp.sentiment reads its word counts (a few seconds): once, here, not per request.
        from snownlp import SnowNLP
        from snownlp import sentiment as _sentiment  # noqa: F401  (loads the classifier now, not on first call)

        self._snow = SnowNLP

    def score(self, text: str) -> float:
        """Return snownlp's probability that the text is positive (0 = negative, 1 = positive)."""
        return float(self._snow(text).sentiments)

    def keywords(self, text: str, count: int = 5) -> list[str]:
        """Return up to `count` keywords (TextRank over snownlp's words), Chinese words of two or more characters."""
        # Single characters are mostly particles or pieces of a badly cut word (护|士): ask for more, keep words.
        found = self._snow(text).keywords(count * 4)
        words: list[str] = []
        for word in found:
            if len(word) >= 2 and all(HAN.match(ch) for ch in word) and word not in words:
                words.append(word)
        # TextRank's order is by rank; show them in the order the text uses them, which reads better.
        ranked = words[:count]
        return sorted(ranked, key=lambda w: text.find(w))


def load_snownlp(path: Path, options: dict[str, Any]) -> SnowSentiment:
    """Build the snownlp sentiment model from its package folder (the runtime's `custom` factory)."""
    logger.info("sentiment_zh: loading snownlp sentiment from %s", path)
    return SnowSentiment()


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """Return the (text, label) rows of a CSV with `text` and `label` columns; labels must be known."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(row["text"].strip(), row["label"].strip()) for row in csv.DictReader(handle)]
    unknown = sorted({label for _, label in rows} - set(LABELS))
    if unknown:
        raise ValueError(f"{path.name}: unknown labels {unknown}; use {list(LABELS)}")
    return rows


def accuracy(scores: list[float], labels: list[str], band: Band) -> float:
    """Return the share of scores whose band label equals the given label."""
    return sum(band.label(s) == gold for s, gold in zip(scores, labels)) / len(labels)


def calibrate(scores: list[float], labels: list[str]) -> Band:
    """Return the band with the best accuracy on (scores, labels); among ties, the median of the tied cut-offs."""
    steps = round(1 / GRID_STEP)
    grid = [round(i * GRID_STEP, 2) for i in range(1, steps)]
    results = [(accuracy(scores, labels, Band(lo, hi)), lo, hi) for lo in grid for hi in grid if hi >= lo]
    best = max(r[0] for r in results)
    tied = [r for r in results if r[0] == best]
    # Many bands tie on a small set; the middle of the tied region is the least fitted to its particular scores.
    lo = round(statistics.median_low(sorted(r[1] for r in tied)), 2)
    his = sorted(r[2] for r in tied if r[1] == lo)
    return Band(lo, round(statistics.median_low(his), 2))
