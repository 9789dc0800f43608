"""What the torch-free task engines share: export-folder files, graph sessions, label facts and tokenizer facts.

The engines (text_engines, image_engine, seq2seq_onnx) reproduce transformers pipelines on exported graphs
with numpy, `tokenizers` and PIL only. They open every graph through a `session(path)` factory the caller
picks (ONNX Runtime with its providers, or OpenVINOSession), and use only `run`, `get_inputs` and
`get_outputs` on what it returns.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

logger = logging.getLogger(__name__)

SessionFactory = Callable[[Path], Any]
# transformers writes this "no limit" model_max_length (int(1e30)) for tokenizers that were saved without one.
_SANE_LENGTH = 1_000_000
_SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def read_json(path: Path) -> dict[str, Any]:
    """Return a JSON file as a dict ({} when the file does not exist)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def graph_path(folder: Path, stem: str) -> Path | None:
    """Return `folder/<stem>.onnx` when the export holds that graph as ONNX or as OpenVINO IR, else None.

    The factory receives the `.onnx` name either way; an OpenVINO factory swaps the suffix for `.xml`.
    """
    onnx = Path(folder) / f"{stem}.onnx"
    return onnx if onnx.is_file() or onnx.with_suffix(".xml").is_file() else None


def require_graph(folder: Path, stem: str) -> Path:
    """Return the graph's path, or raise FileNotFoundError naming the missing file."""
    path = graph_path(folder, stem)
    if path is None:
        raise FileNotFoundError(f"{folder}: the export has no {stem}.onnx (nor {stem}.xml); export it again")
    return path


def open_graph(folder: Path, stem: str, session: SessionFactory) -> Graph:
    """Open the export's graph `stem` with the factory; a factory marked `in_memory` (a torch baseline) needs no file."""
    if getattr(session, "in_memory", False):
        return Graph(session(Path(folder) / f"{stem}.onnx"))
    return Graph(session(require_graph(folder, stem)))


class Graph:
    """One session plus its input and output names; feeds it only the inputs the graph declares."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = {i.name: i for i in session.get_inputs()}
        self.output_names = [o.name for o in session.get_outputs()]

    @property
    def providers(self) -> list[str]:
        """Return where the session runs (ONNX Runtime's provider list, or OpenVINO's equivalent)."""
        get = getattr(self.session, "get_providers", None)
        return list(get()) if callable(get) else []

    def run(self, feeds: Mapping[str, np.ndarray], outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run on the feeds the graph takes (extra ones are dropped); return the named outputs by name."""
        names = outputs or self.output_names
        values = self.session.run(names, {k: v for k, v in feeds.items() if k in self.inputs})
        return dict(zip(names, values))


def softmax(values: np.ndarray) -> np.ndarray:
    """Return softmax over the last axis, computed as transformers' pipelines compute it."""
    maxes = np.max(values, axis=-1, keepdims=True)
    shifted = np.exp(values - maxes)
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Return the logistic function of the values."""
    return 1.0 / (1.0 + np.exp(-values))


FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"softmax": softmax, "sigmoid": sigmoid,
                                                            "none": lambda values: values}


@dataclass(frozen=True)
class Labels:
    """A classifier's labels and the score function its pipeline applies by default."""

    names: tuple[str, ...]
    function: str  # "softmax", "sigmoid" or "none"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Labels:
        """Read id2label and problem_type from a config.json dict (the pipelines' choice of function)."""
        raw = config.get("id2label") or {}
        count = int(config.get("num_labels") or len(raw) or 2)
        mapping = {int(k): str(v) for k, v in raw.items()}
        names = tuple(mapping.get(i, f"LABEL_{i}") for i in range(max(count, len(mapping))))
        problem = config.get("problem_type")
        if problem == "regression":
            function = "none"
        elif problem == "multi_label_classification" or len(names) == 1:
            function = "sigmoid"
        elif problem == "single_label_classification" or len(names) > 1:
            function = "softmax"
        else:
            function = str(config.get("function_to_apply", "none")).lower()
        return cls(names, function)

    def name(self, index: int) -> str:
        """Return the label of a class index (LABEL_<i> past the configured ones, as transformers names them)."""
        return self.names[index] if 0 <= index < len(self.names) else f"LABEL_{index}"

    def scores(self, logits: np.ndarray, function: str | None = None) -> np.ndarray:
        """Return float32 scores of one example's logits under `function` (the default one when None)."""
        name = (function or self.function).lower()
        if name not in FUNCTIONS:
            raise ValueError(f"unknown function_to_apply {function!r} (softmax, sigmoid or none)")
        return FUNCTIONS[name](np.asarray(logits, dtype=np.float32))


