"""Tests for education/subject-classifier: held-out accuracy, the manifest examples, the result shape, bad input."""

from __future__ import annotations

from tests.demos.harness import DEMOS, Demo, FewShotSuite, run


class TestSubjectClassifier(FewShotSuite):
    FOLDER = DEMOS / "education" / "subject-classifier"
    LABELS = {"maths", "physics", "chemistry", "biology", "history", "geography", "literature"}
    INPUT = "question"
    OUTPUT = "subject"
    # Held-out accuracy (README.md): English 48/49 with MiniLM, Chinese 34/35 with USE-multilingual; the Chinese
    # floor leaves two more misses of margin.
    MIN_ACCURACY = 0.90
    MIN_ACCURACY_ZH = 0.91
    EXPECTED_EXAMPLES = ["maths", "physics", "chemistry", "biology", "history", "geography", "literature",
                         "physics", "literature"]
    PROBE = "why is the sky blue"
    BAD_INPUTS = [("   ", "question: is empty"), ("photosynthesis", "write at least 2 words"),
                  ("光合", "write at least 2 words"), ("なぜそらはあおいのですか", "English or Chinese"),
                  ("x" * 501, "the limit is 500")]

    def test_subjects_are_named_in_the_visitors_language(self, demo: Demo) -> None:
        result = run(demo, **demo[0].examples[0])
        english = demo[1].present(result, demo[0].examples[0], "en")[self.OUTPUT]
        chinese = demo[1].present(result, demo[0].examples[0], "zh")[self.OUTPUT]
        assert max(english, key=english.get) == "Maths" and max(chinese, key=chinese.get) == "数学"

    def test_a_chinese_question_gets_its_subject_named_in_either_language(self, demo: Demo) -> None:
        result = run(demo, question="为什么天空是蓝色的？请解释一下。")
        assert result[self.OUTPUT] == "physics"
        for lang, name in (("zh", "物理"), ("en", "Physics")):
            view = demo[1].present(result, {self.INPUT: "x"}, lang)[self.OUTPUT]
            assert max(view, key=view.get) == name
