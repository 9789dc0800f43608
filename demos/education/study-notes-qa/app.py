"""Study notes Q&A: find the passages of your notes that answer a question, by meaning, in English or Chinese."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gallery.context import DemoContext
from gallery.errors import InputError
from shared.chinese import text_language
from shared.fewshot import Embedder, embed_texts, embedder_for
from shared.text import Passage, split_passages

logger = logging.getLogger(__name__)

# The sample notes in each language: a question is answered from the notes in its own language.
SAMPLE_FILES = {"en": "sample_notes.md", "zh": "sample_notes_zh.md"}
SAMPLE_FILE = SAMPLE_FILES["en"]
# Passages of a few sentences: long enough to answer, short enough to stay on one point. A Chinese character
# carries about as much as an English word of four or five letters, so Chinese passages are cut shorter.
MAX_PASSAGE_CHARS = {"en": 450, "zh": 200}
# The encoder of each pairing, chosen on heldout.csv (README.md, "Accuracy"): MiniLM reads English best, and
# USE-multilingual reads Chinese, and Chinese with English, in one space.
ENCODERS = {"en": "encoder", "zh": "encoder_zh"}
# Pasted notes are often asked several questions in a row; keep the last few indexed.
PASTED_CACHE_SIZE = 8


@dataclass(frozen=True)
class NotesIndex:
    """The passages of one set of notes and one unit vector per passage."""

    passages: tuple[Passage, ...]
    vectors: np.ndarray


class _IndexCache:
    """A small thread-safe LRU of indexes for pasted notes, keyed by the notes' hash."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, NotesIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, notes: str, build: Any) -> NotesIndex:
        key = hashlib.sha256(notes.encode("utf-8")).hexdigest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        index = build(notes)
        with self._lock:
            self._items[key] = index
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return index


def sample_notes(demo_dir: Path, language: str = "en") -> str:
    """Return the sample notes shipped with the demo, in the language asked for."""
    return (demo_dir / SAMPLE_FILES[language]).read_text(encoding="utf-8")


def index_notes(embedder: Embedder, notes: str, language: str = "en") -> NotesIndex:
    """Split notes into passages and embed each with its section heading."""
    passages = tuple(split_passages(notes, MAX_PASSAGE_CHARS[language]))
    vectors = embed_texts(embedder, [p.for_embedding() for p in passages])
    return NotesIndex(passages, vectors)


def predict(ctx: DemoContext, notes: str, use_sample: bool, question: str, top_k: int = 3) -> dict[str, Any]:
    """Return the top_k passages of the notes that best answer the question, with character offsets."""
    # The inputs arrive checked against demo.yaml: the question is not empty, top_k is within its bounds.
    question = question.strip()
    language = text_language(question, "question")
    if use_sample:
        notes_language = language  # the sample notes exist in both languages: answer in the question's
    else:
        notes = notes or ""
        if not notes.strip():
            raise InputError("are empty; paste your notes, or tick “Use the sample notes”", "notes")
        notes_language = text_language(notes, "notes")
    # MiniLM only when both sides are English; with Chinese on either side, the cross-lingual encoder reads both.
    pairing = "en" if language == notes_language == "en" else "zh"
    embedder = embedder_for(ctx, ENCODERS[pairing])
    if use_sample:
        index = ctx.resource(f"sample-index-{notes_language}",
                             lambda: index_notes(embedder, sample_notes(ctx.path, notes_language), notes_language))
    else:
        cache = ctx.resource(f"pasted-index-cache-{pairing}", lambda: _IndexCache(PASTED_CACHE_SIZE))
        index = cache.get_or_build(notes, lambda text: index_notes(embedder, text, notes_language))
    if not index.passages:
        raise InputError("contain no text to search", "notes")
    query = embed_texts(embedder, [question])[0]
    scores = index.vectors @ query
    order = np.argsort(-scores, kind="stable")[:top_k]
    passages = [
        {
            "text": index.passages[i].text,
            "score": round(float(scores[i]), 4),
            "start": index.passages[i].start,
            "end": index.passages[i].end,
        }
        for i in order
    ]
    logger.info("%s: ranked %d passages", ctx.id, len(index.passages))
    return {"passages": passages, "notes_source": "sample" if use_sample else "pasted",
            "passage_count": len(index.passages), "language": language, "notes_language": notes_language}


def highlight_segments(notes: str, passages: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Return the notes cut into (text, label) pieces, the found passages labelled by rank."""
    ranked = sorted(((p["start"], p["end"], f"#{rank}") for rank, p in enumerate(passages, 1)))
    segments: list[tuple[str, str | None]] = []
    cursor = 0
    for start, end, label in ranked:
        if start > cursor:
            segments.append((notes[cursor:start], None))
        segments.append((notes[start:end], label))
        cursor = end
    if cursor < len(notes):
        segments.append((notes[cursor:], None))
    return segments


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Highlight the found passages in the notes and list them in a table."""
    import pandas as pd  # deferred: only the UI renders tables

    if result["notes_source"] == "sample":
        notes = sample_notes(Path(__file__).resolve().parent, result.get("notes_language", "en"))
    else:
        notes = inputs.get("notes") or ""
    table = pd.DataFrame(
        [[f"#{rank}", round(p["score"], 2), p["text"]] for rank, p in enumerate(result["passages"], 1)],
        columns=["排名", "得分", "段落"] if lang == "zh" else ["Rank", "Score", "Passage"],
    )
    return {"highlighted": highlight_segments(notes, result["passages"]), "passages": table}
