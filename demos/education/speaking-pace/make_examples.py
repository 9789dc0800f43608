"""Make the demo's example recordings: short talks a learner might give, spoken by espeak-ng with set pauses.

Run from the repository root: `.venv/bin/python demos/education/speaking-pace/make_examples.py` (needs espeak-ng).
Each phrase is spoken on its own, its own leading and trailing silence trimmed, and the phrases are joined with
the silences listed in `CLIPS`, so the tests know where every pause is. The MP3 files are committed; this
script documents how they were made and remakes them.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import yaml
from scipy.signal import resample_poly

HERE = Path(__file__).resolve().parent / "examples"
RATE = 16000
LEAD = 0.5  # seconds of silence before the first phrase and after the last

# Each clip: the voice, its speed (words a minute, espeak's -s), and phrases with the pause after each (seconds).
CLIPS: list[dict[str, Any]] = [
    {"file": "self-introduction-en.mp3", "voice": "en-us", "speed": 150, "language": "en",
     "phrases": [("Hello, my name is Anna, and I am a student of English.", 0.8),
                 ("I live in a small town near the mountains.", 1.6),
                 ("Every weekend I go walking with my friends.", 0.6),
                 ("Next year I want to study in another country.", 0)]},
    {"file": "weekend-plans-en.mp3", "voice": "en-gb", "speed": 115, "language": "en",
     "phrases": [("Last weekend I visited my grandmother.", 1.4),
                 ("We cooked lunch together and then, um,", 2.3),
                 ("we went to the park near her house.", 0.9),
                 ("It was a very nice day.", 0)]},
]


def speak(text: str, voice: str, speed: int) -> np.ndarray:
    """Return espeak-ng's reading of `text` at 16 kHz, with its leading and trailing silence trimmed."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "phrase.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
        samples, rate = sf.read(path, dtype="float32")
    samples = resample_poly(samples, RATE, rate).astype(np.float32) if rate != RATE else samples
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[loud[0]:loud[-1] + 1]


def build(clip: dict[str, Any]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Return the clip's samples and where each phrase starts and ends (seconds)."""
    parts, spans, cursor = [np.zeros(int(LEAD * RATE), np.float32)], [], LEAD
    for text, pause in clip["phrases"]:
        spoken = speak(text, clip["voice"], clip["speed"])
        spans.append((cursor, cursor + spoken.size / RATE))
        cursor += spoken.size / RATE + pause
        parts += [spoken, np.zeros(int(round(pause * RATE)), np.float32)]
    parts.append(np.zeros(int(LEAD * RATE), np.float32))
    return np.concatenate(parts), spans


def main() -> None:
    """Write each clip as 16 kHz mono MP3, and clips.yaml: where its phrases are, for the tests."""
    HERE.mkdir(exist_ok=True)
    truth = []
    for clip in CLIPS:
        samples, spans = build(clip)
        sf.write(HERE / clip["file"], samples, RATE, format="MP3")
        truth.append({"file": clip["file"], "language": clip["language"], "duration": round(samples.size / RATE, 3),
                      "phrases": [{"text": text, "start": round(a, 3), "end": round(b, 3)}
                                  for (text, _pause), (a, b) in zip(clip["phrases"], spans)]})
    header = "# Written by make_examples.py: each example's phrases, where they start and end (seconds).\n"
    (HERE / "clips.yaml").write_text(header + yaml.safe_dump(truth, allow_unicode=True, sort_keys=False),
                                     encoding="utf-8")


if __name__ == "__main__":
    main()
