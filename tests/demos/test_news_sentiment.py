"""Tests for finance/news-sentiment: few-shot head accuracy on held-back headlines, caching, inputs."""

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

DEMO = Path(__file__).resolve().parents[2] / "demos" / "finance" / "news-sentiment"
LABELS = {"positive", "negative", "neutral"}
OUTPUT = "label"
INPUT = "headline"
MIN_TRAIN = 30


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, DemoContext]:
    """Return the demo's manifest, code and a real context (shared encoder, fresh demo cache)."""
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
    assert min(Counter(e.label for e in heldout).values()) >= 5


def test_heldout_accuracy_is_at_least_85_percent(demo) -> None:
    head = head_for(demo[2])
    heldout = read_examples(DEMO / "heldout.csv", min_per_label=5)
    probs = head.predict_proba([e.text for e in heldout])
    predicted = [head.labels[i] for i in probs.argmax(axis=1)]
    accuracy = float(np.mean([p == e.label for p, e in zip(predicted, heldout)]))
    print(f"{DEMO.name} held-out accuracy: {accuracy:.3f} on {len(heldout)} examples")
    assert accuracy >= 0.85


def test_predict_returns_label_and_scores(demo) -> None:
    result = run(demo, headline="Shares in the carmaker crash after a surprise loss and a dividend cut")
    assert result[OUTPUT] == "negative"
    assert set(result["scores"]) == LABELS
    assert result["confidence"] == max(result["scores"].values()) == result["scores"][result[OUTPUT]]
    assert abs(sum(result["scores"].values()) - 1) < 1e-3
    view = demo[1].present(result, {INPUT: "x"})
    assert max(view[OUTPUT], key=view[OUTPUT].get) == "Negative"


def test_head_is_cached_by_csv_hash(demo, tmp_path: Path) -> None:
    manifest, _, ctx = demo
    first = head_for(ctx)
    assert first.cache_path is not None and first.cache_path.parent == ctx.demo_cache_dir()
    # A new process (fresh context) with the same cache loads the head instead of training it.
    fresh = DemoContext(manifest, DEMO, ctx.registry, ctx.cache_dir)
    again = head_for(fresh)
    assert again.loaded_from_cache and again.cache_path == first.cache_path
    assert again.predict("profits soar") == first.predict("profits soar")


def test_examples_in_manifest_are_routed_sensibly(demo) -> None:
    expected = ["positive", "negative", "neutral", "negative"]
    got = [run(demo, **example)[OUTPUT] for example in demo[0].examples]
    assert got == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("   ", "headline: is empty"), ("x" * 301, "the limit is 300"), ("某银行一季度净利润大幅增长", "English only")],
)
def test_bad_input_is_refused_with_a_clear_message(demo, value: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, **{INPUT: value})
    assert message in info.value.message
