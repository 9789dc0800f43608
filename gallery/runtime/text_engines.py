"""Text classification, token classification and extractive question answering on an exported encoder.

Each engine reproduces its transformers pipeline on a graph exported by Optimum (`model.onnx`, or `model.xml`
for OpenVINO) with `tokenizers` and numpy only: the same tokenization, the same score functions and the same
output dicts, so a demo gets what `pipeline(task)` returned. The pre- and post-processing follow transformers
4.57's pipelines; transformers 5 keeps the two classification pipelines unchanged and no longer has a
question-answering one, so `QuestionAnswerer` is where that behaviour now lives. tests/runtime/test_engines.py
holds each engine to the pipeline.

Thread-safe: the tokenizer is set up once at construction and then only read, sessions may run concurrently,
and no call keeps state on the object.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gallery.runtime.engine_base import (Labels, SessionFactory, TokenizerFacts, encoding_feeds, load_tokenizer,
                                         open_graph, read_json, softmax)

logger = logging.getLogger(__name__)

_LEGACY: Any = object()  # text-classification called without top_k: the pipeline's older output shape
QA_MAX_SEQ_LEN = 384  # the question-answering pipeline's default window, in tokens
QA_DOC_STRIDE = 128  # and its largest overlap between windows


class _Encoder:
    """One exported encoder graph with its config and tokenizer facts: the base of the text engines."""

    def __init__(self, folder: Path, session: SessionFactory) -> None:
        self.folder = Path(folder)
        self.graph = open_graph(self.folder, "model", session)
        self.config = read_json(self.folder / "config.json")
        self.facts = TokenizerFacts.from_folder(self.folder)

    @property
    def providers(self) -> list[str]:
        """Return where the graph runs."""
        return self.graph.providers

    def _output(self, preferred: str) -> str:
        """Return the graph output called `preferred`, else its first output (exports that renamed it)."""
        return preferred if preferred in self.graph.output_names else self.graph.output_names[0]


class TextClassifier(_Encoder):
    """text-classification: label scores of a sequence classifier, in the pipeline's output shapes.

    Unlike the pipeline, a text longer than the model's limit is truncated instead of failing in the model.
    """

    def __init__(self, folder: Path, session: SessionFactory, *, max_length: int | None = None) -> None:
        super().__init__(folder, session)
        self.labels = Labels.from_config(self.config)
        self.max_length = int(max_length or self.facts.max_length(self.config))
        self.tokenizer = load_tokenizer(self.folder, max_length=self.max_length, direction=self.facts.truncation_side)
        self._logits = self._output("logits")

    def __call__(self, inputs: str | dict[str, str] | Sequence[str | dict[str, str]], top_k: int | None = _LEGACY,
                 function_to_apply: str | None = None) -> Any:
        """Classify one text (or {"text", "text_pair"}) or a list of them.

        Without `top_k`: the best label as `{"label", "score"}`, in a one-item list for a single string (as the
        pipeline returns it). With `top_k`: the labels sorted by score, all of them for `top_k=None`.
        """
        single = isinstance(inputs, (str, dict))
        items = [inputs] if single else list(inputs)
        results = [self._classify(item, top_k, function_to_apply) for item in items]
        if not single:
            return results
        return [results[0]] if top_k is _LEGACY and isinstance(inputs, str) else results[0]

    def logits(self, text: str, text_pair: str | None = None) -> dict[str, np.ndarray]:
        """Return the raw logits of one text, shape (1, labels)."""
        return {"logits": self._run(text, text_pair)}

    def _run(self, text: str, text_pair: str | None) -> np.ndarray:
        if not isinstance(text, str) or not (text_pair is None or isinstance(text_pair, str)):
            raise TypeError(f"text-classification takes strings, got {type(text).__name__}")
        encoding = self.tokenizer.encode(text, text_pair)
        return self.graph.run(encoding_feeds(encoding), [self._logits])[self._logits]

    def _classify(self, item: str | dict[str, str], top_k: int | None, function: str | None) -> Any:
        if isinstance(item, dict):
            logits = self._run(item["text"], item.get("text_pair"))
        else:
            logits = self._run(item, None)
        scores = self.labels.scores(logits[0], function)
        if top_k is _LEGACY:
            return {"label": self.labels.name(int(scores.argmax())), "score": float(scores.max())}
        ranked = sorted(({"label": self.labels.name(i), "score": float(s)} for i, s in enumerate(scores)),
                        key=lambda x: x["score"], reverse=True)
        return ranked if top_k is None else ranked[:top_k]


class TokenClassifier(_Encoder):
    """token-classification without aggregation: one entity per token whose best label is not ignored.

    Special tokens are skipped and each entity carries the token (`word`; the original text for an unknown
    token), its index and its character offsets, as the pipeline reports them; scores are Python floats where
    the pipeline gives numpy float32. Text past the model's limit is cut, as the pipeline cuts it.
    """

    def __init__(self, folder: Path, session: SessionFactory, *, max_length: int | None = None) -> None:
        super().__init__(folder, session)
        self.labels = Labels.from_config(self.config)
        self.max_length = int(max_length or self.facts.max_length(self.config))
        self.tokenizer = load_tokenizer(self.folder, max_length=self.max_length, direction=self.facts.truncation_side)
        self.unk_id = self.facts.token_id(self.tokenizer, "unk_token")
        self._logits = self._output("logits")

    def __call__(self, inputs: str | Sequence[str], ignore_labels: Sequence[str] | None = None,
                 aggregation_strategy: str | None = None) -> list[Any]:
        """Return the entities of one text (a list of dicts), or one such list per text of a list."""
        strategy = str(getattr(aggregation_strategy, "value", aggregation_strategy) or "none").lower()
        if strategy != "none":
            raise ValueError(f"aggregation_strategy={aggregation_strategy!r} is not supported here; only 'none'")
        ignore = {"O"} if ignore_labels is None else set(ignore_labels)
        if isinstance(inputs, str):
            return self._entities(inputs, ignore)
        return [self._entities(text, ignore) for text in inputs]

    def logits(self, text: str) -> dict[str, np.ndarray]:
        """Return the raw logits of one text, shape (1, tokens, labels)."""
        encoding = self.tokenizer.encode(text)
        return {"logits": self.graph.run(encoding_feeds(encoding), [self._logits])[self._logits]}

    def _entities(self, sentence: str, ignore: set[str]) -> list[dict[str, Any]]:
        if not isinstance(sentence, str):
            raise TypeError(f"token-classification takes strings, got {type(sentence).__name__}")
        encoding = self.tokenizer.encode(sentence)
        logits = self.graph.run(encoding_feeds(encoding), [self._logits])[self._logits][0]
        scores = softmax(logits.astype(np.float32, copy=False))
        entities = []
        for index, (token, special, (start, end)) in enumerate(zip(encoding.ids, encoding.special_tokens_mask,
                                                                   encoding.offsets)):
            if special:
                continue
            best = int(scores[index].argmax())
            label = self.labels.name(best)
            if label in ignore:
                continue
            # The pipeline shows the text itself for an unknown token, whose vocabulary entry says nothing.
            word = sentence[start:end] if token == self.unk_id else self.tokenizer.id_to_token(token)
            entities.append({"entity": label, "score": float(scores[index, best]), "index": index, "word": word,
                             "start": start, "end": end})
        return entities


class QuestionAnswerer(_Encoder):
    """question-answering: the best answer spans of a context, scored and aligned to words as the pipeline does.

    A long context is read in windows of `max_seq_len` tokens overlapping by `doc_stride`; the span score is
    p(start) * p(end) with softmax over the context tokens of each window, spans of up to `max_answer_len`
    tokens are kept, spans that align to the same text add their scores, and the result holds character
    offsets into the context.
    """

    def __init__(self, folder: Path, session: SessionFactory, *, max_seq_len: int | None = None,
                 doc_stride: int | None = None) -> None:
        super().__init__(folder, session)
        self.max_seq_len = int(max_seq_len or min(self.facts.max_length(self.config), QA_MAX_SEQ_LEN))
        self.doc_stride = int(doc_stride if doc_stride is not None else min(self.max_seq_len // 2, QA_DOC_STRIDE))
        if self.doc_stride > self.max_seq_len:
            raise ValueError(f"doc_stride ({self.doc_stride}) is larger than max_seq_len ({self.max_seq_len})")
        # The pipeline puts the question first for right-padding tokenizers (nearly all) and truncates the context.
        self.question_first = self.facts.padding_side == "right"
        self.tokenizer = load_tokenizer(self.folder, max_length=self.max_seq_len, stride=self.doc_stride,
                                        strategy="only_second" if self.question_first else "only_first",
                                        direction=self.facts.truncation_side)
        self.cls_id = self.facts.token_id(self.tokenizer, "cls_token")
        self._start, self._end = self._output("start_logits"), self._output("end_logits")

    def __call__(self, question: str | Sequence[str] | None = None, context: str | Sequence[str] | None = None, *,
                 top_k: int = 1, handle_impossible_answer: bool = False, max_answer_len: int = 15,
                 align_to_words: bool = True) -> Any:
        """Answer a question from a context: {"score", "start", "end", "answer"}, or a list when top_k > 1.

        Lists of questions (with one context or as many contexts) give one result per question.
        """
        if top_k < 1:
            raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
        if max_answer_len < 1:
            raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
        options = {"top_k": top_k, "handle_impossible_answer": handle_impossible_answer,
                   "max_answer_len": max_answer_len, "align_to_words": align_to_words}
        if isinstance(question, str) and isinstance(context, str):
            return self._answer(question, context, **options)
        if isinstance(question, (list, tuple)) and isinstance(context, str):
            return [self._answer(q, context, **options) for q in question]
        if isinstance(question, (list, tuple)) and isinstance(context, (list, tuple)):
            if len(question) != len(context):
                raise ValueError("Questions and contexts don't have the same lengths")
            return [self._answer(q, c, **options) for q, c in zip(question, context)]
        for name, value in (("question", question), ("context", context)):
            if value is None:
                raise ValueError(f"`{name}` cannot be None")
        raise TypeError("question-answering takes question=str and context=str (or lists of them)")

    def logits(self, question: str, context: str | None = None) -> dict[str, np.ndarray]:
        """Return the start and end logits (1, tokens) of the first window; the question is the context if none."""
        encoding = self._encode(question, question if context is None else context)
        out = self.graph.run(encoding_feeds(encoding), [self._start, self._end])
        return {"start_logits": out[self._start], "end_logits": out[self._end]}

    def _encode(self, question: str, context: str) -> Any:
        texts = (question, context) if self.question_first else (context, question)
        try:
            return self.tokenizer.encode(*texts)
        # tokenizers raises a bare Exception when the question alone fills the window.
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"the question is too long for a {self.max_seq_len}-token window ({exc})") from exc

    def _answer(self, question: str, context: str, *, top_k: int, handle_impossible_answer: bool,
                max_answer_len: int, align_to_words: bool) -> Any:
        for name, value in (("question", question), ("context", context)):
            if not isinstance(value, str):
                raise ValueError(f"`{name}` must be a string, got {type(value).__name__}")
            if not value:
                raise ValueError(f"`{name}` cannot be empty")
        first = self._encode(question, context)
        context_index = 1 if self.question_first else 0
        min_null_score = 1_000_000.0  # large and positive, as the pipeline starts it
        answers: list[dict[str, Any]] = []
        # Candidates may be dropped when aligned to words, so more than top_k are taken from each window.
        pre_top_k = top_k * 2 + 10 if align_to_words else top_k
        for span in [first, *first.overflowing]:
            # Only context tokens can be in an answer, and the CLS token, which some models use for "no answer".
            # (For left-padding tokenizers the pipeline's mask lets question tokens in too; this one does not.)
            p_mask = np.array([[seq != context_index for seq in span.sequence_ids]])
            if self.cls_id is not None:
                p_mask[0, np.asarray(span.ids) == self.cls_id] = False
            feeds = encoding_feeds(span)
            out = self.graph.run(feeds, [self._start, self._end])
            starts, ends, scores, min_null_score = select_spans(
                out[self._start], out[self._end], p_mask, feeds["attention_mask"], min_null_score, pre_top_k,
                handle_impossible_answer, max_answer_len)
            for s, e, score in zip(starts, ends, scores):
                begin, stop = _char_span(span, int(s), int(e), context_index, align_to_words)
                text = context[begin:stop]
                same = next((a for a in answers if a["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += score.item()
                else:
                    answers.append({"score": score.item(), "start": begin, "end": stop, "answer": text})
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers


def select_spans(start: np.ndarray, end: np.ndarray, p_mask: np.ndarray, attention_mask: np.ndarray,
                 min_null_score: float, top_k: int, handle_impossible_answer: bool,
                 max_answer_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Return the best (start, end, score) spans of one window and the running no-answer score.

    The steps and array shapes (1, tokens) of transformers' `select_starts_ends` and `decode_spans`, kept
    exact so that ties and the candidates kept resolve the same way.
    """
    undesired = np.abs(p_mask.astype(np.int64) - 1) & attention_mask  # 1 where a token may be in the answer
    masked = undesired == 0
    start = np.where(masked, -10000.0, start)
    end = np.where(masked, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible_answer:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0  # the CLS position scores only as "no answer"
    outer = np.matmul(np.expand_dims(start, -1), np.expand_dims(end, 1))
    candidates = np.tril(np.triu(outer), max_answer_len - 1)  # end >= start, at most max_answer_len tokens
    flat = candidates.flatten()
    if top_k == 1:
        order = [np.argmax(flat)]
    elif len(flat) < top_k:
        order = np.argsort(-flat)
    else:
        idx = np.argpartition(-flat, top_k)[0:top_k]
        order = idx[np.argsort(-flat[idx])]
    starts, ends = np.unravel_index(order, candidates.shape)[1:]
    # As in transformers: `nonzero()` of the 2-D mask also holds its row indices (all 0), so position 0 passes.
    wanted = np.isin(starts, undesired.nonzero()) & np.isin(ends, undesired.nonzero())
    starts, ends = starts[wanted], ends[wanted]
    return starts, ends, candidates[0, starts, ends], min_null_score


def _char_span(encoding: Any, start: int, end: int, sequence: int, align_to_words: bool) -> tuple[int, int]:
    """Return the character span of tokens start..end in the context, widened to whole words when asked."""
    if align_to_words:
        first, last = encoding.token_to_word(start), encoding.token_to_word(end)
        if first is not None and last is not None:
            begin = encoding.word_to_chars(first, sequence_index=sequence)
            stop = encoding.word_to_chars(last, sequence_index=sequence)
            if begin is not None and stop is not None:
                return begin[0], stop[1]
    # Tokens outside any word (special tokens): their own offsets, as the pipeline falls back to.
    return encoding.offsets[start][0], encoding.offsets[end][1]
