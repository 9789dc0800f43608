"""Encoder-decoder text generation (T5, BART, Marian...) on exported graphs with numpy: greedy, with a KV cache.

The export holds `encoder_model.onnx` and either the merged decoder `decoder_model_merged.onnx` (first-step and
with-past graphs as two branches over one copy of the weights, `use_cache_branch` picks one) or the pair
`decoder_model` + `decoder_with_past_model` (OpenVINO IR keeps them apart: its CPU plug-in refuses the merged
graph's `If`). The loop keeps the cross-attention keys/values of the first step and feeds back the growing
self-attention ones, and applies the logits processors that transformers' greedy `generate` applies from the
model's generation config, in its order, so the tokens match the PyTorch model's (tests/runtime/test_engines.py).

Greedy search only: the text2text-generation, summarization and translation pipelines of transformers 4.x
default to 4 beams when the model names no `num_beams`; here asking for beams or sampling raises ValueError.
Thread-safe: sessions may run concurrently and a call keeps its state in locals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from gallery.runtime.engine_base import (
    Graph,
    SessionFactory,
    TokenizerFacts,
    as_ids,
    graph_path,
    load_tokenizer,
    read_json,
    require_graph,
)
from gallery.runtime.whisper_onnx import PAST, PRESENT, clean_up_spaces, empty_past

logger = logging.getLogger(__name__)

NEG_INF = np.float32(-np.inf)
RETURN_NAMES = {"text2text-generation": "generated", "summarization": "summary", "translation": "translation"}
PIPELINE_MAX_NEW_TOKENS = 256  # the seq2seq pipelines' default when the model's config sets no length
DEFAULT_MAX_LENGTH = 20  # GenerationConfig's max_length default, which the pipelines do not honour
# Generation settings an old config.json may carry when the export has no generation_config.json.
_GENERATION_KEYS = ("decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "max_length",
                    "max_new_tokens", "min_length", "min_new_tokens", "no_repeat_ngram_size", "repetition_penalty",
                    "bad_words_ids", "forced_bos_token_id", "forced_eos_token_id", "suppress_tokens",
                    "begin_suppress_tokens", "num_beams", "do_sample")
_CALL_OVERRIDES = ("max_new_tokens", "max_length", "min_length", "min_new_tokens", "no_repeat_ngram_size",
                   "repetition_penalty", "num_beams", "do_sample")


def _ids(value: Any) -> tuple[int, ...]:
    """Return a token id or a list of them as a tuple (empty for None)."""
    if value is None:
        return ()
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value),)


@dataclass(frozen=True)
class Generation:
    """The greedy decoding settings: the model's generation config, its task's overrides, then a call's."""

    start_id: int
    eos_ids: tuple[int, ...]
    max_new_tokens: int | None = None
    max_length: int | None = None  # counts the decoder prompt (the start token), as transformers counts it
    min_length: int = 0
    min_new_tokens: int = 0
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    bad_words_ids: tuple[tuple[int, ...], ...] = ()
    forced_bos_token_id: int | None = None
    forced_eos_token_ids: tuple[int, ...] = ()
    suppress_tokens: tuple[int, ...] = ()
    begin_suppress_tokens: tuple[int, ...] = ()
    num_beams: int = 1
    do_sample: bool = False

    @classmethod
    def from_configs(cls, generation: Mapping[str, Any], model_config: Mapping[str, Any],
                     task_params: Mapping[str, Any]) -> Generation:
        """Build from generation_config.json (or config.json's generation keys) updated by task_specific_params."""
        gen = dict(generation) if generation else {k: model_config[k] for k in _GENERATION_KEYS if k in model_config}
        # As the pipelines settle it: 256 new tokens, unless the model's own config sets a max_length other than
        # GenerationConfig's default 20 (its max_new_tokens, and the task's max_length, lose to the 256).
        max_length = gen.get("max_length")
        if max_length is None or max_length == DEFAULT_MAX_LENGTH:
            max_new, max_length = PIPELINE_MAX_NEW_TOKENS, None
        else:
            max_new = None
        gen.update({k: v for k, v in task_params.items() if k != "prefix"})
        start = gen.get("decoder_start_token_id", model_config.get("decoder_start_token_id"))
        if start is None:
            start = gen.get("bos_token_id", model_config.get("bos_token_id"))
        eos = _ids(gen.get("eos_token_id", model_config.get("eos_token_id")))
        if start is None or not eos:
            raise ValueError("the model's config names no decoder start token or no end-of-sequence token")
        bad = tuple(tuple(int(t) for t in seq) for seq in gen.get("bad_words_ids") or ())
        return cls(
            start_id=int(start), eos_ids=eos, max_new_tokens=max_new,
            max_length=None if max_length is None else int(max_length),
            min_length=int(gen.get("min_length") or 0), min_new_tokens=int(gen.get("min_new_tokens") or 0),
            no_repeat_ngram_size=int(gen.get("no_repeat_ngram_size") or 0),
            repetition_penalty=float(gen.get("repetition_penalty") or 1.0),
            # An end-of-sequence token listed as a bad word is not banned (NoBadWordsLogitsProcessor drops it).
            bad_words_ids=tuple(seq for seq in bad if seq and not (len(seq) == 1 and seq[0] in eos)),
            forced_bos_token_id=None if gen.get("forced_bos_token_id") is None else int(gen["forced_bos_token_id"]),
            forced_eos_token_ids=_ids(gen.get("forced_eos_token_id")),
            suppress_tokens=_ids(gen.get("suppress_tokens")),
            begin_suppress_tokens=_ids(gen.get("begin_suppress_tokens")),
            num_beams=int(gen.get("num_beams") or 1), do_sample=bool(gen.get("do_sample", False)),
        )

    def with_call(self, **overrides: Any) -> Generation:
        """Return these settings with a call's keyword arguments applied (max_new_tokens beats max_length)."""
        unknown = sorted(set(overrides) - set(_CALL_OVERRIDES))
        if unknown:
            raise TypeError(f"unsupported generation arguments {unknown} (supported: {', '.join(_CALL_OVERRIDES)})")
        given = {k: v for k, v in overrides.items() if v is not None}
        if given.pop("do_sample", False):
            raise ValueError("do_sample=True is not supported: this engine decodes greedily (do_sample=False)")
        beams = int(given.pop("num_beams", 1))
        if beams > 1:
            raise ValueError(f"num_beams={beams} is not supported: this engine decodes greedily (num_beams=1)")
        if "max_length" in given and "max_new_tokens" not in given:
            given["max_new_tokens"] = None
        settings = replace(self, **given, num_beams=1, do_sample=False)
        if settings.max_new_tokens is not None and settings.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {settings.max_new_tokens}")
        return settings

    def limit(self, prompt_length: int) -> int:
        """Return the total decoder length at which decoding stops (prompt included)."""
        if self.max_new_tokens is not None:
            return prompt_length + self.max_new_tokens
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH


