"""Whisper transcription of audio of any length: 30 s pieces, language detection as its own step, timestamps.

One `SpeechRecognizer` serves a Whisper model through an engine: `OnnxWhisper` (ONNX Runtime, numpy, no torch)
or `TorchWhisper` (transformers' `generate`, the baseline). Both decode greedily after the same prompt
(language and task) by the same rules, so they give the same tokens.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

TASKS = ("transcribe", "translate")
SILENCE_PEAK = 1e-3  # a piece whose loudest sample is below -60 dBFS holds no speech (Whisper invents text there)
# Greedy decoding sometimes loops ("learn learn learn ..."); text this repetitive is decoded again with a
# no-repeat rule. 2.4 is the compression-ratio threshold OpenAI's Whisper uses for the same purpose.
MAX_COMPRESSION_RATIO = 2.4
TOKENS_PER_SECOND = 12  # far above fast speech (about 6 tokens/s with timestamps); caps a looping decode
# Speech gives 2.5 or more text tokens per second of voiced audio; far fewer means the decoder gave up early
# (tiny.en turned 19 s of dictation into "The The ." when the speech started right at the first sample).
MIN_TOKENS_PER_VOICED_SECOND = 1.0
RETRY_LEAD_IN = 0.1  # seconds of silence put before a piece when the first decode was implausible
MAX_PASSES = 8  # decoding passes over one piece (each resumes after the last whole segment of the one before)
MIN_PASS_SECONDS = 0.5  # audio left after the last whole segment that is worth another pass
TIME_STEP = 0.02  # seconds per timestamp token
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue", "bo"})


@dataclass(frozen=True)
class Attempt:
    """One way of decoding a piece: silence put before it, timestamps or not, a no-repeat rule."""

    lead_in: float = 0.0
    timestamps: bool = True
    no_repeat: int = 0


@dataclass(frozen=True)
class Segment:
    """A stretch of the transcript with its start and end in seconds from the start of the audio."""

    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"start": round(self.start, 2), "end": round(self.end, 2), "text": self.text}


def normalize_words(text: str) -> list[str]:
    """Return lower-case words without punctuation, digit groups joined ("555-0142" and "555 0142" agree)."""
    text = re.sub(r"(?<=\d)[.,](?=\s*\d)", " ", text.lower().replace("-", " "))
    words = re.sub(r"[^\w\s']", " ", text).replace("'", "").split()
    joined: list[str] = []
    for word in words:
        if joined and word.isdigit() and joined[-1].isdigit():
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Return (substitutions + insertions + deletions) / reference words, after normalize_words."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref_word != hyp_word))
    return row[len(hyp)] / max(1, len(ref))


def voiced_seconds(samples: np.ndarray, rate: int) -> float:
    """Return roughly how many seconds of the audio are louder than its background (speech, music, noise)."""
    hop = max(1, int(0.02 * rate))
    frames = samples[: samples.size // hop * hop].reshape(-1, hop)
    if not len(frames):
        return 0.0
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=1))
    threshold = max(0.01, 0.05 * float(np.percentile(rms, 95)))
    return float(np.count_nonzero(rms > threshold)) * hop / rate


def compression_ratio(text: str) -> float:
    """Return how much zlib shrinks the text: looping output compresses far better than speech."""
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw))) if raw else 0.0


class SpeechRecognizer:
    """Greedy Whisper transcription and translation; keeps no per-call state, so threads may share it.

    `engine` runs the model: `OnnxWhisper` (ONNX Runtime and numpy) or `TorchWhisper` (transformers, the baseline).
    """

    def __init__(self, engine: Any, *, backend: str, variant: str | None) -> None:
        self.engine = engine
        self.backend = backend
        self.variant = variant
        self.sample_rate = int(engine.sample_rate)
        self.window_seconds = float(engine.window_seconds)
        self.facts = engine.facts

    # The engine's facts, under the names the decoding code and the demos read.

    @property
    def start_id(self) -> int:
        """Return the start-of-transcript token id."""
        return self.facts.start_id

    @property
    def eot_id(self) -> int:
        """Return the end-of-text token id."""
        return self.facts.eot_id

    @property
    def languages(self) -> dict[str, int]:
        """Return the language codes the model knows, with their token ids (empty for English-only models)."""
        return self.facts.languages

    @property
    def multilingual(self) -> bool:
        """Return whether the model takes a language and a task in its prompt."""
        return self.facts.multilingual

    @property
    def timestamp_begin(self) -> int | None:
        """Return the first timestamp token id, or None for a model without timestamps."""
        return self.facts.timestamp_begin

    @property
    def max_target(self) -> int:
        """Return how many decoder positions the model has."""
        return self.facts.max_target

    # -- public ------------------------------------------------------------------------------------------

    @property
    def timestamps(self) -> bool:
        """Return whether the model predicts timestamps (segments then follow the speech, not the 30 s pieces)."""
        return self.timestamp_begin is not None

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        """Return the most probable language code of the first 30 s and its probability among the languages."""
        if not self.multilingual:
            return "en", 1.0
        features = self._features(np.asarray(samples, dtype=np.float32)[: int(self.window_seconds * self.sample_rate)])
        return self._detect(self._encode(features))

    def transcribe(self, samples: np.ndarray, *, task: str = "transcribe",
                   language: str | None = None) -> dict[str, Any]:
        """Return {language, language_probability, text, segments: [{start, end, text}]} for 16 kHz mono samples.

        `language` None or "auto" detects it (multilingual models); `task` "translate" gives English text.
        English-only models ignore both and always transcribe English.
        """
        from gallery.media.audio import cut_points

        if task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        language = self._language_code(language)
        detect = language is None
        probability: float | None = None  # only for a detected language
        segments: list[Segment] = []
        # Pieces a little shorter than Whisper's 30 s window leave room for a retry's lead-in of silence.
        cuts = cut_points(samples, self.sample_rate, self.window_seconds - 4 * RETRY_LEAD_IN) + [samples.size]
        for start, end in pairwise(cuts):
            piece = samples[start:end]
            if not piece.size or float(np.max(np.abs(piece))) < SILENCE_PEAK:
                continue
            features = self._features(piece)
            encoded = None
            if detect and language is None:
                # The detection's encoder output serves the first decoding too (the encoder is half the work).
                encoded = self._encode(features)
                language, probability = self._detect(encoded)
            offset = start / self.sample_rate
            segments += self._decode(piece, features, language, task, offset, encoded)
        if not self.multilingual:
            task = "transcribe"
        joiner = "" if (language in NO_SPACE_LANGUAGES and task == "transcribe") else " "
        text = joiner.join(s.text for s in segments).strip()
        return {
            "language": language,
            "language_probability": None if probability is None else round(float(probability), 4),
            "task": task,
            "text": text,
            "segments": [s.as_dict() for s in segments],
        }

    # -- steps -------------------------------------------------------------------------------------------

    def _language_code(self, language: str | None) -> str | None:
        """Return the language code to force, None to detect; English-only models always speak English."""
        if not self.multilingual:
            return "en"
        if language is None or language in ("", "auto"):
            return None
        code = language.strip().lower().removeprefix("<|").removesuffix("|>")
        if code not in self.languages:
            raise ValueError(f"language {language!r} is not one this model knows ({len(self.languages)} codes)")
        return code

    def _features(self, piece: np.ndarray, lead_in: float = 0.0) -> Any:
        """Return log-mel features of one piece (padded to 30 s)."""
        if lead_in:
            piece = np.concatenate([np.zeros(int(lead_in * self.sample_rate), dtype=np.float32), piece])
        return self.engine.features(piece)

    def _encode(self, features: Any) -> Any:
        """Return the encoder output for log-mel features."""
        return self.engine.encode(features)

    def _detect(self, encoded: Any) -> tuple[str, float]:
        """Run the decoder one step after the start token and take the most probable language token."""
        codes = list(self.languages)
        logits = self.engine.first_logits(encoded, [self.start_id]).astype(np.float64)
        chosen = logits[[self.languages[c] for c in codes]]
        probs = np.exp(chosen - chosen.max())
        probs /= probs.sum()
        best = int(np.argmax(probs))
        logger.debug("detected language %s (p=%.3f)", codes[best], float(probs[best]))
        return codes[best], float(probs[best])

    def _generate(self, features: Any, language: str, task: str, max_new_tokens: int, attempt: Attempt,
                  encoded: Any = None) -> list[int]:
        """Return the generated tokens (after the prompt) for one decoding attempt."""
        return self.engine.generate(features, language, task, max_new_tokens, attempt.timestamps, attempt.no_repeat,
                                    encoded=encoded)

    def _attempts(self) -> list[Attempt]:
        """Return the decodings to try, in order, until one gives plausible text."""
        ts = self.timestamps
        attempts = [Attempt(0.0, ts), Attempt(RETRY_LEAD_IN, ts), Attempt(0.0, False), Attempt(0.0, ts, no_repeat=3)]
        return list(dict.fromkeys(attempts))

    def _decode(self, piece: np.ndarray, features: Any, language: str, task: str, offset: float,
                encoded: Any = None) -> list[Segment]:
        """Greedy-decode one piece into segments (times from the start of the whole audio).

        `encoded` is the encoder output of `features` where it is already known; retries re-encode.
        """
        duration = piece.size / self.sample_rate
        voiced = voiced_seconds(piece, self.sample_rate)
        tried: list[tuple[int, list[Segment]]] = []
        for number, attempt in enumerate(self._attempts()):
            if number:
                features, encoded = self._features(piece, attempt.lead_in), None
            segments, tokens = self._passes(piece, features, encoded, language, task, offset, attempt)
            text = " ".join(s.text for s in segments)
            looping = compression_ratio(text) > MAX_COMPRESSION_RATIO
            if not looping and tokens >= MIN_TOKENS_PER_VOICED_SECOND * min(voiced, duration) - 2:
                return segments
            logger.info("implausible decoding of %.1f s (%d tokens for %.1f voiced s, looping=%s); trying again",
                        duration, tokens, voiced, looping)
            tried.append((0 if looping else tokens, segments))
        # None was plausible: keep the fullest one that does not loop.
        return max(tried, key=lambda item: item[0])[1]

    def _passes(self, piece: np.ndarray, features: Any, encoded: Any, language: str, task: str, offset: float,
                attempt: Attempt) -> tuple[list[Segment], int]:
        """Decode a piece in one or more passes; return its segments and how many text tokens were decoded.

        As in Whisper's own sequential decoding, a pass that ends inside a segment (its last two timestamps
        are a pair) keeps its whole segments and the next pass decodes the audio from the end of the last one.
        """
        segments: list[Segment] = []
        tokens = 0
        start = 0  # samples of the piece already covered
        for number in range(MAX_PASSES):
            lead_in = attempt.lead_in if number == 0 else 0.0
            rest = piece[start:]
            if number:
                features, encoded = self._features(rest), None
            duration = rest.size / self.sample_rate
            # Room for the prompt (start, language, task, no-timestamps).
            limit = max(1, min(self.max_target - 4, int(duration * TOKENS_PER_SECOND) + 24))
            ids = self._generate(features, language, task, limit, attempt, encoded)
            resume = self._resume_point(ids) if attempt.timestamps else None
            if resume is not None:
                ids = ids[: resume[0]]  # the unfinished segment is decoded again by the next pass
            tokens += sum(1 for t in ids if t < self.eot_id)
            at = offset + start / self.sample_rate
            segments += self._segments(ids, at - lead_in, duration + lead_in, lead_in)
            step = 0 if resume is None else int(round((resume[1] - lead_in) * self.sample_rate))
            if step <= 0 or rest.size - step < MIN_PASS_SECONDS * self.sample_rate:
                break
            start += step
        return segments, tokens

    def _resume_point(self, ids: list[int]) -> tuple[int, float] | None:
        """Return (tokens to keep, seconds where the next pass starts) for a pass that ended inside a segment.

        None when the pass is complete: no timestamp pair, or a single timestamp at the end (Whisper's sign
        that nothing more is said in the window).
        """
        begin = self.timestamp_begin
        if begin is None:
            return None
        body = ids[:-1] if ids and ids[-1] == self.eot_id else ids
        stamps = [t >= begin for t in body]
        pairs = [i + 1 for i in range(len(body) - 1) if stamps[i] and stamps[i + 1]]
        if not pairs or stamps[-2:] == [False, True]:
            return None
        last = pairs[-1]
        return last + 1, (body[last - 1] - begin) * TIME_STEP

    def _segments(self, ids: list[int], offset: float, duration: float, lead_in: float = 0.0) -> list[Segment]:
        """Split generated ids at timestamp tokens into timed, non-empty, ordered segments.

        `offset` is where the decoded audio starts in the whole audio and `duration` its length, both counting
        the `lead_in` of silence put before the piece (no segment starts inside it).
        """
        begin = self.timestamp_begin
        pieces: list[tuple[float | None, float | None, list[int]]] = []
        start: float | None = None
        tokens: list[int] = []
        for token in ids:
            if begin is not None and token >= begin:
                time = (token - begin) * TIME_STEP
                if start is not None and tokens:
                    pieces.append((start, time, tokens))
                    start, tokens = None, []
                elif start is None and tokens:
                    pieces.append((None, time, tokens))
                    tokens = []
                else:
                    start = time
            elif token < self.eot_id:
                tokens.append(token)
        if tokens:
            pieces.append((start, None, tokens))
        segments: list[Segment] = []
        previous = lead_in
        for seg_start, seg_end, seg_tokens in pieces:
            text = self.engine.decode(seg_tokens).strip()
            if not text:
                continue
            # Whisper's times may run past a short piece's end (it thinks in 30 s windows): clamp them.
            first = min(max(seg_start if seg_start is not None else previous, previous), duration)
            last = min(max(seg_end if seg_end is not None else duration, first), duration)
            segments.append(Segment(offset + first, offset + last, text))
            previous = last
        if (begin is None or not any(t >= begin for t in ids)) and segments:
            # Without timestamps the piece is the segment.
            segments = [Segment(offset + lead_in, offset + duration, " ".join(s.text for s in segments))]
        return segments
