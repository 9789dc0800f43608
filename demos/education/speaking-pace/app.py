"""Speaking pace coach: Silero VAD finds speech and pauses, Whisper counts the words, the demo gives the pace."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gallery.context import DemoContext
from gallery.errors import InputError
from gallery.media.audio import AudioClip
from shared.speaking import count_units, pace, pauses_between, speech_spans

logger = logging.getLogger(__name__)

UNITS = {"words": {"en": "words", "zh": "词"}}
# A rough reference band for a clear English talk or presentation (speech rate: words a minute, pauses counted in).
BANDS = {"words": (110, 160)}
# A pause this long or longer is one a listener notices (and a learner may be searching for a word).
LONG_PAUSE = 1.0


def predict(ctx: DemoContext, audio: AudioClip, min_pause: float = 0.25) -> dict[str, Any]:
    """Return the speech segments, the pauses between them, the transcript and the speaking pace."""
    probs = ctx.model("vad").probabilities(audio.samples)
    spans = speech_spans(probs, min_pause=min_pause, duration=audio.duration)
    if not spans:
        raise InputError("has no speech that the voice detector could hear; record a few sentences, close to the "
                         "microphone (录音中没有检测到语音，请靠近麦克风说几句话)", "audio")
    # English is set, not detected: a learner's accent must not make Whisper transcribe another language.
    heard = ctx.model("asr").transcribe(audio.samples, language="en")
    units, unit = count_units(heard["text"], "en")
    result = {
        "language": "en",
        "unit": unit,
        "units": units,
        "transcript": heard["text"],
        "segments": [span.as_dict() for span in spans],
        "pauses": [span.as_dict() for span in pauses_between(spans)],
        "min_pause": min_pause,
        **pace(spans, audio.duration, units),
    }
    # Numbers only: what a learner says stays out of the log.
    logger.info("%s: %.1f s, %d segments, %d pauses, %d %s", ctx.id, audio.duration, len(spans),
                result["pause_count"], units, unit)
    return result


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def summary(result: dict[str, Any], lang: str = "en") -> str:
    """Return the pace as a short markdown report with one line of advice, in `lang`."""
    zh = lang == "zh"
    pick = "zh" if zh else "en"
    unit = UNITS[result["unit"]][pick]
    low, high = BANDS[result["unit"]]
    rate, art = result["speech_rate"], result["articulation_rate"]
    long_pauses = sum(1 for p in result["pauses"] if p["length"] >= LONG_PAUSE)
    if not result["units"]:
        advice = ("Whisper heard no words in the speech: is the recording clear?" if not zh
                  else "Whisper 没有听出任何词句：录音清楚吗？")
    elif rate < low:
        advice = (f"Slower than a typical clear talk ({low}–{high} {unit} a minute): fine for a learner; to sound "
                  "more fluent, shorten the pauses before you speed up." if not zh else
                  f"比一般清晰的讲话慢（每分钟 {low}–{high} {unit}）：对学习者来说没问题；想听起来更流利，先缩短停顿，再提高语速。")
    elif rate > high:
        advice = (f"Faster than a typical clear talk ({low}–{high} {unit} a minute): pause at the end of each "
                  "idea so listeners can follow." if not zh else
                  f"比一般清晰的讲话快（每分钟 {low}–{high} {unit}）：每讲完一个意思停一下，听众更容易跟上。")
    else:
        advice = (f"Within the range of a typical clear talk ({low}–{high} {unit} a minute)." if not zh else
                  f"在一般清晰讲话的范围内（每分钟 {low}–{high} {unit}）。")
    if zh:
        lines = [f"### 语速：每分钟 {rate:.0f} {unit}" if rate is not None else "### 语速：—",
                 f"- 说话时的语速（不计停顿）：每分钟 {art:.0f} {unit}" if art is not None else "",
                 f"- 说话 {result['speaking_seconds']:.1f} 秒，停顿 {result['pause_seconds']:.1f} 秒"
                 f"（说话占 {result['speaking_share']:.0%}）",
                 f"- 停顿 {result['pause_count']} 次（每分钟 {result['pauses_per_minute']:.1f} 次），"
                 f"其中 {long_pauses} 次不少于 {LONG_PAUSE:g} 秒",
                 f"- Whisper 听出 {result['units']} 个英语单词", "", advice]
    else:
        lines = [f"### Pace: {rate:.0f} {unit} a minute" if rate is not None else "### Pace: —",
                 f"- While speaking (pauses left out): {art:.0f} {unit} a minute" if art is not None else "",
                 f"- Speaking {result['speaking_seconds']:.1f} s, pausing {result['pause_seconds']:.1f} s "
                 f"({result['speaking_share']:.0%} speaking)",
                 f"- {result['pause_count']} pauses ({result['pauses_per_minute']:.1f} a minute), {long_pauses} of "
                 f"them {LONG_PAUSE:g} s or longer",
                 f"- Whisper heard {result['units']} English words", "", advice]
    return "\n".join(line for line in lines if line is not None)


def timeline(result: dict[str, Any], lang: str = "en") -> Any:
    """Return a timeline picture: speech as green bars, pauses as gaps marked with their length."""
    from PIL import Image, ImageDraw, ImageFont  # deferred: only the UI draws

    width, height, left, right, top, bar = 1200, 170, 20, 20, 40, 50
    duration = max(result["duration"], 0.1)
    scale = (width - left - right) / duration
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    # WenQuanYi Micro Hei writes the Chinese legend; without it the legend is left out in Chinese.
    cjk = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    font = ImageFont.truetype(str(cjk), 16) if cjk.is_file() else ImageFont.load_default(size=16)
    draw.rectangle((left, top, width - right, top + bar), fill=(236, 236, 236))
    for segment in result["segments"]:
        draw.rectangle((left + segment["start"] * scale, top, left + segment["end"] * scale, top + bar),
                       fill=(46, 160, 90))
    for pause in result["pauses"]:
        colour = (210, 60, 40) if pause["length"] >= LONG_PAUSE else (120, 120, 120)
        middle = left + (pause["start"] + pause["end"]) / 2 * scale
        if pause["length"] * scale >= 28 or pause["length"] >= LONG_PAUSE:
            draw.text((middle, top - 4), f"{pause['length']:.1f}s", fill=colour, font=font, anchor="mb")
        if pause["length"] >= LONG_PAUSE:
            draw.rectangle((left + pause["start"] * scale, top + bar + 3, left + pause["end"] * scale, top + bar + 7),
                           fill=colour)
    # A tick every 1, 5, 10, 30 or 60 seconds, whichever gives at most a dozen.
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120) if duration / s <= 12)
    tick = 0.0
    while tick <= duration + 1e-6:
        x = left + tick * scale
        draw.line((x, top + bar + 10, x, top + bar + 16), fill=(90, 90, 90))
        draw.text((x, top + bar + 18), _clock(tick), fill=(90, 90, 90), font=font, anchor="mt")
        tick += step
    legend = ("green: speech · gap: pause · red: a pause of 1 s or more" if lang != "zh"
              else "绿色：说话 · 空白：停顿 · 红色：1 秒及以上的停顿" if cjk.is_file() else "")
    draw.text((left, height - 8), legend, fill=(90, 90, 90), font=font, anchor="lb")
    return image


def pause_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per pause: number, start, end and length in seconds."""
    return [[number, _clock(p["start"]), _clock(p["end"]), round(p["length"], 2)]
            for number, p in enumerate(result["pauses"], 1)]


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the pace report, the timeline, the pauses and the transcript, in `lang`."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    headers = ["#", "开始", "结束", "时长（秒）"] if zh else ["#", "Start", "End", "Length (s)"]
    return {"summary": summary(result, lang), "timeline": timeline(result, lang),
            "pauses": pd.DataFrame(pause_rows(result, lang), columns=headers), "transcript": result["transcript"]}

