"""Tests for shared.fewshot: CSV validation with file:line errors, training, caching by CSV hash."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gallery.errors import InputError
from gallery.loader import DemoCodeError
from gallery.manifest import load_manifest
from shared.chinese import word_count
from shared.fewshot import (ExamplesError, FewShotClassifier, TextClassifier, TextClassifierOptions, parse_examples,
                            read_examples, select_rows, text_classifier)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demos" / "finance" / "banking-intent"

SMALL_CSV = """text,label
my card is gone,card
I lost my debit card,card
someone stole my wallet and cards,card
please block my card,card
card missing since yesterday,card
what's my balance,balance
how much money is in my account,balance
show my savings balance,balance
do I have enough funds,balance
balance please,balance
send 20 to Sam,transfer
transfer money to my sister,transfer
pay my landlord the rent,transfer
move cash to savings,transfer
wire funds abroad,transfer
"""


def _errors(content: str, min_per_label: int = 2) -> str:
    with pytest.raises(ExamplesError) as info:
        parse_examples(content.encode("utf-8"), Path("demo/examples.csv"), min_per_label)
    return str(info.value)


def test_valid_csv_is_read_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "examples.csv"
    path.write_text("\ufeff" + SMALL_CSV + "\n\n", encoding="utf-8")  # BOM and blank lines are fine
    examples = read_examples(path)
    assert len(examples) == 15
    assert examples[0].text == "my card is gone" and examples[0].label == "card" and examples[0].line == 2
    assert {e.label for e in examples} == {"card", "balance", "transfer"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("sentence,intent\nhi,a\n", "demo/examples.csv:1: the header must be `text,label`"),
        ("text,label\nhi,a\nhello there, friend,b\n", "demo/examples.csv:3: expected 2 fields"),
        ("text,label\nhi,a\n   ,b\n", "demo/examples.csv:3: the text is empty"),
        ("text,label\nhi,a\nhello,Not Snake\n", "demo/examples.csv:3: label 'Not Snake' must be lower_snake_case"),
        ("text,label\nhi,a\nyo,b\nHi ,b\n", "demo/examples.csv:4: the same text appears on line 2 with a different label"),
        ("text,label\nhi,a\nyo,a\nhey,b\n", "every label needs at least 2 examples; too few: {'b': 1}"),
        ("text,label\nhi,a\nyo,a\n", "needs at least 2 different labels"),
        ('text,label\n"unclosed,a\n', "demo/examples.csv"),
        ("", "demo/examples.csv:1: the header must be"),
    ],
)
def test_malformed_csv_errors_name_file_and_line(content: str, expected: str) -> None:
    assert expected in _errors(content)


def test_non_utf8_csv_is_refused() -> None:
    with pytest.raises(ExamplesError, match="not UTF-8"):
        parse_examples("text,label\ncaf\xe9,a\n".encode("latin-1"), Path("x.csv"))


def test_demo_csvs_are_valid() -> None:
    for csv_path in sorted((ROOT / "demos").glob("*/*/examples.csv")):
        assert read_examples(csv_path, min_per_label=15), csv_path


@pytest.fixture(scope="module")
def encoder():
    """Return the real MiniLM encoder, loaded through the runtime registry as demos get it."""
    from gallery.runtime.registry import ModelRegistry

    manifest = load_manifest(DEMO / "demo.yaml")
    registry = ModelRegistry(cache_dir=Path(os.environ["OPENMODELS_CACHE"]))
    return registry.get(manifest.id, "encoder", manifest.models["encoder"], DEMO)


def test_head_is_trained_then_loaded_from_cache_and_retrained_on_change(encoder, tmp_path: Path) -> None:
    csv_path = tmp_path / "examples.csv"
    csv_path.write_text(SMALL_CSV, encoding="utf-8")
    cache = tmp_path / "cache"

    first = FewShotClassifier.from_csv(csv_path, encoder, cache, identity="minilm")
    assert not first.loaded_from_cache
    assert first.cache_path is not None and first.cache_path.is_file()
    assert first.labels == ("balance", "card", "transfer")

    second = FewShotClassifier.from_csv(csv_path, encoder, cache, identity="minilm")
    assert second.loaded_from_cache and second.cache_path == first.cache_path
    texts = ["I can't find my visa card", "how much is in my current account", "pay 40 to my brother"]
    np.testing.assert_allclose(second.predict_proba(texts), first.predict_proba(texts), atol=1e-6)

    # Another encoder identity must not reuse the head.
    other = FewShotClassifier.from_csv(csv_path, encoder, cache, identity="another-encoder")
    assert not other.loaded_from_cache and other.cache_path != first.cache_path

    new_rows = ["open a new account", "I want to become a customer", "sign me up for a current account",
                "how do I open a savings account", "start a joint account with my partner"]
    csv_path.write_text(SMALL_CSV + "".join(f"{t},account\n" for t in new_rows), encoding="utf-8")
    changed = FewShotClassifier.from_csv(csv_path, encoder, cache, identity="minilm")
    assert not changed.loaded_from_cache
    assert changed.cache_path != first.cache_path
    assert "account" in changed.labels
    assert changed.predict("I would like to open an account")["label"] == "account"


def test_corrupt_cache_file_is_retrained(encoder, tmp_path: Path) -> None:
    csv_path = tmp_path / "examples.csv"
    csv_path.write_text(SMALL_CSV, encoding="utf-8")
    head = FewShotClassifier.from_csv(csv_path, encoder, tmp_path, identity="minilm")
    assert head.cache_path is not None
    head.cache_path.write_bytes(b"not a numpy archive")
    again = FewShotClassifier.from_csv(csv_path, encoder, tmp_path, identity="minilm")
    assert not again.loaded_from_cache
    assert again.predict("my card was stolen")["label"] == "card"


def test_predictions_are_probabilities_ranked_best_first(encoder, tmp_path: Path) -> None:
    csv_path = tmp_path / "examples.csv"
    csv_path.write_text(SMALL_CSV, encoding="utf-8")
    head = FewShotClassifier.from_csv(csv_path, encoder, tmp_path, identity="minilm")
    result = head.predict("somebody pinched my bank card on the train")
    assert result["label"] == "card"
    scores = list(result["scores"].values())
    assert scores == sorted(scores, reverse=True)
    assert abs(sum(scores) - 1.0) < 1e-3
    assert result["confidence"] == result["scores"]["card"] == max(scores)


def test_two_label_head_matches_scikit_learn(encoder) -> None:
    from sklearn.linear_model import LogisticRegression

    from shared.fewshot import DEFAULT_C, embed_texts

    examples = [e for e in parse_examples(SMALL_CSV.encode(), Path("x.csv")) if e.label != "transfer"]
    head = FewShotClassifier.fit(examples, encoder)
    vectors = embed_texts(encoder, [e.text for e in examples])
    reference = LogisticRegression(C=DEFAULT_C, max_iter=2000, class_weight="balanced")
    reference.fit(vectors, [e.label for e in examples])
    probe = ["where has my card gone", "tell me my balance"]
    np.testing.assert_allclose(
        head.predict_proba(probe), reference.predict_proba(embed_texts(encoder, probe)), atol=1e-4
    )


BILINGUAL_CSV = SMALL_CSV + """我的卡丢了,card
银行卡被偷了,card
请帮我挂失,card
卡不见了,card
钱包和卡都丢了,card
"""


def test_heads_train_on_the_rows_of_their_language() -> None:
    examples = parse_examples(BILINGUAL_CSV.encode("utf-8"), Path("x.csv"), 5)
    assert len(select_rows(examples, "all", Path("x.csv"))) == 20
    assert [e.text for e in select_rows(examples, "en", Path("x.csv"))][:1] == ["my card is gone"]
    assert len(select_rows(examples, "en", Path("x.csv"))) == 15
    # A Chinese-only head would have no balance or transfer rows: refused, naming the labels left short.
    with pytest.raises(ExamplesError, match="the zh head needs at least 5 zh examples a label; too few: "
                                            "{'balance': 0, 'transfer': 0}"):
        select_rows(examples, "zh", Path("x.csv"))


def test_chinese_text_goes_to_the_chinese_head_and_kana_is_refused() -> None:
    options = TextClassifierOptions(model_zh="encoder_zh")
    app = TextClassifier(options, "message", "intent")
    assert app.language("我的卡丢了，请帮我冻结") == "zh" and app.route("zh") == ("encoder_zh", "all")
    assert app.language("HPV疫苗和iPhone账单") == "zh"
    assert app.language("my card is gone") == "en" and app.route("en") == ("encoder", "en")
    with pytest.raises(InputError, match="English or Chinese"):
        app.language("カードをなくしました")
    # Without model_zh the demo keeps one head over every row and refuses Chinese, as before.
    english = TextClassifier(TextClassifierOptions(), "message", "intent")
    assert english.route("en") == ("encoder", "all")
    with pytest.raises(InputError, match="English only"):
        english.language("我的卡丢了")


def test_chinese_words_are_counted_two_characters_to_a_word() -> None:
    assert word_count("光合") == 1 and word_count("光合作用") == 2 and word_count("HPV疫苗") == 2


def test_a_model_zh_missing_from_the_manifest_is_named() -> None:
    manifest = load_manifest(DEMO / "demo.yaml")
    without = manifest.model_copy(update={"models": {"encoder": manifest.models["encoder"]}})
    with pytest.raises(DemoCodeError, match=r"lacks: \['encoder_zh'\]"):
        text_classifier(without, DEMO, TextClassifierOptions(model_zh="encoder_zh"))
