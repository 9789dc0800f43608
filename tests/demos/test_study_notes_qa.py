"""Tests for education/study-notes-qa with the real encoders: MiniLM (English) and USE-multilingual (Chinese)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from gallery.checks.bilingual import has_chinese
from gallery.errors import InputError
from tests.demos.harness import Demo, load_demo, run

DEMO = Path(__file__).resolve().parents[2] / "demos" / "education" / "study-notes-qa"
SAMPLE = (DEMO / "sample_notes.md").read_text(encoding="utf-8")
SAMPLE_ZH = (DEMO / "sample_notes_zh.md").read_text(encoding="utf-8")
# Top-1 accuracy on heldout.csv (README.md, "Accuracy"): English 13/14 with MiniLM (as before Chinese support),
# Chinese 12/14 with USE-multilingual. Each floor leaves one more miss of margin.
HELDOUT_FLOOR = {"en": 0.85, "zh": 0.78}

CHINESE_NOTES = """细胞是生物体结构和功能的基本单位。植物细胞有细胞壁、液泡和叶绿体，动物细胞没有。

细胞膜控制物质进出细胞，对细胞有用的物质可以进入，有害的物质不能轻易进入。

细胞分裂时，细胞核先一分为二，随后细胞质分成两份，一个细胞就变成了两个细胞。"""

PASTED = """Volcanoes form where magma reaches the surface. Most are found along plate boundaries.

At constructive boundaries, such as the Mid-Atlantic Ridge, plates move apart and magma rises to fill the gap.
These volcanoes usually have runny basaltic lava and gentle eruptions.

At destructive boundaries an oceanic plate sinks beneath a continental plate. The sinking plate melts,
and the thick, sticky magma produces explosive eruptions, like Mount St Helens in 1980.

