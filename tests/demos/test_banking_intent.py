"""Tests for finance/banking-intent: few-shot head accuracy on held-back messages, caching, inputs."""

from __future__ import annotations

from tests.demos.harness import DEMOS, Demo, FewShotSuite, run


class TestBankingIntent(FewShotSuite):
    FOLDER = DEMOS / "finance" / "banking-intent"
    LABELS = {
        "card_lost_or_stolen", "check_balance", "transfer_money", "loan_or_mortgage",
        "report_fraud", "dispute_charge", "open_account", "talk_to_human",
    }
    INPUT = "message"
    OUTPUT = "intent"
    MIN_TRAIN = 15
    EXPECTED_EXAMPLES = ["card_lost_or_stolen", "check_balance", "report_fraud", "dispute_charge", "talk_to_human"]
    PROBE = "what's my balance"
    BAD_INPUTS = [("   ", "message: is empty"), ("x" * 1001, "the limit is 1,000"),
                  ("我的银行卡丢了，怎么办？", "English only")]

    def test_a_lost_card_is_routed_and_shown_by_name(self, demo: Demo) -> None:
        result = run(demo, message="Someone nicked my purse with my debit card in it")
        assert result[self.OUTPUT] == "card_lost_or_stolen"
        view = demo[1].present(result, {self.INPUT: "x"})
        assert max(view[self.OUTPUT], key=view[self.OUTPUT].get) == "Card lost or stolen"
