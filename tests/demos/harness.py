"""Load a real demo the way the gallery does, and the checks every few-shot classifier demo shares."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from gallery.checks.bilingual import has_chinese
from gallery.context import DemoContext
from gallery.discovery import DemoEntry
from gallery.errors import InputError
from gallery.inputs import coerce_inputs
from gallery.loader import import_demo
from gallery.manifest import load_manifest
from shared.chinese import han_share
from shared.fewshot import FewShotClassifier, head_for, read_examples

DEMOS = Path(__file__).resolve().parents[2] / "demos"
Demo = tuple[Any, Any, DemoContext]


def load_demo(folder: Path, cache_dir: Path) -> Demo:
    """Return the demo's manifest, code and a real context (the session's model cache, a fresh demo cache)."""
    from gallery.runtime.registry import ModelRegistry

    manifest = load_manifest(folder / "demo.yaml")
    code = import_demo(DemoEntry(manifest.id, folder, manifest))
    registry = ModelRegistry(cache_dir=Path(os.environ["OPENMODELS_CACHE"]))
    return manifest, code, DemoContext(manifest, folder, registry, cache_dir)


def run(demo: Demo, **raw: Any) -> dict[str, Any]:
    """Validate raw inputs as the gallery does, then call predict."""
    manifest, code, ctx = demo
    return code.predict(ctx, **coerce_inputs(manifest, raw))


def run_ui(demo: Demo, **raw: Any) -> dict[str, Any]:
    """Validate raw inputs as the gallery's UI does (local file paths allowed), then call predict."""
    manifest, code, ctx = demo
    return code.predict(ctx, **coerce_inputs(manifest, raw, allow_paths=True))


class FewShotSuite:
    """Tests shared by the demos built on shared.fewshot; a subclass names the demo and its expectations."""

    FOLDER: ClassVar[Path]
    LABELS: ClassVar[set[str]]
    INPUT: ClassVar[str]
    OUTPUT: ClassVar[str]
    MIN_TRAIN: ClassVar[int] = 15
    MIN_ACCURACY: ClassVar[float] = 0.85  # on the held-out rows that are not Chinese
    MIN_ACCURACY_ZH: ClassVar[float | None] = None  # on the Chinese held-out rows, for a demo that reads Chinese
    EXPECTED_EXAMPLES: ClassVar[list[str]]  # the label of each manifest example, in order
    PROBE: ClassVar[str]  # any text, to compare a cached head with a freshly trained one
    BAD_INPUTS: ClassVar[list[tuple[str, str]]]  # (value, fragment of the message)

    @pytest.fixture(scope="class")
    def demo(self, tmp_path_factory: pytest.TempPathFactory) -> Demo:
        """Return the real demo with its own demo cache."""
        return load_demo(self.FOLDER, tmp_path_factory.mktemp("cache"))

    def test_training_and_heldout_sets_are_separate_and_large_enough(self) -> None:
        train = read_examples(self.FOLDER / "examples.csv", min_per_label=self.MIN_TRAIN)
        heldout = read_examples(self.FOLDER / "heldout.csv", min_per_label=5)
        assert {e.label for e in train} == {e.label for e in heldout} == self.LABELS
        seen = {" ".join(e.text.lower().split()) for e in train}
        assert not [e.text for e in heldout if " ".join(e.text.lower().split()) in seen]
        assert min(Counter(e.label for e in train).values()) >= self.MIN_TRAIN
        assert min(Counter(e.label for e in heldout).values()) >= 5

    @staticmethod
    def head(demo: Demo, language: str = "en") -> FewShotClassifier:
        """Return the head the demo reads text of the language with (its only head, for a demo without one)."""
        app = demo[1].module
        return app.head(demo[2], language) if hasattr(app, "head") else head_for(demo[2])

    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_heldout_accuracy(self, demo: Demo, language: str) -> None:
        floor = self.MIN_ACCURACY if language == "en" else self.MIN_ACCURACY_ZH
        heldout = [e for e in read_examples(self.FOLDER / "heldout.csv", min_per_label=5)
                   if (han_share(e.text) >= 0.5) == (language == "zh")]
        if floor is None:
            assert not heldout, "Chinese held-out rows but no MIN_ACCURACY_ZH: say how well the demo reads them"
            pytest.skip("the demo reads no Chinese")
        # At least 4 per label, so a floor says something of every label.
        assert min(Counter(e.label for e in heldout)[label] for label in self.LABELS) >= 4
        head = self.head(demo, language)
        probs = head.predict_proba([e.text for e in heldout])
        predicted = [head.labels[i] for i in probs.argmax(axis=1)]
        accuracy = float(np.mean([p == e.label for p, e in zip(predicted, heldout)]))
        print(f"{self.FOLDER.name} {language} held-out accuracy: {accuracy:.3f} on {len(heldout)} examples")
        assert accuracy >= floor, [(e.text, p) for p, e in zip(predicted, heldout) if p != e.label]

    def test_result_has_a_probability_per_label(self, demo: Demo) -> None:
        result = run(demo, **demo[0].examples[0])
        assert set(result["scores"]) == self.LABELS
        assert abs(sum(result["scores"].values()) - 1) < 1e-3
        assert result["confidence"] == result["scores"][result[self.OUTPUT]] == max(result["scores"].values())

    def test_head_is_cached_by_csv_hash(self, demo: Demo) -> None:
        manifest, _, ctx = demo
        first = self.head(demo)
        assert first.cache_path is not None and first.cache_path.parent == ctx.demo_cache_dir()
        # A new process (fresh context) with the same cache loads the head instead of training it.
        fresh = DemoContext(manifest, self.FOLDER, ctx.registry, ctx.cache_dir)
        again = self.head((manifest, demo[1], fresh))
        assert again.loaded_from_cache and again.cache_path == first.cache_path
        assert again.predict(self.PROBE) == first.predict(self.PROBE)

    def test_manifest_examples_get_the_expected_labels(self, demo: Demo) -> None:
        assert [run(demo, **example)[self.OUTPUT] for example in demo[0].examples] == self.EXPECTED_EXAMPLES

    def test_labels_are_shown_in_one_language(self, demo: Demo) -> None:
        # Every label needs its name in both languages (app.options.labels in demo.yaml): one language at a time.
        scores = {label: 1 / len(self.LABELS) for label in sorted(self.LABELS)}
        chinese = demo[1].present({"scores": scores}, {}, "zh")[self.OUTPUT]
        english = demo[1].present({"scores": scores}, {}, "en")[self.OUTPUT]
        assert len(chinese) == len(english) == len(self.LABELS)
        assert all(has_chinese(name) for name in chinese) and not any(has_chinese(name) for name in english)

    def test_bad_input_is_refused_with_a_clear_message(self, demo: Demo) -> None:
        for value, fragment in self.BAD_INPUTS:
            with pytest.raises(InputError) as info:
                run(demo, **{self.INPUT: value})
            assert fragment in info.value.message, (value[:40], info.value.message)