def _token_content(value: Any) -> str | None:
    """Return a special token's text from tokenizer_config (a string, or an AddedToken dict)."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TokenizerFacts:
    """What transformers' tokenizer wrapper adds around tokenizer.json: limits, sides and special tokens."""

    model_max_length: int | None
    padding_side: str
    truncation_side: str
    special: dict[str, str]  # "cls_token" -> "[CLS]"

    @classmethod
    def from_folder(cls, folder: Path) -> TokenizerFacts:
        """Read tokenizer_config.json and special_tokens_map.json (either may be missing)."""
        config = read_json(Path(folder) / "tokenizer_config.json")
        special_map = read_json(Path(folder) / "special_tokens_map.json")
        special = {}
        for name in _SPECIAL_NAMES:
            content = _token_content(config.get(name)) or _token_content(special_map.get(name))
            if content is not None:
                special[name] = content
        length = config.get("model_max_length")
        sane = isinstance(length, (int, float)) and 0 < length < _SANE_LENGTH
        return cls(int(length) if sane else None, str(config.get("padding_side", "right")),
                   str(config.get("truncation_side", "right")), special)

    def max_length(self, model_config: Mapping[str, Any], default: int = 512) -> int:
        """Return the token limit: model_max_length, else the model's positions (at most `default`)."""
        if self.model_max_length is not None:
            return self.model_max_length
        positions = model_config.get("max_position_embeddings") or model_config.get("n_positions")
        return min(int(positions), default) if positions else default

    def token_id(self, tokenizer: Any, name: str) -> int | None:
        """Return the id of a special token ("cls_token", ...) or None when the tokenizer has none."""
        content = self.special.get(name)
        if content is None and name == "unk_token":
            content = _model_unk(tokenizer)
        return None if content is None else tokenizer.token_to_id(content)


def _model_unk(tokenizer: Any) -> str | None:
    """Return the unknown token the tokenizer's model declares (WordPiece/BPE `unk_token`, Unigram `unk_id`)."""
    model = json.loads(tokenizer.to_str()).get("model", {})
    if isinstance(model.get("unk_token"), str):
        return model["unk_token"]
    if isinstance(model.get("unk_id"), int) and model.get("vocab"):
        return model["vocab"][model["unk_id"]][0]
    return None


def load_tokenizer(folder: Path, *, max_length: int | None, direction: str = "right", strategy: str = "longest_first",
                   stride: int = 0) -> Any:
    """Return tokenizer.json as a `tokenizers.Tokenizer` set up once: no padding, the given truncation.

    Set up here and only read afterwards: encoding is then safe from many threads, while changing the settings
    of a shared tokenizer during a call is what raises "Already borrowed".
    """
    from tokenizers import Tokenizer

    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: the export has no tokenizer.json (a fast tokenizer is required)")
    tokenizer = Tokenizer.from_file(str(path))
    # A tokenizer.json may be saved with padding or truncation switched on; transformers resets both per call.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    if max_length is not None:
        tokenizer.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
    return tokenizer


def as_ids(values: list[int]) -> np.ndarray:
    """Return one sequence of token ids (or mask values) as a (1, n) int64 array."""
    return np.asarray([values], dtype=np.int64)


def encoding_feeds(encoding: Any) -> dict[str, np.ndarray]:
    """Return the model inputs of one `tokenizers.Encoding` (a graph takes the ones it declares)."""
    return {"input_ids": as_ids(encoding.ids), "attention_mask": as_ids(encoding.attention_mask),
            "token_type_ids": as_ids(encoding.type_ids)}
