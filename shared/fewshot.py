"""Few-shot text classifiers: a logistic-regression head on sentence embeddings, trained from a CSV.

A classifier demo is a `demo.yaml` whose `app:` names `shared.fewshot:text_classifier` (no `app.py`), an
`examples.csv` (`text,label`) and a `heldout.csv`; an `app.py` of its own may call `classify_demo` instead. The head is trained the first time the demo runs and cached under the demo's cache
folder, keyed by the CSV's bytes and the encoder's identity, so later starts load it in milliseconds.

A demo that also reads Chinese names a second encoder (`model_zh`, e.g. `encoder_zh: use-multilingual`): text mostly
in Han characters goes to a head trained on that encoder over every row of the CSV (a cross-lingual encoder learns
from the English rows too), other text to the `model` head trained on the rows that are not Chinese.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
import inspect
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gallery.errors import InputError
from gallery.loader import DemoCode, DemoCodeError, demo_app
from gallery.manifest import Bilingual, Manifest
from shared.chinese import HAN, han_share, text_language, word_count
from shared.multilingual import GraphTokenizedEncoder
from shared.text import require_english

if TYPE_CHECKING:
    from gallery.context import DemoContext

logger = logging.getLogger(__name__)

EXAMPLES_FILE = "examples.csv"
HEADER = ("text", "label")
LABEL_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_PER_LABEL = 5
# Normalised embeddings have small coordinates; a weak penalty lets the head separate close intents.
DEFAULT_C = 10.0
# Embedding a fixed sentence tells a cached head whether it was trained on this same encoder.
_PROBE = "The quick brown fox checks the balance of a delayed train ticket."
_PROBE_MIN_COSINE = 0.999
_CACHE_VERSION = 1
# The rows a head trains on: every row, or only those in one language (decided by script, as inputs are).
ROWS = ("all", "en", "zh")
_BATCH = 64


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors (the runtime's TextEmbedder)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class ExamplesError(ValueError):
    """A contributor's examples CSV is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled training text and the CSV line it came from."""

    text: str
    label: str
    line: int


def read_examples(path: Path, min_per_label: int = MIN_PER_LABEL) -> list[Example]:
    """Read and validate a `text,label` CSV, raising ExamplesError naming file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExamplesError(f"{path}: cannot read: {exc}") from exc
    return parse_examples(raw, path, min_per_label)


def parse_examples(raw: bytes, path: Path, min_per_label: int = MIN_PER_LABEL) -> list[Example]:
    """Parse the bytes of an examples CSV (see read_examples)."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExamplesError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    examples: list[Example] = []
    seen: dict[str, Example] = {}
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip().lower() for h in header) != HEADER:
            raise ExamplesError(f"{path}:1: the header must be `text,label`, got {','.join(header or [])!r}")
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise ExamplesError(
                    f"{path}:{line}: expected 2 fields (text,label), got {len(row)}; quote texts containing commas"
                )
            text, label = row[0].strip(), row[1].strip()
            if not text:
                raise ExamplesError(f"{path}:{line}: the text is empty")
            if not LABEL_RE.match(label):
                raise ExamplesError(
                    f"{path}:{line}: label {label!r} must be lower_snake_case (letters, digits, underscores)"
                )
            key = " ".join(text.lower().split())
            if key in seen:
                first = seen[key]
                raise ExamplesError(
                    f"{path}:{line}: the same text appears on line {first.line}"
                    + (f" with a different label ({first.label!r} vs {label!r})" if first.label != label else "")
                )
            example = Example(text, label, line)
            seen[key] = example
            examples.append(example)
    except csv.Error as exc:
        raise ExamplesError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    counts = Counter(e.label for e in examples)
    if len(counts) < 2:
        raise ExamplesError(f"{path}: needs at least 2 different labels, found {sorted(counts)}")
    few = {label: n for label, n in sorted(counts.items()) if n < min_per_label}
    if few:
        raise ExamplesError(f"{path}: every label needs at least {min_per_label} examples; too few: {few}")
    return examples


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed texts in batches, returning float32 rows of unit length."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    parts = [np.asarray(embedder.embed(list(texts[i : i + _BATCH])), dtype=np.float32) for i in range(0, len(texts), _BATCH)]
    return np.concatenate(parts, axis=0)


