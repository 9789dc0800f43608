"""Tests for transport/complaint-router: few-shot head accuracy on held-back complaints, caching, inputs."""

from __future__ import annotations

from tests.demos.harness import DEMOS, Demo, FewShotSuite, run


class TestComplaintRouter(FewShotSuite):
    FOLDER = DEMOS / "transport" / "complaint-router"
    LABELS = {
        "vehicle_condition", "staff_behaviour", "delays_and_schedule", "fares_and_tickets",
        "accessibility", "safety_and_security", "lost_property",
    }
    INPUT = "complaint"
    OUTPUT = "department"
    MIN_TRAIN = 15
    EXPECTED_EXAMPLES = ["delays_and_schedule", "lost_property", "accessibility", "vehicle_condition",
                         "fares_and_tickets"]
    PROBE = "the bus was late"
    BAD_INPUTS = [("   ", "complaint: is empty"), ("x" * 2001, "the limit is 2,000"),
                  ("公交车晚点了四十分钟，司机态度也很差。", "English only")]

    def test_lost_property_is_routed_and_shown_by_name(self, demo: Demo) -> None:
        result = run(demo, complaint="I left my umbrella and a shopping bag on the tram this morning")
        assert result[self.OUTPUT] == "lost_property"
        view = demo[1].present(result, {self.INPUT: "x"})
        assert max(view[self.OUTPUT], key=view[self.OUTPUT].get) == "Lost property"
