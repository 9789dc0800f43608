"""Whisper on ONNX Runtime with numpy only: log-mel features, the encoder, and greedy decoding by Whisper's rules.

The warm path of a speech demo imports neither torch nor transformers (about 4 s of imports on 2 cores): it
reads the exported encoder and merged decoder sessions, `tokenizer.json` with `tokenizers`, the generation
config as JSON and the mel filter bank the export saved. The merged decoder holds the first-step and the
with-past graphs as two branches over one copy of the weights (`use_cache_branch` picks the branch). The decoding loop keeps every key/value
cache inside ONNX Runtime and applies the logits processors that transformers' Whisper `generate` applies for
greedy short-form decoding, in the same order (no-repeat n-grams, suppressed tokens, suppressed-at-begin
tokens, timestamp rules), so the tokens match the PyTorch model's; `tests/runtime/test_asr.py` checks that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gallery.runtime.engine_base import read_json

logger = logging.getLogger(__name__)

MEL_FILTERS = "mel_filters.npy"  # written by the export: the feature extractor's own filter bank
ENCODER, DECODER = "encoder_model.onnx", "decoder_model_merged.onnx"
PAST, PRESENT = "past_key_values", "present"
NEG_INF = np.float32(-np.inf)


@dataclass(frozen=True)
class WhisperFacts:
    """What decoding needs from a Whisper generation config and vocabulary (shared by both engines)."""

    start_id: int
    eot_id: int
    no_timestamps_id: int | None
    timestamp_begin: int | None  # first timestamp token; None for a model without timestamp tokens
    suppress_tokens: tuple[int, ...] = ()
    begin_suppress_tokens: tuple[int, ...] = ()
    languages: dict[str, int] = field(default_factory=dict)  # "en" -> id of <|en|>
    tasks: dict[str, int] = field(default_factory=dict)  # "transcribe" -> id of <|transcribe|>
    max_initial_timestamp_index: int | None = None
    max_target: int = 448

    @property
    def multilingual(self) -> bool:
        """Return whether the model takes a language and a task in its prompt."""
        return bool(self.languages)

    @classmethod
    def from_config(cls, generation: dict[str, Any], model_config: dict[str, Any], token_id: Any) -> WhisperFacts:
        """Build from generation_config / config dicts; `token_id(str)` looks a token up (None when absent)."""
        eot = generation.get("eos_token_id")
        if isinstance(eot, list):
            eot = eot[0]
        if eot is None:
            eot = generation.get("bos_token_id")
        no_ts = generation.get("no_timestamps_token_id")
        first_ts = token_id("<|0.00|>") if no_ts is not None else None
        multilingual = bool(generation.get("is_multilingual")) and bool(generation.get("lang_to_id"))
        lang_to_id = (generation.get("lang_to_id") or {}) if multilingual else {}
        languages = {tok[2:-2]: int(i) for tok, i in lang_to_id.items()}
        return cls(
            start_id=int(generation["decoder_start_token_id"]),
            eot_id=int(eot),
            no_timestamps_id=None if no_ts is None else int(no_ts),
            # Timestamp tokens follow <|notimestamps|> directly; a model without them gets one segment per piece.
            timestamp_begin=int(first_ts) if first_ts is not None and first_ts == no_ts + 1 else None,
            suppress_tokens=tuple(int(t) for t in generation.get("suppress_tokens") or ()),
            begin_suppress_tokens=tuple(int(t) for t in generation.get("begin_suppress_tokens") or ()),
            languages=languages,
            tasks={k: int(v) for k, v in (generation.get("task_to_id") or {}).items()} if multilingual else {},
            max_initial_timestamp_index=generation.get("max_initial_timestamp_index"),
            max_target=int(model_config.get("max_target_positions", 448)),
        )

    def prompt(self, language: str | None, task: str, timestamps: bool) -> list[int]:
        """Return the decoder prompt `generate` builds: start, language and task (multilingual), no-timestamps."""
        tokens = [self.start_id]
        if self.multilingual:
            tokens += [self.languages[language or "en"], self.tasks.get(task, self.tasks.get("transcribe"))]
        if not timestamps and self.no_timestamps_id is not None:
            tokens.append(self.no_timestamps_id)
        return [t for t in tokens if t is not None]


def hann_window(length: int) -> np.ndarray:
    """Return the periodic Hann window (torch.hann_window's default) as float64."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def log_mel(samples: np.ndarray, mel_filters: np.ndarray, n_fft: int = 400, hop: int = 160,
            n_samples: int = 480_000) -> np.ndarray:
    """Return Whisper's log-mel features (1, mels, frames) of audio padded or cut to `n_samples`.

    The same steps as WhisperFeatureExtractor: centred STFT with reflect padding, power spectrum without the
    last frame, mel filter bank, log10 floored at 1e-10, an 8-decade dynamic range, then (x + 4) / 4.
    """
    wave = np.zeros(n_samples, dtype=np.float64)
    piece = np.asarray(samples, dtype=np.float64).reshape(-1)[:n_samples]
    wave[: piece.size] = piece
    padded = np.pad(wave, n_fft // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * hann_window(n_fft), axis=-1)) ** 2  # (frames, n_fft // 2 + 1)
    mel = np.asarray(mel_filters, dtype=np.float64).T @ power[:-1].T  # (mels, frames - 1)
    spec = np.log10(np.maximum(mel, 1e-10))
    spec = np.maximum(spec, spec.max() - 8.0)
    return ((spec + 4.0) / 4.0).astype(np.float32)[None]


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Return log-softmax in float32 (entries of -inf stay -inf)."""
    top = np.max(scores)
    shifted = scores - top
    return shifted - np.log(np.sum(np.exp(shifted), dtype=np.float32))


def logsumexp(values: np.ndarray) -> float:
    """Return log(sum(exp(values))) computed stably (-inf for an empty or all -inf array)."""
    if not values.size:
        return float("-inf")
    top = float(np.max(values))
    if top == float("-inf"):
        return top
    return top + float(np.log(np.sum(np.exp(values - np.float32(top)), dtype=np.float32)))


class Rules:
    """The logits processors of greedy Whisper `generate`, in its order, on one float32 score vector."""

    def __init__(self, facts: WhisperFacts, vocab: int, begin_index: int, timestamps: bool, no_repeat: int) -> None:
        self.facts = facts
        self.begin_index = begin_index
        self.timestamps = timestamps and facts.timestamp_begin is not None
        self.no_repeat = no_repeat
        self.suppress = np.zeros(vocab, dtype=bool)
        self.suppress[[t for t in facts.suppress_tokens if t < vocab]] = True
        self.begin_suppress = np.zeros(vocab, dtype=bool)
        self.begin_suppress[[t for t in facts.begin_suppress_tokens if t < vocab]] = True

    def __call__(self, ids: Sequence[int], scores: np.ndarray) -> np.ndarray:
        """Return the processed scores for the next token after `ids` (prompt included)."""
        if self.no_repeat:
            scores[self._banned_ngrams(ids)] = NEG_INF
        scores[self.suppress] = NEG_INF
        if len(ids) == self.begin_index:
            scores[self.begin_suppress] = NEG_INF
        if self.timestamps:
            self._timestamp_rules(ids, scores)
        return scores

    def _banned_ngrams(self, ids: Sequence[int]) -> list[int]:
        """Tokens that would repeat an n-gram already in `ids` (NoRepeatNGramLogitsProcessor, prompt included)."""
        n = self.no_repeat
        if len(ids) + 1 < n:
            return []
        prefix = tuple(ids[len(ids) + 1 - n:]) if n > 1 else ()
        return [ids[i + n - 1] for i in range(len(ids) - n + 1) if tuple(ids[i:i + n - 1]) == prefix]

    def _timestamp_rules(self, ids: Sequence[int], scores: np.ndarray) -> None:
        """WhisperTimeStampLogitsProcessor: paired, non-decreasing timestamps; a timestamp when they are likelier."""
        begin = self.facts.timestamp_begin
        assert begin is not None
        if self.facts.no_timestamps_id is not None:
            scores[self.facts.no_timestamps_id] = NEG_INF
        sampled = list(ids[self.begin_index:])
        last_was_ts = len(sampled) >= 1 and sampled[-1] >= begin
        penultimate_was_ts = len(sampled) < 2 or sampled[-2] >= begin
        if last_was_ts:
            if penultimate_was_ts:  # has to be text
                scores[begin:] = NEG_INF
            else:  # cannot be text
                scores[: self.facts.eot_id] = NEG_INF
        stamps = [t for t in sampled if t >= begin]
        if stamps:
            # Timestamps never decrease; after a closing timestamp the same one may not repeat.
            last = stamps[-1] if (last_was_ts and not penultimate_was_ts) else stamps[-1] + 1
            scores[begin:last] = NEG_INF
        if len(ids) == self.begin_index:
            scores[:begin] = NEG_INF
            if self.facts.max_initial_timestamp_index is not None:
                scores[begin + self.facts.max_initial_timestamp_index + 1:] = NEG_INF
        logprobs = log_softmax(scores)
        if logsumexp(logprobs[begin:]) > float(np.max(logprobs[:begin])):
            scores[:begin] = NEG_INF


def clean_up_spaces(text: str) -> str:
    """Apply transformers' `clean_up_tokenization` (for tokenizers configured with it)."""
    for old, new in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(old, new)
    return text


def empty_past(node: Any) -> np.ndarray:
    """Return a (1, heads, 0, head_dim) array for a past key/value input of the merged decoder."""
    heads, head_dim = node.shape[1], node.shape[3]
    if not isinstance(heads, int) or not isinstance(head_dim, int):
        raise ValueError(f"past input {node.name} has no fixed heads/head size: {node.shape}")
    dtype = np.float16 if getattr(node, "type", "") == "tensor(float16)" else np.float32
    return np.zeros((1, heads, 0, head_dim), dtype=dtype)


def require_files(folder: Path, names: Sequence[str]) -> None:
    """Raise FileNotFoundError naming the first file an export lacks."""
    for name in names:
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder}: the Whisper export has no {name} (export it again)")