def select_rows(examples: Sequence[Example], rows: str, path: Path) -> list[Example]:
    """Return the examples a head of `rows` trains on, raising ExamplesError when a label is left too few."""
    if rows not in ROWS:
        raise ValueError(f"rows must be one of {ROWS}, got {rows!r}")
    # A row's language by the inputs' rule (mostly Han characters: Chinese), without refusing any.
    chosen = [e for e in examples if rows == "all" or ("zh" if han_share(e.text) >= 0.5 else "en") == rows]
    counts = Counter(e.label for e in chosen)
    few = {label: counts[label] for label in sorted({e.label for e in examples}) if counts[label] < MIN_PER_LABEL}
    if few:
        raise ExamplesError(f"{path}: the {rows} head needs at least {MIN_PER_LABEL} {rows} examples a label; "
                            f"too few: {few}")
    return chosen


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class FewShotClassifier:
    """A linear head over sentence embeddings: label probabilities for a text."""

    def __init__(
        self,
        embedder: Embedder,
        labels: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        loaded_from_cache: bool = False,
        cache_path: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.labels: tuple[str, ...] = tuple(labels)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.loaded_from_cache = loaded_from_cache
        self.cache_path = cache_path

    @classmethod
    def fit(cls, examples: Sequence[Example], embedder: Embedder, c: float = DEFAULT_C) -> "FewShotClassifier":
        """Train a multinomial logistic regression on the examples' embeddings."""
        from sklearn.linear_model import LogisticRegression  # deferred: scikit-learn is slow to import

        vectors = embed_texts(embedder, [e.text for e in examples])
        targets = [e.label for e in examples]
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(vectors, targets)
        labels = [str(label) for label in model.classes_]
        coef, intercept = model.coef_, model.intercept_
        if len(labels) == 2:
            # scikit-learn stores one row for two classes; two opposite rows give the same softmax.
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(embedder, labels, coef, intercept)

    @classmethod
    def from_csv(
        cls, csv_path: Path, embedder: Embedder, cache_dir: Path, identity: str = "", c: float = DEFAULT_C,
        rows: str = "all",
    ) -> "FewShotClassifier":
        """Load the head for this CSV, encoder and rows (`all`, `en`, `zh`) from cache_dir, or train and cache it."""
        raw = csv_path.read_bytes() if csv_path.is_file() else b""
        if not raw:
            raise ExamplesError(f"{csv_path}: missing or empty (a classifier demo needs a text,label CSV)")
        fields: dict[str, Any] = {"csv": hashlib.sha256(raw).hexdigest(), "encoder": identity, "c": c, "v": _CACHE_VERSION}
        fields.update({"rows": rows} if rows != "all" else {})  # heads over every row keep their old cache keys
        key = hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:24]
        cache_path = cache_dir / f"head-{csv_path.stem}-{key}.npz"
        probe = embed_texts(embedder, [_PROBE])[0]
        cached = cls._load(cache_path, embedder, probe)
        if cached is not None:
            logger.info("few-shot head for %s loaded from %s", csv_path, cache_path)
            return cached
        examples = select_rows(parse_examples(raw, csv_path), rows, csv_path)
        head = cls.fit(examples, embedder, c)
        head.cache_path = cache_path
        head._save(cache_path, probe)
        logger.info("few-shot head for %s trained on %d examples, %d labels", csv_path, len(examples), len(head.labels))
        return head

    @classmethod
    def _load(cls, path: Path, embedder: Embedder, probe: np.ndarray) -> "FewShotClassifier | None":
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored_probe = data["probe"]
                labels = [str(x) for x in data["labels"]]
                coef, intercept = data["coef"], data["intercept"]
        # A truncated or foreign cache file is not an error: the head is simply trained again.
        except (OSError, KeyError, ValueError) as exc:
            logger.warning("ignoring unreadable head cache %s: %s", path, exc)
            return None
        if stored_probe.shape != probe.shape or float(stored_probe @ probe) < _PROBE_MIN_COSINE:
            logger.info("head cache %s was made with a different encoder output; retraining", path)
            return None
        return cls(embedder, labels, coef, intercept, loaded_from_cache=True, cache_path=path)

    def _save(self, path: Path, probe: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees a half-written file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, labels=np.array(self.labels), coef=self.coef, intercept=self.intercept, probe=probe)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("could not cache few-shot head at %s: %s", path, exc)
            Path(tmp).unlink(missing_ok=True)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, labels) array of probabilities."""
        vectors = embed_texts(self.embedder, texts)
        return _softmax(vectors @ self.coef.T + self.intercept)

    def predict(self, text: str) -> dict[str, Any]:
        """Return {label, confidence, scores} for one text, scores ordered best first."""
        probs = self.predict_proba([text])[0]
        order = np.argsort(-probs)
        scores = {self.labels[i]: round(float(probs[i]), 4) for i in order}
        best = self.labels[int(order[0])]
        return {"label": best, "confidence": scores[best], "scores": scores}


def embedder_for(ctx: "DemoContext", model: str) -> Embedder:
    """Return the manifest model as an embedder: a shipped ONNX graph (`task: onnx`) takes the strings themselves."""
    if ctx.manifest.models[model].task == "onnx":
        return GraphTokenizedEncoder(ctx.model(model))
    return ctx.model(model)


def head_for(ctx: "DemoContext", csv_name: str = EXAMPLES_FILE, model: str = "encoder",
             rows: str = "all") -> FewShotClassifier:
    """Return the demo's few-shot head on `model` over `rows`, trained or loaded from cache once per process."""

    def build() -> FewShotClassifier:
        identity = json.dumps(ctx.manifest.models[model].identity(), sort_keys=True)
        return FewShotClassifier.from_csv(ctx.path / csv_name, embedder_for(ctx, model), ctx.demo_cache_dir(),
                                          identity, rows=rows)

    return ctx.resource(f"fewshot:{model}:{csv_name}" + ("" if rows == "all" else f":{rows}"), build)


