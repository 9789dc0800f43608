"""Tests for healthcare/health-faq with the real encoders: MiniLM (English) and USE-multilingual (Chinese)."""

from __future__ import annotations

import csv
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


# Chinese questions written for the test (none in the FAQ or heldout.csv); each names the Chinese entry it must find.
ZH_PARAPHRASES = [
    ("饭前应该怎么洗手才算洗干净？", "如何正确洗手？"),
    ("得了流感要不要吃抗生素？", "抗生素能治感冒或流感吗？"),
    ("晚上睡几个钟头对成年人最好？", "成年人需要睡多久？"),
    ("怎么才能把烟戒掉？", "戒烟最好的方法是什么？"),
    ("新生儿的乙肝疫苗什么时候打？", "新生儿什么时候接种乙肝疫苗？"),
]
# Held-out top-1 accuracy measured on heldout.csv (README.md, "Accuracy"): English 38/38 with MiniLM, Chinese
# 38/42 with USE-multilingual. The floors leave one English and two more Chinese misses of margin.
HELDOUT_FLOOR = {"en": 0.97, "zh": 0.85}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(DEMO, tmp_path_factory.mktemp("cache"))


def test_faq_is_curated_with_sources() -> None:
    entries = yaml.safe_load((DEMO / "faq.yaml").read_text(encoding="utf-8"))
    assert len(entries) >= 40
    questions = [e["question"] for e in entries]
    assert len(set(questions)) == len(questions)
    assert len({e["question_zh"] for e in entries}) == len(entries)
    for entry in entries:
        # Every entry has its Chinese version, so a Chinese question is answered in Chinese.
        assert set(entry) == {"question", "answer", "source", "question_zh", "answer_zh"}
        assert entry["answer"].strip() and len(entry["answer"]) < 600
        assert entry["answer_zh"].strip() and len(entry["answer_zh"]) < 300
        assert any(body in entry["source"] for body in ("WHO", "CDC", "NHS", "国家卫生健康委员会", "中国疾病预防控制中心"))


@pytest.mark.parametrize(("question", "expected"), PARAPHRASES)
def test_paraphrased_question_finds_its_entry_first(demo, question: str, expected: str) -> None:
    result = run(demo, question=question, top_k=3)
    assert result["matches"][0]["question"] == expected
    assert result["close_match"] is True


@pytest.mark.parametrize(("question", "expected"), ZH_PARAPHRASES)
def test_chinese_question_finds_its_entry_first_in_chinese(demo, question: str, expected: str) -> None:
    result = run(demo, question=question, top_k=3)
    assert result["language"] == "zh"
    assert result["matches"][0]["question"] == expected
    assert result["close_match"] is True


@pytest.mark.parametrize("language", ["en", "zh"])
def test_heldout_accuracy_stays_at_its_measured_level(demo, language: str) -> None:
    rows = [r for r in csv.DictReader((DEMO / "heldout.csv").open(encoding="utf-8")) if r["language"] == language]
    assert len(rows) >= 30
    entries = yaml.safe_load((DEMO / "faq.yaml").read_text(encoding="utf-8"))
    shown = {e["question"]: e["question_zh" if language == "zh" else "question"] for e in entries}
    assert all(r["expected"] in shown for r in rows), "heldout.csv names an entry the FAQ does not have"
    misses = []
    for row in rows:
        result = run(demo, question=row["question"], top_k=1)
        assert result["language"] == language
        if result["matches"][0]["question"] != shown[row["expected"]]:
            misses.append((row["question"], result["matches"][0]["question"]))
    accuracy = 1 - len(misses) / len(rows)
    assert accuracy >= HELDOUT_FLOOR[language], (accuracy, misses)


def test_chinese_answer_is_presented_in_chinese_under_either_interface_language(demo) -> None:
    result = run(demo, question="被流浪狗咬了一口，要打针吗？", top_k=3)
    best = result["matches"][0]
    assert best["question"] == "被狗或猫咬伤后怎么办？" and "狂犬病" in best["answer"]
    assert best["source"].startswith("National Health Commission of China")
    for lang in ("zh", "en"):
        view = demo[1].present(result, {}, lang)
        assert view["answer"].startswith("### 被狗或猫咬伤后怎么办？")
        assert view["matches"]["问题" if lang == "zh" else "Question"].iloc[0] == "被狗或猫咬伤后怎么办？"


def test_chinese_description_of_stroke_symptoms_ranks_the_stroke_entry_in_the_first_three(demo) -> None:
    # A known weakness (README.md, "Limitations"): described symptoms in Chinese match less surely than in English.
    for question in ("我爸爸突然一边脸耷拉下来，手也抬不起来", "突然说话含糊不清，一侧手臂没力气"):
        result = run(demo, question=question, top_k=3)
        assert "中风有哪些征兆？" in [m["question"] for m in result["matches"]]


def test_question_in_chinese_script_with_latin_words_is_read_as_chinese(demo) -> None:
    result = run(demo, question="HPV疫苗几岁打比较好？", top_k=3)
    assert result["language"] == "zh"
    assert result["matches"][0]["question"] == "哪些人应该接种HPV疫苗？"


def test_unrelated_chinese_question_is_flagged_as_no_close_match(demo) -> None:
    for question in ("今天股票行情怎么样？", "信用卡逾期了怎么办？"):
        result = run(demo, question=question, top_k=3)
        assert result["language"] == "zh" and result["close_match"] is False, result["matches"][0]


def test_matches_are_ranked_and_shaped(demo) -> None:
    result = run(demo, question="how much salt should I eat per day", top_k=5)
    matches = result["matches"]
    assert len(matches) == 5
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert set(matches[0]) == {"question", "answer", "score", "source"}
    assert matches[0]["question"] == "How much salt is too much?"
    assert result["language"] == "en"
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
        ({"question": "손을 어떻게 씻어야 하나요?"}, "English or Chinese"),
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
