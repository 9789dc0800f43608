"""Lecture transcriber: Whisper base (multilingual) turns a recorded lesson into text or an English translation."""

from __future__ import annotations

import logging
from typing import Any

from gallery.context import DemoContext
from gallery.media.audio import AudioClip

logger = logging.getLogger(__name__)

# The languages offered in the form (Whisper knows 99; these are the ones it handles best or users ask for).
LANGUAGES = {
    "en": ("English", "英语"), "zh": ("Chinese", "中文"), "es": ("Spanish", "西班牙语"), "fr": ("French", "法语"),
    "de": ("German", "德语"), "it": ("Italian", "意大利语"), "pt": ("Portuguese", "葡萄牙语"),
    "nl": ("Dutch", "荷兰语"), "ru": ("Russian", "俄语"), "uk": ("Ukrainian", "乌克兰语"), "pl": ("Polish", "波兰语"),
    "tr": ("Turkish", "土耳其语"), "ar": ("Arabic", "阿拉伯语"), "hi": ("Hindi", "印地语"), "ja": ("Japanese", "日语"),
    "ko": ("Korean", "韩语"), "vi": ("Vietnamese", "越南语"), "id": ("Indonesian", "印尼语"), "sv": ("Swedish", "瑞典语"),
}
AUTO = "auto"
# Below this probability the detected language is a guess; the UI says so and suggests choosing it.
CONFIDENT_LANGUAGE = 0.5


def language_name(code: str | None, lang: str = "en") -> str:
    """Return "English (en)" (or "英语 (en)" in Chinese) for a code, or the bare code for languages not in the form."""
    if not code:
        return "未知" if lang == "zh" else "unknown"
    names = LANGUAGES.get(code)
    return f"{names[1] if lang == 'zh' else names[0]} ({code})" if names else code


def predict(ctx: DemoContext, audio: AudioClip, task: str = "transcribe", language: str = AUTO) -> dict[str, Any]:
    """Return the detected or chosen language, the transcript (or English translation) and timed segments."""
    # The inputs arrive checked against demo.yaml: task and language are among their choices.
    recognizer = ctx.model("asr")
    result = recognizer.transcribe(audio.samples, task=task, language=None if language == AUTO else language)
    logger.info("%s: %.1f s of audio, task %s, language %s (%s), %d segments", ctx.id, audio.duration, task,
                result["language"], "detected" if language == AUTO else "chosen", len(result["segments"]))
    return {
        "language": result["language"],
        "language_probability": result["language_probability"],
        "language_detected": language == AUTO,
        "task": task,
        "text": result["text"],
        "segments": result["segments"],
        "duration": round(audio.duration, 2),
    }


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:05.2f}"


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the language line, the text and a table of timed segments, in the visitor's language."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    name = language_name(result["language"], lang)
    if not result["text"]:
        summary = "录音中未识别到语音。" if zh else "No speech was recognised in this recording."
    elif result["language_detected"]:
        probability = result["language_probability"] or 0.0
        summary = f"**{'检测到的语言' if zh else 'Detected language'}:** {name} — {probability:.0%}"
        if probability < CONFIDENT_LANGUAGE:
            summary += ("\n\n_置信度较低：如有误，请手动选择语言后重新运行。_" if zh else
                        "\n\n_Low confidence: if this is wrong, choose the language and run again._")
    else:
        summary = f"**{'语言（手动选择）' if zh else 'Language (chosen)'}:** {name}"
    if result["task"] == "translate" and result["language"] != "en":
        summary += "\n\n已翻译成英文。" if zh else "\n\nTranslated into English."
    table = pd.DataFrame([[_clock(s["start"]), _clock(s["end"]), s["text"]] for s in result["segments"]],
                         columns=["开始", "结束", "文本"] if zh else ["Start", "End", "Text"])
    return {"language": summary, "text": result["text"], "segments": table}
