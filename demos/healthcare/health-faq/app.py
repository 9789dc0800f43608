"""Health FAQ search: find the curated public-health answers closest in meaning to a question, in English or Chinese."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gallery.context import DemoContext
from shared.chinese import text_language
from shared.fewshot import embed_texts
from shared.multilingual import GraphTokenizedEncoder

logger = logging.getLogger(__name__)

FAQ_FILE = "faq.yaml"
# The encoder of each question language, chosen on heldout.csv (README.md, "Accuracy"): MiniLM reads English best,
# and USE-multilingual reads Chinese, which MiniLM cannot.
ENCODERS = {"en": "encoder", "zh": "encoder_zh"}
# Which texts of an entry each language's index holds. Chinese questions are matched with USE against the English
# question and answer and the Chinese answer: adding the short Chinese questions lowered held-out accuracy.
VIEWS = {"en": ("question", "answer"), "zh": ("question", "answer", "answer_zh")}
# Below this cosine similarity the best entry is only loosely related; the UI says so. Measured per encoder:
# MiniLM: paraphrases score >= 0.5 on their entry, unrelated questions <= 0.4; USE: 9 in 10 held-out Chinese
# questions score >= 0.53 on their entry, unrelated Chinese questions (car oil, stocks, passports) <= 0.44.
CLOSE_MATCH = {"en": 0.45, "zh": 0.45}
OPTIONAL = {"question_zh", "answer_zh"}


@dataclass(frozen=True)
class FaqEntry:
    """One curated question with its answer, their Chinese versions, and the public body whose guidance it follows."""

    question: str
    answer: str
    source: str
    question_zh: str | None = None
    answer_zh: str | None = None

    def text(self, field: str) -> str:
        """Return one of the entry's texts; a missing Chinese text falls back to the English one."""
        value = getattr(self, field)
        return value if value is not None else getattr(self, field.removesuffix("_zh"))

    def shown(self, language: str) -> tuple[str, str]:
        """Return the question and answer in the language asked in, where the FAQ has it."""
        suffix = "_zh" if language == "zh" else ""
        return self.text("question" + suffix), self.text("answer" + suffix)


@dataclass(frozen=True)
class FaqIndex:
    """The FAQ entries and, per indexed text of an entry (question, answer ...), unit vectors of every entry."""

    entries: tuple[FaqEntry, ...]
    views: np.ndarray  # (texts per entry, entries, dimensions)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Return each entry's similarity: the best over its indexed texts."""
        # A user may word the question like ours ("signs of a stroke") or describe what the answer
        # describes ("his face is drooping"); taking the best of the texts serves both.
        return (self.views @ query).max(axis=0)


def load_faq(path: Path) -> list[FaqEntry]:
    """Read and check the FAQ file, raising ValueError that names the file and entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: must be a non-empty YAML list of entries")
    entries = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not {"question", "answer", "source"} <= set(item) <= {
                "question", "answer", "source", *OPTIONAL}:
            raise ValueError(f"{path}: entry {number}: needs `question`, `answer` and `source`, and may have "
                             "`question_zh` and `answer_zh`")
        if not all(isinstance(item[k], str) and item[k].strip() for k in item):
            raise ValueError(f"{path}: entry {number}: every field must be non-empty text")
        entries.append(FaqEntry(**{k: v.strip() for k, v in item.items()}))
    return entries


def encoder(ctx: DemoContext, language: str) -> Any:
    """Return the embedder of a question language."""
    model = ctx.model(ENCODERS[language])
    return GraphTokenizedEncoder(model) if language == "zh" else model


def build_index(ctx: DemoContext, language: str) -> FaqIndex:
    """Embed the texts of every FAQ entry that the language's index holds, once per process."""
    entries = load_faq(ctx.path / FAQ_FILE)
    embedder = encoder(ctx, language)
    views = np.stack([embed_texts(embedder, [e.text(field) for e in entries]) for field in VIEWS[language]])
    logger.info("%s: indexed %d FAQ entries for %s questions", ctx.id, len(entries), language)
    return FaqIndex(tuple(entries), views)


def predict(ctx: DemoContext, question: str, top_k: int = 3) -> dict[str, Any]:
    """Return the top_k FAQ entries closest to the question, best first, in the question's language."""
    # The inputs arrive checked against demo.yaml: the question is not empty, top_k is within its bounds.
    question = question.strip()
    language = text_language(question, "question")  # Chinese by its script; kana or hangul refused
    index = ctx.resource(f"faq-index-{language}", lambda: build_index(ctx, language))
    query = embed_texts(encoder(ctx, language), [question])[0]
    scores = index.scores(query)
    order = np.argsort(-scores, kind="stable")[:top_k]
    matches = []
    for i in order:
        shown_question, shown_answer = index.entries[i].shown(language)
        matches.append({"question": shown_question, "answer": shown_answer, "source": index.entries[i].source,
                        "score": round(float(scores[i]), 4)})
    close = bool(matches and matches[0]["score"] >= CLOSE_MATCH[language])
    return {"matches": matches, "close_match": close, "language": language}


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the best answer as text and all matches as a table (entries in the question's language)."""
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