class OnnxWhisper:
    """An exported Whisper folder: features, encoder, language logits, greedy decoding, detokenizing.

    The encoder and the merged decoder are ONNX Runtime sessions, or OpenVINO models behind the same methods
    (`openvino.SplitDecoder`). Thread-safe: sessions may run concurrently and no call keeps state on the object.
    """

    @classmethod
    def open(cls, folder: Path, session: Any) -> OnnxWhisper:
        """Open an export with a backend's session factory: its merged decoder, or (OpenVINO IR) its two decoders."""
        from gallery.runtime.engine_base import graph_path

        folder = Path(folder)
        require_files(folder, ("tokenizer.json", MEL_FILTERS))
        stems = ("encoder_model", "decoder_model_merged", "decoder_model", "decoder_with_past_model")
        encoder, merged, first, with_past = (graph_path(folder, stem) for stem in stems)
        if encoder is None or merged is None and (first is None or with_past is None):
            raise FileNotFoundError(f"{folder}: the Whisper export has no {ENCODER} and {DECODER} (export it again)")
        if merged is not None:
            return cls(folder, session(encoder), session(merged))
        # OpenVINO's CPU plug-in refuses the merged decoder's `If`: its IR keeps the two graphs.
        from gallery.runtime.openvino import SplitDecoder

        assert first is not None and with_past is not None
        return cls(folder, session(encoder), SplitDecoder(session(first), session(with_past)))

    @classmethod
    def on_onnxruntime(cls, folder: Path, providers: list[str], session_options: Any = None) -> OnnxWhisper:
        """Open an ONNX export (encoder + merged decoder) with ONNX Runtime."""
        import onnxruntime as ort

        folder = Path(folder)
        require_files(folder, (ENCODER, DECODER, "tokenizer.json", MEL_FILTERS))
        return cls(folder, ort.InferenceSession(str(folder / ENCODER), session_options, providers=providers),
                   ort.InferenceSession(str(folder / DECODER), session_options, providers=providers))

    def __init__(self, folder: Path, encoder: Any, decoder: Any) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.encoder = encoder
        self.decoder = decoder
        self.providers = self.encoder.get_providers()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.mel_filters = np.load(folder / MEL_FILTERS)
        features = read_json(folder / "preprocessor_config.json")
        self.sample_rate = int(features.get("sampling_rate", 16000))
        self.window_seconds = float(features.get("chunk_length", 30))
        self.n_fft = int(features.get("n_fft", 400))
        self.hop = int(features.get("hop_length", 160))
        self.n_samples = int(features.get("n_samples", int(self.window_seconds * self.sample_rate)))
        self.clean_up = bool(read_json(folder / "tokenizer_config.json").get("clean_up_tokenization_spaces", False))
        self.facts = WhisperFacts.from_config(read_json(folder / "generation_config.json"),
                                              read_json(folder / "config.json"), self.tokenizer.token_to_id)
        inputs = {i.name: i for i in self.decoder.get_inputs()}
        self.past_names = [name for name in inputs if name.startswith(PAST)]
        if set(inputs) - set(self.past_names) != {"input_ids", "encoder_hidden_states", "use_cache_branch"}:
            raise ValueError(f"{folder}: unexpected decoder inputs {sorted(inputs)}")
        self.first_outputs = [o.name for o in self.decoder.get_outputs()]
        # The cache branch passes the cross-attention keys/values through as empty placeholders: the loop keeps
        # the first step's and asks only for the self-attention ones, which grow by a token each step.
        self.step_outputs = ["logits"] + [PRESENT + name[len(PAST):] for name in self.past_names
                                          if ".encoder." not in name]
        # The first step's branch reads no past, but every graph input needs a value: empty ones, made once.
        self._no_past = {name: ort.OrtValue.ortvalue_from_numpy(empty_past(inputs[name])) for name in self.past_names}
        self._branch = {flag: ort.OrtValue.ortvalue_from_numpy(np.array([flag])) for flag in (False, True)}

    # -- steps ------------------------------------------------------------------------------------------

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Return log-mel features (1, mels, 3000) of up to 30 s of 16 kHz mono samples."""
        return log_mel(samples, self.mel_filters, self.n_fft, self.hop, self.n_samples)

    def encode(self, features: np.ndarray) -> np.ndarray:
        """Return the encoder's hidden states for log-mel features."""
        return self.encoder.run(None, {"input_features": np.ascontiguousarray(features, dtype=np.float32)})[0]

    def first_logits(self, encoded: np.ndarray, prompt: Sequence[int]) -> np.ndarray:
        """Return the float32 logits after the prompt's last token (language detection reads these)."""
        import onnxruntime as ort

        feed = self._first_feed(ort.OrtValue.ortvalue_from_numpy(np.array([list(prompt)], dtype=np.int64)),
                                ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(encoded)))
        logits = self.decoder.run_with_ort_values(["logits"], feed)[0].numpy()
        return logits[0, -1].astype(np.float32)

    def _first_feed(self, input_ids: Any, encoded: Any) -> dict[str, Any]:
        """Return the merged decoder's inputs for its first step (no past)."""
        return {"input_ids": input_ids, "encoder_hidden_states": encoded, "use_cache_branch": self._branch[False],
                **self._no_past}

    def generate(self, features: np.ndarray, language: str | None, task: str, max_new_tokens: int,
                 timestamps: bool, no_repeat: int = 0, encoded: np.ndarray | None = None) -> list[int]:
        """Greedy-decode one piece after Whisper's prompt; return the new tokens.

        `encoded` is the encoder output of `features` where it is known already (language detection made it).
        """
        if encoded is None:
            encoded = self.encode(features)
        timestamps = timestamps and self.facts.timestamp_begin is not None
        return self.decode_greedy(encoded, self.facts.prompt(language, task, timestamps), max_new_tokens,
                                  timestamps, no_repeat)

    def decode_greedy(self, encoded: np.ndarray, prompt: Sequence[int], max_new_tokens: int, timestamps: bool,
                      no_repeat: int = 0) -> list[int]:
        """Greedy-decode after `prompt`; return the new tokens (ending with end-of-text unless cut by the limit)."""
        import onnxruntime as ort

        ids = [int(t) for t in prompt]
        limit = len(ids) + max_new_tokens
        encoded_value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(encoded))
        first = self._first_feed(ort.OrtValue.ortvalue_from_numpy(np.array([ids], dtype=np.int64)), encoded_value)
        present = dict(zip(self.first_outputs, self.decoder.run_with_ort_values(self.first_outputs, first)))
        feed = {name: present[PRESENT + name[len(PAST):]] for name in self.past_names}
        feed["encoder_hidden_states"] = encoded_value
        feed["use_cache_branch"] = self._branch[True]
        logits = present["logits"]
        renames = [PAST + name[len(PRESENT):] for name in self.step_outputs[1:]]
        rules = Rules(self.facts, int(logits.shape()[-1]), len(prompt), timestamps, no_repeat)
        while True:
            scores = logits.numpy()[0, -1].astype(np.float32, copy=True)
            token = int(np.argmax(rules(ids, scores)))
            ids.append(token)
            if token == self.facts.eot_id or len(ids) >= limit:
                return ids[len(prompt):]
            feed["input_ids"] = ort.OrtValue.ortvalue_from_numpy(np.array([[token]], dtype=np.int64))
            values = self.decoder.run_with_ort_values(self.step_outputs, feed)
            logits = values[0]
            for name, value in zip(renames, values[1:]):
                feed[name] = value

    def decode(self, tokens: Sequence[int]) -> str:
        """Return the text of tokens without special or timestamp tokens (as WhisperTokenizer decodes them)."""
        begin = self.facts.timestamp_begin
        text = self.tokenizer.decode([int(t) for t in tokens if begin is None or t < begin], skip_special_tokens=True)
        return clean_up_spaces(text) if self.clean_up else text
