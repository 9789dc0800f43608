"""Tests for education/subject-classifier: held-out accuracy, the manifest examples, the result shape, bad input."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gallery.context import DemoContext
from gallery.discovery import DemoEntry
from gallery.errors import InputError
from gallery.inputs import coerce_inputs
from gallery.loader import import_demo
from gallery.manifest import load_manifest
from shared.fewshot import head_for, read_examples

DEMO = Path(__file__).resolve().parents[2] / "demos" / "education" / "subject-classifier"
INPUT = "question"
OUTPUT = "subject"
LABELS = {"maths", "physics", "chemistry", "biology", "history", "geography", "literature"}
EXPECTED = ["maths", "physics", "chemistry", "biology", "history", "geography", "literature"]
MIN_TRAIN = 15


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, DemoContext]:
    """Return the demo's manifest, its code and a real context (real model, fresh demo cache)."""
    from gallery.runtime.registry import ModelRegistry

    manifest = load_manifest(DEMO / "demo.yaml")
    code = import_demo(DemoEntry(manifest.id, DEMO, manifest))
    registry = ModelRegistry(cache_dir=Path(os.environ["OPENMODELS_CACHE"]))
    return manifest, code, DemoContext(manifest, DEMO, registry, tmp_path_factory.mktemp("cache"))


def run(demo: tuple[Any, Any, DemoContext], **raw: Any) -> dict[str, Any]:
    """Validate raw inputs as the gallery does, then call predict."""
    manifest, code, ctx = demo
    return code.predict(ctx, **coerce_inputs(manifest, raw))


def test_training_and_heldout_sets_are_separate_and_large_enough() -> None:
    train = read_examples(DEMO / "examples.csv", min_per_label=MIN_TRAIN)
    heldout = read_examples(DEMO / "heldout.csv", min_per_label=5)
    assert {e.label for e in train} == {e.label for e in heldout} == LABELS
    seen = {" ".join(e.text.lower().split()) for e in train}
    assert not [e.text for e in heldout if " ".join(e.text.lower().split()) in seen]
    assert min(Counter(e.label for e in train).values()) >= MIN_TRAIN


def test_heldout_accuracy_is_at_least_90_percent(demo) -> None:
    head = head_for(demo[2])
    heldout = read_examples(DEMO / "heldout.csv", min_per_label=5)
    probs = head.predict_proba([e.text for e in heldout])
    predicted = [head.labels[i] for i in probs.argmax(axis=1)]
    accuracy = float(np.mean([p == e.label for p, e in zip(predicted, heldout)]))
    print(f"{DEMO.name} held-out accuracy: {accuracy:.3f} on {len(heldout)} questions")
    assert accuracy >= 0.90


def test_manifest_examples_get_the_expected_subjects(demo) -> None:
    got = [run(demo, **example)[OUTPUT] for example in demo[0].examples]
    assert got == EXPECTED


def test_result_has_a_probability_per_subject(demo) -> None:
    result = run(demo, **demo[0].examples[0])
    assert set(result["scores"]) == LABELS
    assert abs(sum(result["scores"].values()) - 1) < 1e-3
    assert result["confidence"] == result["scores"][result[OUTPUT]] == max(result["scores"].values())
    view = demo[1].present(result, demo[0].examples[0])
    assert max(view[OUTPUT], key=view[OUTPUT].get) == "Maths"
    chinese = demo[1].present(result, demo[0].examples[0], "zh")[OUTPUT]
    assert set(demo[1].module.LABELS_ZH) == LABELS and max(chinese, key=chinese.get) == "数学"


@pytest.mark.parametrize(
    ("value", "message"),
    [("   ", "question: is empty"), ("photosynthesis", "write the whole question"),
     ("为什么天空是蓝色的？请解释一下。", "English only"), ("x" * 501, "the limit is 500")],
)
def test_bad_input_is_refused_with_a_clear_message(demo, value: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, **{INPUT: value})
    assert message in info.value.message
