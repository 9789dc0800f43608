"""Tests for healthcare/patient-feedback-zh with the real snownlp model: calibrated band, held-out accuracy, refusals."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gallery.checks.bilingual import has_chinese
from gallery.errors import InputError
from shared.sentiment_zh import accuracy, calibrate, read_labelled
from tests.demos.harness import Demo, load_demo, run

FOLDER = Path(__file__).resolve().parents[2] / "demos" / "healthcare" / "patient-feedback-zh"
# Measured in development: 0.600 (27/45) on the three labels, 0.767 (23/30) positive versus negative.
# Chance on three balanced labels is 0.33; the margins catch a broken band or model, not noise.
MIN_ACCURACY = 0.50
MIN_POLARITY = 0.70
EXPECTED_EXAMPLES = ["positive", "negative", "neutral", "neutral"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(FOLDER, tmp_path_factory.mktemp("cache"))


def scores_of(demo: Demo, rows: list[tuple[str, str]]) -> list[float]:
    """Return the demo's score for each text, through predict."""
    return [run(demo, feedback=text)["score"] for text, _ in rows]


def test_calibration_and_heldout_sets_are_separate_balanced_and_large_enough() -> None:
    calibration, heldout = read_labelled(FOLDER / "calibration.csv"), read_labelled(FOLDER / "heldout.csv")
    assert len(calibration) >= 60 and len(heldout) >= 45
    assert min(Counter(label for _, label in calibration).values()) >= 20
    assert min(Counter(label for _, label in heldout).values()) >= 15
    assert not {text for text, _ in calibration} & {text for text, _ in heldout}
    assert all(has_chinese(text) for text, _ in calibration + heldout)


def test_the_band_in_app_is_the_one_calibrated_on_calibration_csv(demo: Demo) -> None:
    rows = read_labelled(FOLDER / "calibration.csv")
    band = calibrate(scores_of(demo, rows), [label for _, label in rows])
    assert band == demo[1].module.BAND, f"recalibrated {band}; update BAND in app.py and the model card"
    assert 0 < band.negative_below < 0.5 < band.positive_above < 1


def test_heldout_accuracy_with_the_neutral_band(demo: Demo) -> None:
    rows = read_labelled(FOLDER / "heldout.csv")
    scores, labels = scores_of(demo, rows), [label for _, label in rows]
    three = accuracy(scores, labels, demo[1].module.BAND)
    polar = [(s, gold) for s, gold in zip(scores, labels) if gold != "neutral"]
    polarity = sum((s > 0.5) == (gold == "positive") for s, gold in polar) / len(polar)
    print(f"patient-feedback-zh held-out: {three:.3f} on {len(rows)} (3 labels), "
          f"{polarity:.3f} on {len(polar)} (positive vs negative)")
    assert three >= MIN_ACCURACY
    assert polarity >= MIN_POLARITY


def test_manifest_examples_get_the_expected_labels_and_keywords_from_the_text(demo: Demo) -> None:
    results = [run(demo, **example) for example in demo[0].examples]
    assert [r["label"] for r in results] == EXPECTED_EXAMPLES
    for example, result in zip(demo[0].examples, results):
        assert 0.0 <= result["score"] <= 1.0
        assert 1 <= len(result["keywords"]) <= 5
        assert all(len(word) >= 2 and word in example["feedback"] for word in result["keywords"])
    assert "打针" in results[0]["keywords"] and "排队" in results[1]["keywords"]


def test_result_is_shown_in_one_language(demo: Demo) -> None:
    code = demo[1]
    inputs = {"feedback": demo[0].examples[0]["feedback"]}
    result = run(demo, **inputs)
    english, chinese = code.present(result, inputs, "en"), code.present(result, inputs, "zh")
    assert english["label"] == "Positive" and chinese["label"] == "正面"
    assert not has_chinese(english["score"]) and "neutral" in english["score"]
    assert has_chinese(chinese["score"]) and "中性" in chinese["score"]
    # Keywords are the patient's own words: Chinese in both languages, only the separator changes.
    assert english["keywords"] == ", ".join(result["keywords"]) and chinese["keywords"] == "、".join(result["keywords"])
    for label in ("positive", "neutral", "negative"):
        shown = code.present({**result, "label": label}, inputs, "en")["label"]
        assert not has_chinese(shown) and has_chinese(code.present({**result, "label": label}, inputs, "zh")["label"])


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("   ", "is empty"),
        ("The nurses were very kind and the doctor explained everything.", "has no Chinese characters"),
        ("The nurses were very kind, 谢谢, and the doctor explained everything.", "mostly not Chinese"),
        ("12345 !!!", "has no Chinese characters"),
        ("ありがとうございました", "has no Chinese characters"),
        ("医生很好。" * 201, "1,000"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demo: Demo, value: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, feedback=value)
    assert fragment in info.value.message, (value[:40], info.value.message)


def test_traditional_characters_and_a_little_english_are_read(demo: Demo) -> None:
    result: dict[str, Any] = run(demo, feedback="護士態度很好，CT 檢查也很快，非常感謝。")
    assert result["label"] in {"positive", "neutral", "negative"} and 0 <= result["score"] <= 1
