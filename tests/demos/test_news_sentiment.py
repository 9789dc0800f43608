"""Tests for finance/news-sentiment: few-shot head accuracy on held-back headlines, caching, inputs."""

from __future__ import annotations

from tests.demos.harness import DEMOS, Demo, FewShotSuite, run


class TestNewsSentiment(FewShotSuite):
    FOLDER = DEMOS / "finance" / "news-sentiment"
    LABELS = {"positive", "negative", "neutral"}
    INPUT = "headline"
    OUTPUT = "label"
    MIN_TRAIN = 30
    EXPECTED_EXAMPLES = ["positive", "negative", "neutral", "negative"]
    PROBE = "profits soar"
    BAD_INPUTS = [("   ", "headline: is empty"), ("x" * 301, "the limit is 300"),
                  ("某银行一季度净利润大幅增长", "English only")]

    def test_a_loss_is_negative_and_shown_by_name(self, demo: Demo) -> None:
        result = run(demo, headline="Shares in the carmaker crash after a surprise loss and a dividend cut")
        assert result[self.OUTPUT] == "negative"
        view = demo[1].present(result, {self.INPUT: "x"})
        assert max(view[self.OUTPUT], key=view[self.OUTPUT].get) == "Negative"
