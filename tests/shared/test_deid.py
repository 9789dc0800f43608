"""shared.deid: what is masked, what is left alone, and the offsets into the original text."""

from __future__ import annotations

import pytest

from shared.deid import deidentify, find_redactions, highlight, words_to_number


def masked(text: str) -> str:
    return deidentify(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen on 12/03/2024.", "Seen on [DATE]."),
        ("Seen on 3.3.24 and 03-12-2024.", "Seen on [DATE] and [DATE]."),
        ("Admitted 2024-03-12.", "Admitted [DATE]."),
        ("Seen on 3 March 2024.", "Seen on [DATE]."),
        ("Seen on the 3rd of March, 2024.", "Seen on [DATE]."),
        ("Seen on March 3rd, 2024 with a cough.", "Seen on [DATE] with a cough."),
        ("Seen on Mar. 3, 2024.", "Seen on [DATE]."),
        ("Review on Monday, 4 March 2024 at 10:30.", "Review on [DATE] at 10:30."),
        ("Symptoms since March 2024.", "Symptoms since [DATE]."),
        ("Born on the 14th of July, 1931.", "Born on [DATE]."),
        ("Seen on May 2nd.", "Seen on [DATE]."),
        # Spoken forms as speech recognition writes them.
        ("seen on march third twenty twenty four", "seen on [DATE]"),
        ("on the fifth of april two thousand and twenty three", "on [DATE]"),
        ("on march the twenty first", "on [DATE]"),
        ("born june first nineteen thirty one", "born [DATE]"),
    ],
)
def test_dates_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "She came in yesterday and will return tomorrow.",
        "Pain started last week; review today.",
        "In March she felt better.",  # a month alone is not a date of this patient
        "Referred in 2019.",  # years alone are allowed (HIPAA Safe Harbor keeps them)
        "She may 2 take tablets.",  # "may" as a verb
        "Take 500 mg twice daily for 10 days.",
        "BP 120/80, HR 72, sodium 140 mmol/L, glucose 5.5.",
        "Take 2 tablets 3 times a day for 7 days.",
        "Platelets 250000.",
        "a 35-year-old man, aged 45, age 89",
        "Dose 1.5-2.5 mg.",
        "Ribs 1, 2, 3 and 4 are intact.",
    ],
)
def test_ordinary_clinical_text_is_left_alone(text: str) -> None:
    assert masked(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call (555) 123-4567.", "Call [PHONE]."),
        ("Mobile 555-123-4567 or 555.123.4567", "Mobile [PHONE] or [PHONE]"),
        ("on +1 555 123 4567 today", "on [PHONE] today"),
        ("extension 555-1234", "extension [PHONE]"),
        ("London 020 7946 0958, mobile 07700 900123, +44 20 7946 0958.",
         "London [PHONE], mobile [PHONE], [PHONE]."),
        # Whatever grouping recognition produced, after a phone word.
        ("Call her back at 555, 120,34,567.", "Call her back at [PHONE]."),
        ("His phone number is 2, 0, 2, 5, 5, 0, 1, 4, 2.", "His phone number is [PHONE]."),
        ("her number is five five five one two three four", "her number is [PHONE]"),
        ("ring oh two oh seven nine four six oh nine five eight", "ring [PHONE]"),
        ("Call for Mac at 5-5-5-1-2-3-4-5-6-7.", "Call for Mac at [PHONE]."),
    ],
)
def test_phone_numbers_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to jane.doe@example.com today.", "Write to [EMAIL] today."),
        ("E-mail J_Smith+clinic@mail.example.co.uk.", "E-mail [EMAIL]."),
        ("email her at jane dot doe at example dot com", "email her at [EMAIL]"),
        ("contact john.smith at example.org please", "contact [EMAIL] please"),
    ],
)
def test_email_addresses_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MRN 00482913.", "MRN [ID]."),
        ("MRN: 00482913", "MRN: [ID]"),
        ("patient ID 12345678", "patient ID [ID]"),
        ("NHS number 943 476 5919.", "NHS number [ID]."),
        ("medical record number is 4829131.", "medical record number is [ID]."),
        ("Record number: eight three two four four one nine.", "Record number: [ID]."),
        ("Her record number is 4, 8, 2, 9, 1, 3, 7.", "Her record number is [ID]."),
        ("Insurance policy AB123456 expires.", "Insurance policy [ID] expires."),
        ("Reference 20240312998.", "Reference [ID]."),
        ("Bare number 12345678 in the note.", "Bare number [ID] in the note."),
    ],
)
def test_record_and_id_numbers_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A 92-year-old woman.", "A [AGE]-year-old woman."),
        ("a 92 year old man", "a [AGE] year old man"),
        ("He is 101 years old.", "He is [AGE] years old."),
        ("aged 95, age 91, Age: 93", "aged [AGE], age [AGE], Age: [AGE]"),
        ("a ninety-two-year-old woman", "a [AGE]-year-old woman"),
        ("ninety two years old", "[AGE] years old"),
        ("she is 90 years of age", "she is [AGE] years of age"),
        ("a 97 yo man", "a [AGE] yo man"),
        ("aged one hundred and one", "aged [AGE]"),
    ],
)
def test_ages_over_89_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Patel saw Mrs Jane Smith.", "Dr. [NAME] saw Mrs [NAME]."),
        ("Patient Jane Doe was seen.", "Patient [NAME] was seen."),
        ("The patient Reports pain.", "The patient Reports pain."),
        ("Her name is Maria Lopez.", "Her name is [NAME]."),
        ("Clinic note for John Carter, seen today.", "Clinic note for [NAME], seen today."),
        ("Referred by Anna Maria Berg for review.", "Referred by [NAME] for review."),
        ("Seen with John Carter on Monday.", "Seen with [NAME] on Monday."),
        # One capitalised word, or a month and a day, is not taken for a name.
        ("Sent to Radiology for Monday.", "Sent to Radiology for Monday."),
        ("Booked for Friday Morning clinic.", "Booked for Friday Morning clinic."),
    ],
)
def test_titled_names_are_masked(text: str, expected: str) -> None:
    assert masked(text) == expected


