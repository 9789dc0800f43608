"""A causal language model on ONNX Runtime with numpy only: a streamed decoding loop over the key/value cache.

Optimum's `ORTModelForCausalLM` export is one graph (`model.onnx`) that takes the past keys and values of every
layer and returns them grown by the new tokens; the first step feeds empty ones. The loop below keeps that
cache between steps, so each new token costs one short run. Each step yields the token, the piece of text it
adds and the `top_k` most likely next tokens with their probabilities, which is what a demo shows while the
text grows. Decoding is greedy (temperature 0) or sampled from softmax(logits / temperature) with a seeded
generator, so a seed makes a sampled answer reproducible. `TorchCausalLM` (torch_baselines.py) runs the same
loop over the PyTorch model: the two share `DecodingLoop`, so tests compare runtimes, not two loops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from gallery.runtime.engine_base import read_json, require_graph

logger = logging.getLogger(__name__)

PAST, PRESENT = "past_key_values", "present"
TOP_K = 5


@dataclass(frozen=True)
class Candidate:
    """One possible next token and its probability."""

    token: int
    text: str
    probability: float


@dataclass(frozen=True)
class Step:
    """One decoding step: the chosen token, the text it adds, and the most likely next tokens."""

    token: int
    text: str  # what this token adds to the generated text (may be "" while a character is incomplete)
    probability: float  # the chosen token's probability
    top: tuple[Candidate, ...]
    finished: bool  # the model ended the text (end-of-sequence token)


def next_token_distribution(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Return the probabilities a step picks from: softmax(logits / temperature), or softmax(logits) when greedy."""
    scores = logits.astype(np.float64) / (temperature if temperature > 0 else 1.0)
    scores -= scores.max()
    probs = np.exp(scores)
    return probs / probs.sum()


