"""Tests for healthcare/health-faq with the real MiniLM encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gallery.errors import InputError
from tests.demos.harness import Demo, load_demo, run

DEMO = Path(__file__).resolve().parents[2] / "demos" / "healthcare" / "health-faq"

# Paraphrases written for the test, none of them a question in the FAQ; each names the entry it must find.
PARAPHRASES = [
    ("what's the right way to clean my hands", "How should I wash my hands properly?"),
    ("will antibiotics cure my flu", "Do antibiotics help with a cold or the flu?"),
    ("my friend's face is drooping and he can't talk properly", "What are the warning signs of a stroke?"),
    ("how many hours should a grown-up sleep", "How much sleep do adults need?"),
    ("is it ok for my toddler to watch tv", "How much screen time is OK for young children?"),
    ("a stray dog bit me, what now", "What should I do after a dog or cat bite?"),
    ("how cold does the refrigerator need to be", "What temperature should my fridge be?"),
    ("I want to give up cigarettes", "What is the best way to stop smoking?"),
    ("there's a tick stuck in my skin", "How do I remove a tick safely?"),
    ("crushing pain in my chest spreading down my left arm", "What are the symptoms of a heart attack?"),
    ("I've been coughing for three weeks and sweating at night", "What are the symptoms of tuberculosis?"),
    ("when can I go back to work after a vomiting bug", "How long should I stay at home with a stomach bug like norovirus?"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(DEMO, tmp_path_factory.mktemp("cache"))


def test_faq_is_curated_with_sources() -> None:
    entries = yaml.safe_load((DEMO / "faq.yaml").read_text(encoding="utf-8"))
    assert len(entries) >= 40
    questions = [e["question"] for e in entries]
    assert len(set(questions)) == len(questions)
    for entry in entries:
        assert set(entry) == {"question", "answer", "source"}
        assert entry["answer"].strip() and len(entry["answer"]) < 600
        assert any(body in entry["source"] for body in ("WHO", "CDC", "NHS", "国家卫生健康委员会", "中国疾病预防控制中心"))


@pytest.mark.parametrize(("question", "expected"), PARAPHRASES)
def test_paraphrased_question_finds_its_entry_first(demo, question: str, expected: str) -> None:
    result = run(demo, question=question, top_k=3)
    assert result["matches"][0]["question"] == expected
    assert result["close_match"] is True


def test_matches_are_ranked_and_shaped(demo) -> None:
    result = run(demo, question="how much salt should I eat per day", top_k=5)
    matches = result["matches"]
    assert len(matches) == 5
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert set(matches[0]) == {"question", "answer", "score", "source"}
    assert matches[0]["question"] == "How much salt is too much?"
    assert -1.0 <= scores[-1] <= scores[0] <= 1.0


def test_unrelated_question_is_flagged_as_no_close_match(demo) -> None:
    result = run(demo, question="how do I change the oil in my car engine", top_k=3)
    assert result["close_match"] is False
    view = demo[1].present(result, {})
    assert "No entry in this FAQ is a close match" in view["answer"] and "FAQ 中" not in view["answer"]
    assert "FAQ 中没有与您的问题非常接近的条目" in demo[1].present(result, {}, "zh")["answer"]


def test_present_renders_answer_and_table(demo) -> None:
    result = run(demo, question="how do I stay safe in a heatwave", top_k=3)
    view = demo[1].present(result, {})
    assert view["answer"].startswith("### How can I stay safe during a heatwave?")
    assert "Source: WHO" in view["answer"]
    table = view["matches"]
    assert list(table.columns) == ["Score", "Question", "Answer", "Source"]
    assert len(table) == 3
    chinese = demo[1].present(result, {}, "zh")
    assert "来源: WHO" in chinese["answer"] and list(chinese["matches"].columns) == ["得分", "问题", "回答", "来源"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"question": "   "}, "question: is empty"),
        ({"question": "x" * 501}, "the limit is 500"),
        ({"question": "我应该怎样正确洗手？"}, "English only"),
        ({"question": "sleep", "top_k": 11}, "top_k: must be at most 10"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demo, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, **raw)
    assert message in info.value.message


def test_manifest_examples_run(demo) -> None:
    manifest = demo[0]
    assert len(manifest.examples) >= 3
    for example in manifest.examples:
        result = run(demo, **example)
        assert result["matches"] and result["close_match"]