def banned_ngrams(ids: Sequence[int], n: int) -> list[int]:
    """Return the tokens that would repeat an n-gram already in `ids` (NoRepeatNGramLogitsProcessor)."""
    if len(ids) + 1 < n:
        return []
    prefix = tuple(ids[len(ids) + 1 - n:]) if n > 1 else ()
    return [ids[i + n - 1] for i in range(len(ids) - n + 1) if tuple(ids[i:i + n - 1]) == prefix]


def process_scores(ids: Sequence[int], scores: np.ndarray, settings: Generation, prompt_length: int,
                   limit: int) -> np.ndarray:
    """Apply greedy `generate`'s logits processors, in its order, to the next token's float32 scores."""
    length = len(ids)
    if settings.repetition_penalty != 1.0:
        seen = np.unique(np.asarray(ids, dtype=np.int64))
        values = scores[seen]
        scores[seen] = np.where(values < 0, values * settings.repetition_penalty, values / settings.repetition_penalty)
    if settings.no_repeat_ngram_size > 0:
        scores[banned_ngrams(ids, settings.no_repeat_ngram_size)] = NEG_INF
    for seq in settings.bad_words_ids:
        if len(seq) == 1 or tuple(ids[-(len(seq) - 1):]) == seq[:-1]:
            scores[seq[-1]] = NEG_INF
    eos = list(settings.eos_ids)
    if length < settings.min_length or length - prompt_length < settings.min_new_tokens:
        scores[eos] = NEG_INF
    if settings.forced_bos_token_id is not None and length == 1:
        scores[:] = NEG_INF
        scores[settings.forced_bos_token_id] = 0
    if settings.forced_eos_token_ids and length == limit - 1:
        scores[:] = NEG_INF
        scores[list(settings.forced_eos_token_ids)] = 0
    if settings.suppress_tokens:
        scores[list(settings.suppress_tokens)] = NEG_INF
    begin = prompt_length + (1 if prompt_length == 1 and settings.forced_bos_token_id is not None else 0)
    if settings.begin_suppress_tokens and length == begin:
        scores[list(settings.begin_suppress_tokens)] = NEG_INF
    return scores