People live near volcanoes because volcanic soil is very fertile, and geothermal energy and tourism provide jobs.
"""

# Sample-notes questions worded unlike the notes, and a phrase only the right passage contains.
SAMPLE_QUESTIONS = [
    ("What happens in the Calvin cycle?", "also called the Calvin cycle"),
    ("Why is starch used to store food rather than glucose?", "Starch is used for storage because it is insoluble"),
    ("why do I keep panting after a run?", "oxygen debt"),
    ("How do farmers get bigger crops in greenhouses?", "Paraffin heaters"),
    ("what does the inverse square law mean in the pondweed experiment", "inverse square law"),
    ("How does yeast make bread rise?", "fermentation"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(DEMO, tmp_path_factory.mktemp("cache"))


def test_sample_notes_are_a_few_thousand_characters() -> None:
    assert 3000 <= len(SAMPLE) <= 20000
    assert SAMPLE.startswith("# Biology revision notes")


@pytest.mark.parametrize(("question", "phrase"), SAMPLE_QUESTIONS)
def test_right_sample_passage_comes_first_with_exact_offsets(demo, question: str, phrase: str) -> None:
    result = run(demo, use_sample=True, question=question, top_k=3)
    assert result["notes_source"] == "sample"
    passages = result["passages"]
    assert len(passages) == 3
    assert phrase in passages[0]["text"]
    for p in passages:
        assert SAMPLE[p["start"] : p["end"]] == p["text"]
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_pasted_notes_offsets_are_exact(demo) -> None:
    result = run(demo, notes=PASTED, question="why do people choose to live close to volcanoes?", top_k=4)
    assert result["notes_source"] == "pasted"
    assert result["passage_count"] == 4
    best = result["passages"][0]
    assert best["text"].startswith("People live near volcanoes")
    for p in result["passages"]:
        assert PASTED[p["start"] : p["end"]] == p["text"]
    second = run(demo, notes=PASTED, question="Which volcanoes erupt explosively?", top_k=1)
    assert "explosive eruptions" in second["passages"][0]["text"]


def test_top_k_is_capped_by_the_number_of_passages(demo) -> None:
    result = run(demo, notes="Only one short passage about rivers.", question="rivers", top_k=10)
    assert len(result["passages"]) == 1
    assert result["passages"][0] == {**result["passages"][0], "start": 0, "end": 36}


def test_present_highlights_passages_in_the_notes(demo) -> None:
    inputs = {"notes": PASTED, "use_sample": False, "question": "plates moving apart", "top_k": 2}
    result = run(demo, **inputs)
    view = demo[1].present(result, inputs)
    segments = view["highlighted"]
    assert "".join(text for text, _ in segments) == PASTED
    labelled = {label: text for text, label in segments if label}
    assert set(labelled) == {"#1", "#2"}
    assert labelled["#1"] == result["passages"][0]["text"]
    assert list(view["passages"].columns) == ["Rank", "Score", "Passage"]
    assert list(demo[1].present(result, inputs, "zh")["passages"].columns) == ["排名", "得分", "段落"]
    sample_view = demo[1].present(run(demo, use_sample=True, question="What is respiration?", top_k=1), {})
    assert "".join(text for text, _ in sample_view["highlighted"]) == SAMPLE


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"notes": "", "question": "what is ATP?"}, "notes: are empty; paste your notes, or tick"),
        ({"notes": " \n\t ", "question": "what is ATP?"}, "notes: are empty"),
        ({"use_sample": True, "question": "  "}, "question: is empty"),
        ({"notes": "a" * 50_001, "question": "what?"}, "notes: is 50,001 characters long; the limit is 50,000"),
        ({"notes": "こうごうせいはしょくぶつがひかりをつかうしくみです。", "question": "what is photosynthesis?"},
         "notes: please write in English or Chinese"),
        ({"use_sample": True, "question": "광합성이란 무엇입니까?"}, "question: please write in English or Chinese"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demo, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, **raw)
    assert message in info.value.message


def test_long_notes_up_to_the_limit_work(demo) -> None:
    notes = "\n\n".join(PASTED for _ in range(40))[:50_000]
    result = run(demo, notes=notes, question="fertile soil near volcanoes", top_k=3)
    for p in result["passages"]:
        assert notes[p["start"] : p["end"]] == p["text"]
        assert "fertile" in p["text"]


def test_manifest_examples_run(demo) -> None:
    for example in demo[0].examples:
        result = run(demo, **example)
        assert result["passages"]
    pasted = [e for e in demo[0].examples if not e.get("use_sample")]
    assert pasted, "one example should show pasted notes"


def test_chinese_sample_notes_cover_the_same_topics() -> None:
    assert 1000 <= len(SAMPLE_ZH) <= 20000
    assert SAMPLE_ZH.startswith("# 生物复习笔记") and SAMPLE.count("\n## ") == SAMPLE_ZH.count("\n## ")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_heldout_accuracy_stays_at_its_measured_level(demo, language: str) -> None:
    rows = [r for r in csv.DictReader((DEMO / "heldout.csv").open(encoding="utf-8")) if r["language"] == language]
    assert len(rows) >= 12
    notes = SAMPLE_ZH if language == "zh" else SAMPLE
    misses = []
    for row in rows:
        assert row["phrase"] in notes, row
        result = run(demo, use_sample=True, question=row["question"], top_k=1)
        assert result["language"] == result["notes_language"] == language
        if row["phrase"] not in result["passages"][0]["text"]:
            misses.append((row["question"], result["passages"][0]["text"][:60]))
    accuracy = 1 - len(misses) / len(rows)
    assert accuracy >= HELDOUT_FLOOR[language], (accuracy, misses)


def test_a_chinese_question_is_answered_from_the_chinese_sample_notes(demo) -> None:
    inputs = {"use_sample": True, "question": "跑完步以后为什么还要大口喘气？", "top_k": 3}
    result = run(demo, **inputs)
    assert result["notes_language"] == "zh"
    assert "氧债" in result["passages"][0]["text"]
    for p in result["passages"]:
        assert SAMPLE_ZH[p["start"] : p["end"]] == p["text"] and has_chinese(p["text"])
    for lang in ("zh", "en"):
        view = demo[1].present(result, inputs, lang)
        assert "".join(text for text, _ in view["highlighted"]) == SAMPLE_ZH


def test_pasted_chinese_notes_answer_a_question_in_either_language(demo) -> None:
    for question in ("植物细胞和动物细胞有什么不同？", "How are plant cells different from animal cells?"):
        result = run(demo, notes=CHINESE_NOTES, question=question, top_k=1)
        assert result["notes_language"] == "zh"
        assert result["passages"][0]["text"].startswith("细胞是生物体结构和功能的基本单位")
        assert CHINESE_NOTES[result["passages"][0]["start"] : result["passages"][0]["end"]] == result["passages"][0]["text"]
