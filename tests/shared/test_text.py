"""Tests for shared.text: passages and sentences keep exact offsets; English-only check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gallery.errors import InputError
from shared.text import cjk_share, require_english, split_passages, split_sentences

NOTES = """# Cells

## Organelles
The nucleus holds DNA. Mitochondria release energy, e.g. in muscle cells! Is that all?

1. Ribosomes make proteins.
2. Dr. Smith drew the cell wall.

## Transport
Diffusion is the net movement of particles from high to low concentration.

光合作用在叶绿体中进行。它需要光！
"""


def test_passages_have_exact_offsets_and_headings() -> None:
    passages = split_passages(NOTES)
    for p in passages:
        assert NOTES[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
    texts = [p.text for p in passages]
    # Headings label passages but are never passages themselves.
    assert not any(t.startswith("#") for t in texts)
    assert texts[0].startswith("The nucleus holds DNA.")
    assert passages[0].heading == "Organelles"
    assert passages[-1].heading == "Transport"
    assert passages[-1].text == "光合作用在叶绿体中进行。它需要光！"
    assert passages[0].for_embedding().startswith("Organelles: The nucleus")


def test_long_paragraphs_are_cut_at_sentence_ends() -> None:
    paragraph = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(40))
    passages = split_passages(paragraph, max_chars=120)
    assert len(passages) > 5
    for p in passages:
        assert paragraph[p.start : p.end] == p.text
        assert len(p.text) <= 120
        assert p.text.endswith(".")
    # Nothing is lost: the passages cover every sentence in order.
    assert " ".join(p.text for p in passages) == paragraph


def test_sentences_respect_abbreviations_list_numbers_and_cjk() -> None:
    sentences = [s.text for s in split_sentences(NOTES)]
    assert "Mitochondria release energy, e.g. in muscle cells!" in sentences
    assert "1. Ribosomes make proteins." in sentences
    assert "2. Dr. Smith drew the cell wall." in sentences
    assert "光合作用在叶绿体中进行。" in sentences and "它需要光！" in sentences


def test_blank_text_has_no_passages() -> None:
    assert split_passages("") == []
    assert split_passages("  \n\n \t\n") == []
    assert split_passages("## Only a heading\n") == []


_TEXT = st.lists(
    st.one_of(
        st.text(alphabet="abc XYZ.!?,\n\t#-1", min_size=0, max_size=40),
        st.sampled_from(["\n\n", "## Head\n", "e.g. ", "。", "Dr. ", "1. ", "   "]),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.integers(min_value=1, max_value=200))
def test_passage_offsets_hold_for_any_text(source: str, max_chars: int) -> None:
    passages = split_passages(source, max_chars=max_chars)
    end = 0
    for p in passages:
        assert source[p.start : p.end] == p.text
        assert p.text.strip() == p.text != ""
        assert p.start >= end  # in order, never overlapping
        end = p.end
    for s in split_sentences(source):
        assert source[s.start : s.end] == s.text != ""


def test_require_english_refuses_mostly_chinese_text() -> None:
    assert cjk_share("How do I wash my hands?") == 0.0
    assert cjk_share("怎么洗手") == 1.0
    require_english("What is ATP? 能量", "question")  # mostly English passes
    with pytest.raises(InputError, match="English only") as info:
        require_english("我应该怎样正确洗手？", "question")
    assert info.value.field == "question"