class OnnxSeq2Seq:
    """An exported encoder-decoder folder: tokenize (with the task's prefix), encode, decode greedily, detokenize."""

    def __init__(self, folder: Path, session: SessionFactory, task: str = "text2text-generation", *,
                 max_input_length: int | None = None) -> None:
        self.folder = Path(folder)
        family = task.split("_")[0]
        if family not in RETURN_NAMES:
            raise ValueError(f"unknown seq2seq task {task!r} (text2text-generation, summarization, translation)")
        self.task = task
        self.output_key = f"{RETURN_NAMES[family]}_text"
        self.encoder = Graph(session(require_graph(self.folder, "encoder_model")))
        merged = graph_path(self.folder, "decoder_model_merged")
        self.merged = merged is not None
        self.decoder = Graph(session(merged or require_graph(self.folder, "decoder_model")))
        with_past = None if self.merged else graph_path(self.folder, "decoder_with_past_model")
        self.decoder_with_past = Graph(session(with_past)) if with_past else None
        config = read_json(self.folder / "config.json")
        task_params = (config.get("task_specific_params") or {}).get(task) or {}
        self.prefix = str(task_params.get("prefix", config.get("prefix")) or "")
        self.settings = Generation.from_configs(read_json(self.folder / "generation_config.json"), config, task_params)
        if self.settings.num_beams > 1 or self.settings.do_sample:
            logger.warning("%s: the model's config asks for %s; this engine decodes greedily", self.folder,
                           "sampling" if self.settings.do_sample else f"{self.settings.num_beams} beams")
        facts = TokenizerFacts.from_folder(self.folder)
        self.max_input_length = int(max_input_length or facts.max_length(config))
        self.tokenizer = load_tokenizer(self.folder, max_length=self.max_input_length,
                                        direction=facts.truncation_side)
        self._plan_cache()

    def _plan_cache(self) -> None:
        """Work out which graph runs each step and which key/value outputs feed which inputs."""
        step = self.decoder if self.merged else self.decoder_with_past
        self.past_names = [n for n in step.inputs if n.startswith(PAST)] if step else []
        step_presents = set(step.output_names) if step else set()
        first_presents = [n for n in self.decoder.output_names if n.startswith(PRESENT)]
        # Without a with-past graph (or a first step that returns no cache) every step re-reads all the tokens.
        self.cached = bool(self.past_names) and bool(first_presents)
        self.first_outputs = ["logits"] + (first_presents if self.cached else [])
        # The cache branch passes the cross-attention keys/values through as empty placeholders: the loop keeps
        # the first step's and asks only for the self-attention ones, which grow by a token each step.
        self.step_outputs = ["logits"] + [PRESENT + n[len(PAST):] for n in self.past_names
                                          if ".encoder." not in n and PRESENT + n[len(PAST):] in step_presents]
        self._no_past = {n: empty_past(self.decoder.inputs[n]) for n in self.past_names} if self.merged else {}

    @property
    def providers(self) -> list[str]:
        """Return where the encoder runs."""
        return self.encoder.providers

    def __call__(self, inputs: str | Sequence[str], *, clean_up_tokenization_spaces: bool = False,
                 **generate_kwargs: Any) -> list[dict[str, str]]:
        """Generate from one text ([{key: text}]) or a list of texts ([{key: text}, ...], one dict each).

        `key` is generated_text, summary_text or translation_text after the task. Keyword arguments: max_new_tokens,
        max_length, min_length, min_new_tokens, no_repeat_ngram_size, repetition_penalty; do_sample=True and
        num_beams > 1 raise ValueError.
        """
        settings = self.settings.with_call(**generate_kwargs)
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        results = []
        for text in texts:
            tokens = self._generate(text, settings)
            decoded = self.tokenizer.decode(tokens, skip_special_tokens=True)
            results.append({self.output_key: clean_up_spaces(decoded) if clean_up_tokenization_spaces else decoded})
        return results

    def generate_ids(self, text: str, max_new_tokens: int | None = None, **generate_kwargs: Any) -> list[int]:
        """Return the greedy token ids for `text`, start token first, as `model.generate(...)[0]` returns them.

        Without a length the pipelines' default applies (256 new tokens unless the model sets a max_length).
        """
        return self._generate(text, self.settings.with_call(max_new_tokens=max_new_tokens, **generate_kwargs))

    def encode(self, text: str) -> np.ndarray:
        """Return the input ids (1, n) of the task prefix + `text`, cut to max_input_length."""
        if not isinstance(text, str):
            raise TypeError(f"{self.task} takes strings, got {type(text).__name__}")
        return as_ids(self.tokenizer.encode(self.prefix + text).ids)

    def _generate(self, text: str, settings: Generation) -> list[int]:
        input_ids = self.encode(text)
        mask = np.ones_like(input_ids)
        hidden = self.encoder.run({"input_ids": input_ids, "attention_mask": mask}, ["last_hidden_state"])
        context = {"encoder_hidden_states": hidden["last_hidden_state"], "encoder_attention_mask": mask}
        ids = [settings.start_id]
        limit = settings.limit(len(ids))
        feeds = {**context, "input_ids": as_ids(ids), **self._no_past}
        if self.merged:
            feeds["use_cache_branch"] = np.array([False])
        out = self.decoder.run(feeds, self.first_outputs)
        cache = {PAST + n[len(PRESENT):]: v for n, v in out.items() if n.startswith(PRESENT)}
        while True:
            scores = out["logits"][0, -1].astype(np.float32, copy=True)
            token = int(np.argmax(process_scores(ids, scores, settings, 1, limit)))
            ids.append(token)
            if token in settings.eos_ids or len(ids) >= limit:
                return ids
            if not self.cached:
                out = self.decoder.run({**context, "input_ids": as_ids(ids)}, ["logits"])
                continue
            feeds = {**context, **cache, "input_ids": as_ids([token])}
            if self.merged:
                feeds["use_cache_branch"] = np.array([True])
            out = (self.decoder if self.merged else self.decoder_with_past).run(feeds, self.step_outputs)
            cache.update({PAST + n[len(PRESENT):]: v for n, v in out.items() if n.startswith(PRESENT)})