def pick(logits: np.ndarray, probs: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Return the argmax of the logits when greedy, else a token drawn from `probs`."""
    if temperature <= 0:
        return int(np.argmax(logits))
    return int(rng.choice(probs.size, p=probs))


class DecodingLoop:
    """The decoding rules shared by the ONNX engine and its PyTorch baseline: picking, top-k, text pieces.

    A subclass gives `prefill(ids) -> (logits, state)` and `advance(token, state) -> (logits, state)`.
    """

    tokenizer: Any  # a `tokenizers.Tokenizer`
    eos_ids: frozenset[int] = frozenset()
    max_positions: int = 2048

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, Any]:
        """Run the prompt; return the last position's logits and the cache."""
        raise NotImplementedError

    def advance(self, token: int, state: Any) -> tuple[np.ndarray, Any]:
        """Run one token after the cache; return its logits and the grown cache."""
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        """Return the prompt's token ids (with the tokenizer's own special tokens, as transformers adds them)."""
        return list(self.tokenizer.encode(text).ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Return the text of token ids without special tokens."""
        return str(self.tokenizer.decode([int(t) for t in ids], skip_special_tokens=True))

    def stream(self, prompt: str | Sequence[int], max_new_tokens: int, temperature: float = 0.0,
               seed: int | None = None, top_k: int = TOP_K) -> Iterator[Step]:
        """Yield one Step per generated token until end-of-sequence or `max_new_tokens`."""
        ids = self.encode(prompt) if isinstance(prompt, str) else [int(t) for t in prompt]
        if not ids:
            raise ValueError("the prompt has no tokens")
        budget = min(int(max_new_tokens), self.max_positions - len(ids))
        if budget <= 0:
            raise ValueError(f"the prompt has {len(ids)} tokens; the model reads at most {self.max_positions}")
        rng = np.random.default_rng(seed)
        logits, state = self.prefill(ids)
        new: list[int] = []
        shown = ""
        for index in range(budget):
            probs = next_token_distribution(logits, temperature)
            token = pick(logits, probs, temperature, rng)
            best = np.argsort(-probs, kind="stable")[:top_k]
            top = tuple(Candidate(int(t), self.decode([int(t)]), float(probs[t])) for t in best)
            new.append(token)
            finished = token in self.eos_ids
            text = self.decode(new)
            # A byte-level token may end inside a character: wait for the rest before showing it.
            piece = "" if text.endswith("\ufffd") else text[len(shown):]
            shown = shown if text.endswith("\ufffd") else text
            yield Step(token, piece, float(probs[token]), top, finished)
            if finished or index == budget - 1:
                return
            logits, state = self.advance(token, state)

    def generate_ids(self, prompt: str | Sequence[int], max_new_tokens: int = 32) -> list[int]:
        """Return the greedy new token ids (the int8 check and the tests compare these)."""
        return [step.token for step in self.stream(prompt, max_new_tokens)]

    def generate(self, prompt: str, max_new_tokens: int = 32, temperature: float = 0.0,
                 seed: int | None = None) -> str:
        """Return the generated text (no streaming)."""
        steps = list(self.stream(prompt, max_new_tokens, temperature, seed))
        return self.decode([s.token for s in steps])


def read_eos_ids(folder: Path) -> frozenset[int]:
    """Return the end-of-sequence ids of generation_config.json (or config.json)."""
    found: set[int] = set()
    for name in ("generation_config.json", "config.json"):
        value = read_json(folder / name).get("eos_token_id")
        found.update(value if isinstance(value, list) else [] if value is None else [value])
    return frozenset(int(v) for v in found)


def _empty_past(node: Any, kv_heads: int, head_dim: int) -> np.ndarray:
    """Return a (1, heads, 0, head_dim) past input (the graph's shape where fixed, else the config's)."""
    shape = list(getattr(node, "shape", []) or [])
    heads = shape[1] if len(shape) == 4 and isinstance(shape[1], int) else kv_heads
    size = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else head_dim
    dtype = np.float16 if getattr(node, "type", "") == "tensor(float16)" else np.float32
    return np.zeros((1, heads, 0, size), dtype=dtype)


class OnnxCausalLM(DecodingLoop):
    """An exported causal LM folder (`model.onnx`, `tokenizer.json`, configs) behind the decoding loop.

    Thread-safe: the cache lives in each call's own state, never on the object.
    """

    def __init__(self, folder: Path, session: Callable[[Path], Any]) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.folder = folder
        self.session = session(require_graph(folder, "model"))
        self.providers = self.session.get_providers()
        if not (folder / "tokenizer.json").is_file():
            raise FileNotFoundError(f"{folder}: the export has no tokenizer.json (export it again)")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = read_json(folder / "config.json")
        self.eos_ids = read_eos_ids(folder)
        self.max_positions = int(config.get("max_position_embeddings", 2048))
        heads = int(config.get("num_attention_heads", 1))
        head_dim = int(config.get("head_dim") or int(config.get("hidden_size", heads)) // heads)
        kv_heads = int(config.get("num_key_value_heads") or heads)
        inputs = {node.name: node for node in self.session.get_inputs()}
        self.past_names = [name for name in inputs if name.startswith(PAST)]
        if "input_ids" not in inputs or not self.past_names:
            raise ValueError(f"{folder}: model.onnx is not a causal LM export with a cache (inputs {sorted(inputs)})")
        self.uses_mask = "attention_mask" in inputs
        self.uses_positions = "position_ids" in inputs
        self.outputs = ["logits"] + [PRESENT + name[len(PAST):] for name in self.past_names]
        self._no_past = {name: _empty_past(inputs[name], kv_heads, head_dim) for name in self.past_names}

    def _run(self, ids: Sequence[int], start: int, past: dict[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        """Run tokens at positions start.. after `past`; return the last logits and the grown cache."""
        feed: dict[str, np.ndarray] = {"input_ids": np.array([list(ids)], dtype=np.int64), **past}
        total = start + len(ids)
        if self.uses_mask:
            feed["attention_mask"] = np.ones((1, total), dtype=np.int64)
        if self.uses_positions:
            feed["position_ids"] = np.arange(start, total, dtype=np.int64)[None, :]
        values = self.session.run(self.outputs, feed)
        grown = {name: value for name, value in zip(self.past_names, values[1:])}
        return np.asarray(values[0])[0, -1].astype(np.float32), (total, grown)

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, Any]:
        """Run the prompt with an empty cache."""
        return self._run(ids, 0, self._no_past)

    def advance(self, token: int, state: Any) -> tuple[np.ndarray, Any]:
        """Run one token after the cache."""
        total, past = state
        return self._run([token], total, past)

    def logits(self, prompt: str) -> np.ndarray:
        """Return the next-token logits after the prompt (tests compare these with PyTorch's)."""
        return self.prefill(self.encode(prompt))[0]
