"""Health FAQ search: find the curated public-health answers closest in meaning to a question."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gallery.context import DemoContext
from shared.fewshot import embed_texts
from shared.text import require_english

logger = logging.getLogger(__name__)

FAQ_FILE = "faq.yaml"
# Below this cosine similarity the best entry is only loosely related; the UI says so.
# (Measured: paraphrased questions score >= 0.5 on their entry, unrelated questions <= 0.4.)
CLOSE_MATCH = 0.45


@dataclass(frozen=True)
class FaqEntry:
    """One curated question with its answer and the public body whose guidance it follows."""

    question: str
    answer: str
    source: str


@dataclass(frozen=True)
class FaqIndex:
    """The FAQ entries and unit vectors of each entry's question and of its answer."""

    entries: tuple[FaqEntry, ...]
    questions: np.ndarray
    answers: np.ndarray

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Return each entry's similarity: the better of question-to-question and question-to-answer."""
        # A user may word the question like ours ("signs of a stroke") or describe what the answer
        # describes ("his face is drooping"); taking the better of the two serves both.
        return np.maximum(self.questions @ query, self.answers @ query)


def load_faq(path: Path) -> list[FaqEntry]:
    """Read and check the FAQ file, raising ValueError that names the file and entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: must be a non-empty YAML list of entries")
    entries = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or set(item) != {"question", "answer", "source"}:
            raise ValueError(f"{path}: entry {number}: needs exactly `question`, `answer` and `source`")
        if not all(isinstance(item[k], str) and item[k].strip() for k in item):
            raise ValueError(f"{path}: entry {number}: question, answer and source must be non-empty text")
        entries.append(FaqEntry(item["question"].strip(), item["answer"].strip(), item["source"].strip()))
    return entries


def build_index(ctx: DemoContext) -> FaqIndex:
    """Embed every FAQ question and answer once per process."""
    entries = load_faq(ctx.path / FAQ_FILE)
    encoder = ctx.model("encoder")
    questions = embed_texts(encoder, [e.question for e in entries])
    answers = embed_texts(encoder, [e.answer for e in entries])
    logger.info("%s: indexed %d FAQ entries", ctx.id, len(entries))
    return FaqIndex(tuple(entries), questions, answers)


def predict(ctx: DemoContext, question: str, top_k: int = 3) -> dict[str, Any]:
    """Return the top_k FAQ entries closest to the question, best first."""
    # The inputs arrive checked against demo.yaml: the question is not empty, top_k is within its bounds.
    question = question.strip()
    require_english(question, "question")
    index = ctx.resource("faq-index", lambda: build_index(ctx))
    query = embed_texts(ctx.model("encoder"), [question])[0]
    scores = index.scores(query)
    order = np.argsort(-scores, kind="stable")[:top_k]
    matches = [
        {
            "question": index.entries[i].question,
            "answer": index.entries[i].answer,
            "source": index.entries[i].source,
            "score": round(float(scores[i]), 4),
        }
        for i in order
    ]
    return {"matches": matches, "close_match": bool(matches and matches[0]["score"] >= CLOSE_MATCH)}


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the best answer as text and all matches as a table (the FAQ itself is in English)."""
    zh = lang == "zh"
    matches = result["matches"]
    best = matches[0]
    lines = []
    if not result["close_match"]:
        lines.append("_FAQ 中没有与您的问题非常接近的条目，以下为最相近的结果。_\n" if zh else
                     "_No entry in this FAQ is a close match; the nearest ones are shown._\n")
    lines += [f"### {best['question']}", best["answer"], f"\n*{'来源' if zh else 'Source'}: {best['source']}*"]
    import pandas as pd  # deferred: only the UI renders tables

    table = pd.DataFrame(
        [[round(m["score"], 2), m["question"], m["answer"], m["source"]] for m in matches],
        columns=["得分", "问题", "回答", "来源"] if zh else ["Score", "Question", "Answer", "Source"],
    )
    return {"answer": "\n".join(lines), "matches": table}
