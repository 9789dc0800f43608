"""Clinical dictation: transcribe a dictated note with Whisper tiny.en, then mask dates, phones, IDs and old ages."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from gallery.context import DemoContext
from gallery.media.audio import AudioClip
from shared.deid import deidentify, highlight

logger = logging.getLogger(__name__)

# What each kind of masked detail is called, in English and Chinese.
LABELS = {
    "DATE": ("date", "日期"),
    "PHONE": ("phone", "电话"),
    "EMAIL": ("e-mail", "邮箱"),
    "ID": ("ID number", "编号"),
    "AGE": ("age over 89", "89岁以上年龄"),
    "NAME": ("name", "姓名"),
}
NO_SPEECH = ("(no speech recognised)", "（未识别到语音）")


def predict(ctx: DemoContext, audio: AudioClip) -> dict[str, Any]:
    """Return the transcript, its de-identified copy and the masked spans (offsets into the transcript)."""
    recognizer = ctx.model("asr")
    result = recognizer.transcribe(audio.samples)
    transcript = result["text"]
    masked = deidentify(transcript)
    counts = Counter(r.type for r in masked.redactions)
    logger.info("%s: %.1f s of audio, %d words, %d redactions", ctx.id, audio.duration, len(transcript.split()),
                len(masked.redactions))
    return {
        "transcript": transcript,
        "deidentified": masked.text,
        "redactions": masked.redaction_dicts(),
        "counts": dict(sorted(counts.items())),
        "segments": result["segments"],
        "duration": round(audio.duration, 2),
    }


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Mark the masked spans in the transcript and show the de-identified copy."""
    pick = 1 if lang == "zh" else 0
    transcript = result["transcript"]
    if not transcript:
        return {"highlighted": [(NO_SPEECH[pick], None)], "deidentified": NO_SPEECH[pick]}
    pieces = [(text, (LABELS[kind][pick] if kind in LABELS else kind) if kind else None)
              for text, kind in highlight(transcript, result["redactions"])]
    return {"highlighted": pieces, "deidentified": result["deidentified"]}