def test_redactions_point_into_the_original_and_rebuild_the_masked_text() -> None:
    text = ("Patient Jane Doe, a 92-year-old woman, MRN 00482913, seen on 3 March 2024. Call 555-123-4567 or "
            "write to jane.doe@example.com.")
    result = deidentify(text)
    types = [r.type for r in result.redactions]
    assert types == ["NAME", "AGE", "ID", "DATE", "PHONE", "EMAIL"]
    assert [text[r.start:r.end] for r in result.redactions] == [
        "Jane Doe", "92", "00482913", "3 March 2024", "555-123-4567", "jane.doe@example.com"]
    rebuilt, cursor = [], 0
    for r in result.redactions:
        rebuilt += [text[cursor:r.start], f"[{r.type}]"]
        cursor = r.end
    assert "".join(rebuilt) + text[cursor:] == result.text
    assert result.redaction_dicts()[0] == {"type": "NAME", "start": 8, "end": 16}
    starts = [r.start for r in result.redactions]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(result.redactions, result.redactions[1:]))


def test_overlapping_finds_keep_the_longest() -> None:
    # "4 March" alone is a date; the longer "Monday, 4 March 2024" wins and nothing overlaps.
    spans = find_redactions("on Monday, 4 March 2024")
    assert [(r.type, r.start) for r in spans] == [("DATE", 3)]
    assert spans[0].end == len("on Monday, 4 March 2024")


def test_record_number_words_make_a_phone_shaped_number_an_id() -> None:
    assert masked("NHS number 943 476 5919") == "NHS number [ID]"
    assert masked("phone 943 476 5919") == "phone [PHONE]"


def test_types_can_be_chosen() -> None:
    text = "Seen on 3 March 2024, call 555-123-4567."
    assert deidentify(text, types=("PHONE",)).text == "Seen on 3 March 2024, call [PHONE]."


def test_highlight_covers_the_text() -> None:
    text = "Seen on 3 March 2024 by Dr. Patel."
    result = deidentify(text)
    pieces = highlight(text, result.redaction_dicts())
    assert "".join(p for p, _ in pieces) == text
    assert ("3 March 2024", "DATE") in pieces and ("Patel", "NAME") in pieces
    assert highlight("", []) == []


def test_words_to_number() -> None:
    assert words_to_number("ninety-two") == 92
    assert words_to_number("a hundred and one") == 101
    assert words_to_number("one hundred") == 100
    assert words_to_number("ninety banana") is None
