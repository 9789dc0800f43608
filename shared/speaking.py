"""Speaking pace: Silero VAD's speech probabilities turned into speech segments and pauses, and speech rates.

Silero VAD v6 (MIT, the ONNX file faster-whisper 1.2.1 ships) gives a speech probability for every 32 ms of
16 kHz audio. A run of speech starts where the probability reaches `threshold` and ends where it falls below
`threshold - 0.15` (hysteresis, as Silero's own code does). Silences shorter than `min_pause` inside speech are
not pauses (the short stops between words and before a plosive); bursts shorter than `MIN_SPEECH` are noise.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW = 512  # samples a probability covers: 32 ms
MIN_SPEECH = 0.12  # seconds: a click or a breath is shorter than a syllable
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Span:
    """A stretch of the recording, in seconds."""

    start: float
    end: float

    @property
    def length(self) -> float:
        """Return the span's length in seconds."""
        return self.end - self.start

    def as_dict(self) -> dict[str, float]:
        """Return the JSON form, to the millisecond."""
        return {"start": round(self.start, 3), "end": round(self.end, 3), "length": round(self.length, 3)}


def speech_spans(probs: np.ndarray, threshold: float = 0.5, min_pause: float = 0.25,
                 duration: float | None = None) -> list[Span]:
    """Return the speech segments found in per-window speech probabilities, pauses under `min_pause` bridged."""
    step = WINDOW / SAMPLE_RATE
    low = max(threshold - 0.15, 0.01)
    runs: list[list[float]] = []
    speaking = False
    for index, prob in enumerate(np.asarray(probs, dtype=np.float32).reshape(-1)):
        if not speaking and prob >= threshold:
            speaking = True
            runs.append([index * step, (index + 1) * step])
        elif speaking and prob >= low:
            runs[-1][1] = (index + 1) * step
        else:
            speaking = False
    merged: list[list[float]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < min_pause:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    limit = duration if duration is not None else float("inf")
    return [Span(start, min(end, limit)) for start, end in merged if end - start >= MIN_SPEECH]


def pauses_between(spans: list[Span]) -> list[Span]:
    """Return the silences between consecutive speech segments (not the silence before or after speaking)."""
    return [Span(a.end, b.start) for a, b in zip(spans, spans[1:])]


def count_units(text: str, language: str | None) -> tuple[int, str]:
    """Return how many units the transcript holds and which: Chinese characters for Chinese, else words."""
    if language == "zh":
        # Chinese is measured in characters (a syllable each); a Latin word inside counts as one.
        han = len(_HAN.findall(text))
        return han + len(_WORD.findall(_HAN.sub(" ", text))), "characters"
    return len(_WORD.findall(text)), "words"


def pace(spans: list[Span], duration: float, units: int) -> dict[str, Any]:
    """Return speaking and pause time, pause statistics and the two rates per minute."""
    pauses = pauses_between(spans)
    speaking = sum(s.length for s in spans)
    paused = sum(p.length for p in pauses)
    # The talk runs from the first word to the last: silence before and after it is not the speaker's pace.
    talk = (spans[-1].end - spans[0].start) if spans else 0.0
    lengths = sorted(p.length for p in pauses)
    return {
        "duration": round(duration, 3),
        "speaking_seconds": round(speaking, 3),
        "pause_seconds": round(paused, 3),
        "talk_seconds": round(talk, 3),
        "speaking_share": round(speaking / talk, 3) if talk else 0.0,
        "pause_count": len(pauses),
        "pauses_per_minute": round(len(pauses) / (talk / 60), 2) if talk else 0.0,
        "median_pause": round(lengths[len(lengths) // 2], 3) if lengths else None,
        "longest_pause": round(lengths[-1], 3) if lengths else None,
        # Speech rate counts the pauses in; articulation rate is the pace while actually speaking.
        "speech_rate": round(units / (talk / 60), 1) if talk else None,
        "articulation_rate": round(units / (speaking / 60), 1) if speaking else None,
    }


class VoiceActivity:
    """Silero VAD v6 on ONNX Runtime: speech probabilities for 16 kHz mono audio, 32 ms at a time.

    The graph is run as faster-whisper's own wrapper runs it (MIT): each 512-sample window with the 64 samples
    before it as context, the recurrent state carried across batches. faster-whisper itself is not imported:
    its package imports CTranslate2 and PyAV, which this demo does not need.
    """

    backend = "onnxruntime-cpu"
    CONTEXT = 64
    BATCH = 10000

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread: the graph is tiny, and a second thread only waits on the first.
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(str(onnx_path), sess_options=options,
                                                    providers=["CPUExecutionProvider"])

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Return one speech probability per 512 samples (the last window padded with silence)."""
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return np.zeros(0, dtype=np.float32)
        windows = np.pad(audio, (0, (-audio.size) % WINDOW)).reshape(-1, WINDOW)
        # Each window's context is the tail of the window before it (silence before the first).
        context = np.roll(windows[:, -self.CONTEXT:], 1, axis=0)
        context[0] = 0.0
        batch = np.ascontiguousarray(np.concatenate([context, windows], axis=1))
        h = np.zeros((1, 1, 128), dtype=np.float32)
        c = np.zeros((1, 1, 128), dtype=np.float32)
        outputs = []
        for start in range(0, batch.shape[0], self.BATCH):
            out, h, c = self.session.run(None, {"input": batch[start:start + self.BATCH], "h": h, "c": c})
            outputs.append(out)
        return np.concatenate(outputs, axis=0).astype(np.float32).reshape(-1)


def load_vad(path: Path, options: dict[str, Any]) -> VoiceActivity:
    """Build Silero VAD from faster-whisper's assets folder (the runtime's `custom` factory)."""
    onnx_path = Path(path) / str(options.get("file", "silero_vad_v6.onnx"))
    if not onnx_path.is_file():
        raise FileNotFoundError(f"Silero VAD model missing: {onnx_path}")
    logger.info("speaking: loading Silero VAD from %s", onnx_path)
    return VoiceActivity(onnx_path)
