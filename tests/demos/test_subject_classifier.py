"""Tests for education/subject-classifier: held-out accuracy, the manifest examples, the result shape, bad input."""

from __future__ import annotations

from tests.demos.harness import DEMOS, Demo, FewShotSuite, run


class TestSubjectClassifier(FewShotSuite):
    FOLDER = DEMOS / "education" / "subject-classifier"
    LABELS = {"maths", "physics", "chemistry", "biology", "history", "geography", "literature"}
    INPUT = "question"
    OUTPUT = "subject"
    MIN_ACCURACY = 0.90
    EXPECTED_EXAMPLES = ["maths", "physics", "chemistry", "biology", "history", "geography", "literature"]
    PROBE = "why is the sky blue"
    BAD_INPUTS = [("   ", "question: is empty"), ("photosynthesis", "write at least 2 words"),
                  ("为什么天空是蓝色的？请解释一下。", "English only"), ("x" * 501, "the limit is 500")]

    def test_subjects_are_named_in_the_visitors_language(self, demo: Demo) -> None:
        result = run(demo, **demo[0].examples[0])
        english = demo[1].present(result, demo[0].examples[0], "en")[self.OUTPUT]
        chinese = demo[1].present(result, demo[0].examples[0], "zh")[self.OUTPUT]
        assert max(english, key=english.get) == "Maths" and max(chinese, key=chinese.get) == "数学"