def classify_demo(
    ctx: "DemoContext",
    text: str,
    label_field: str = "label",
    csv_name: str = EXAMPLES_FILE,
    model: str = "encoder",
    input_name: str | None = None,
    rows: str = "all",
) -> dict[str, Any]:
    """Classify text with the demo's head on `model` over `rows`: {<label_field>: label, confidence, scores}."""
    if not text or not text.strip():
        raise InputError("is empty; please enter some text", input_name)
    result = head_for(ctx, csv_name, model, rows).predict(text.strip())
    return {label_field: result["label"], "confidence": result["confidence"], "scores": result["scores"]}


def readable(label: str) -> str:
    """Return a label id as words for display (`card_lost_or_stolen` -> `Card lost or stolen`)."""
    words = label.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def label_view(scores: dict[str, float], lang: str = "en",
               names_zh: Mapping[str, str] | None = None) -> dict[str, float]:
    """Return scores keyed by the label's name for people, in Chinese from `names_zh` when `lang` is 'zh'."""
    names = names_zh if lang == "zh" and names_zh else {}
    return {names.get(label) or readable(label): float(p) for label, p in scores.items()}


def present_classification(result: dict[str, Any], output_name: str, lang: str = "en",
                           names_zh: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return a classifier demo's view: its label output as label bars named in the visitor's language."""
    return {output_name: label_view(result["scores"], lang, names_zh)}


class TextClassifierOptions(BaseModel):
    """The options of `text_classifier` (a manifest's `app.options`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: dict[str, Bilingual] = Field(
        default_factory=dict, description="each label of examples.csv as people read it, {en, zh}")
    english_only: bool = Field(True, description="refuse text that is not English (the encoder is English-only); "
                                                 "with model_zh, Chinese text is read and other text refused")
    min_words: int = Field(1, ge=1, description="refuse text of fewer words (a single word is often too vague)")
    examples: str = Field(EXAMPLES_FILE, description="the training CSV in the demo folder")
    model: str = Field("encoder", description="the manifest's model that embeds the text")
    model_zh: str | None = Field(None, description="the manifest's model that embeds Chinese text (a head of its own "
                                                   "over every row); none: the demo reads one encoder's languages")


@dataclass(frozen=True)
class TextClassifier:
    """A few-shot classifier demo made from its manifest: one text input, one label output."""

    options: TextClassifierOptions
    input_name: str
    output_name: str

    def language(self, text: str) -> str:
        """Return the language whose head reads the text (`en` stands for every language `model` reads)."""
        if self.options.model_zh is None:
            if self.options.english_only:
                require_english(text, self.input_name)
            return "en"
        language = text_language(text, self.input_name)
        if language == "en" and self.options.english_only:
            require_english(text, self.input_name)
        return language

    def route(self, language: str) -> tuple[str, str]:
        """Return the model and the CSV rows of the head that reads text of the language."""
        if self.options.model_zh is None:
            return self.options.model, "all"
        return (self.options.model_zh, "all") if language == "zh" else (self.options.model, "en")

    def head(self, ctx: "DemoContext", language: str) -> FewShotClassifier:
        """Return the head that reads text of the language (see `language`)."""
        model, rows = self.route(language)
        return head_for(ctx, self.options.examples, model, rows)

    def classify(self, ctx: "DemoContext", text: str) -> dict[str, Any]:
        """Return {<output>: label, confidence, scores} for the text, read by its language's head."""
        language = self.language(text)
        words = word_count(text) if HAN.search(text) else len(text.split())
        if words < self.options.min_words:
            raise InputError(f"write at least {self.options.min_words} words: a whole sentence, not a single word "
                             "(请写一个完整的句子)", self.input_name)
        model, rows = self.route(language)
        return classify_demo(ctx, text, self.output_name, self.options.examples, model, self.input_name, rows)

    def show(self, result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
        """Return the label bars, each label named in the visitor's language."""
        names = self.options.labels
        return {self.output_name: {names[label].get(lang) if label in names else readable(label): float(p)
                                   for label, p in result["scores"].items()}}


@demo_app(TextClassifierOptions)
def text_classifier(manifest: Manifest, folder: Path, options: TextClassifierOptions) -> DemoCode:
    """Make a few-shot text classifier demo: its manifest has one text input and one label output."""
    if [spec.type for spec in manifest.inputs] != ["text"] or [spec.type for spec in manifest.outputs] != ["label"]:
        raise DemoCodeError(f"{folder / 'demo.yaml'}: app: shared.fewshot:text_classifier takes one text input "
                            "and gives one label output")
    missing = [name for name in (options.model, options.model_zh) if name and name not in manifest.models]
    if missing:
        raise DemoCodeError(f"{folder / 'demo.yaml'}: app.options names models that `models:` lacks: {missing}")
    app = TextClassifier(options, manifest.inputs[0].name, manifest.outputs[0].name)

    def predict(ctx: "DemoContext", **inputs: Any) -> dict[str, Any]:
        return app.classify(ctx, inputs[app.input_name])

    # The gallery checks predict's parameters against the manifest's inputs: they are the input's name.
    predict.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(app.input_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)])
    return DemoCode(module=app, predict=predict, present=app.show, build=None)
