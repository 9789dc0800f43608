"""Ridership forecast: Fracast-0 quantile forecasts of an hourly (or daily) series, with an uncertainty band."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from gallery.context import DemoContext
from gallery.errors import InputError
from shared.series import (
    CONTEXT_POINTS,
    Series,
    describe_step,
    parse_series,
    significant,
)

logger = logging.getLogger(__name__)

SAMPLE_FILE = "sample_ridership.csv"
MAX_HORIZON = 336
# The plot shows this much history before the forecast (or three horizons, if longer), so the band is readable.
PLOT_HISTORY = 168


def sample_text(demo_dir: Path) -> str:
    """Return the sample series shipped with the demo (CSV text)."""
    return (demo_dir / SAMPLE_FILE).read_text(encoding="utf-8")


def load_series(ctx_path: Path, series: str | None, use_sample: bool) -> Series:
    """Return the parsed sample, or the pasted series (InputError naming the problem)."""
    if use_sample:
        return parse_series(sample_text(ctx_path))
    if not series or not series.strip():
        raise InputError("is empty; paste numbers or CSV text (timestamp, value), or tick “Use the sample”", "series")
    return parse_series(series)


def predict(ctx: DemoContext, series: str | None, use_sample: bool, horizon: int = 48) -> dict[str, Any]:
    """Return the median, 10% and 90% quantile forecasts for the next `horizon` steps of the series."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise InputError(f"must be between 1 and {MAX_HORIZON}, got {horizon}", "horizon")
    if use_sample:
        parsed = ctx.resource("sample-series", lambda: load_series(ctx.path, None, True))
    else:
        parsed = load_series(ctx.path, series, False)
    band = ctx.model("forecaster").forecast(parsed.values, horizon)
    used = min(len(parsed.values), CONTEXT_POINTS)
    notes = list(parsed.notes)
    if len(parsed.values) > CONTEXT_POINTS:
        notes.append(f"The model reads the last {CONTEXT_POINTS:,} of the {len(parsed.values):,} values.")
    if horizon > used:
        notes.append("The forecast reaches further ahead than the history goes back: treat it as a rough guess.")
    logger.info("%s: forecast %d steps from %d values (%s)", ctx.id, horizon, len(parsed.values), parsed.input_format)
    return {
        "median": significant(band["median"]),
        "p10": significant(band["p10"]),
        "p90": significant(band["p90"]),
        "timestamps": parsed.future(horizon),
        "history_points": len(parsed.values),
        "context_points": used,
        "frequency": parsed.frequency,
        "input_format": parsed.input_format,
        "time_column": parsed.time_column,
        "value_column": parsed.value_column,
        "series_source": "sample" if use_sample else "pasted",
        "notes": notes,
    }


def plot_frame(parsed: Series, result: dict[str, Any], lang: str = "en") -> Any:
    """Return the long-format table (t, value, series) that the plot draws: recent history and the band."""
    import pandas as pd  # deferred: only the UI draws

    horizon = len(result["median"])
    shown = min(len(parsed.values), max(PLOT_HISTORY, 3 * horizon))
    if parsed.timestamps is not None:
        past = list(parsed.timestamps[-shown:])
        ahead = list(pd.to_datetime(result["timestamps"]))
    else:
        count = len(parsed.values)
        past = list(range(count - shown, count))
        ahead = list(range(count, count + horizon))
    history = parsed.values[-shown:]
    zh = lang == "zh"
    rows = [(t, float(v), "历史" if zh else "History") for t, v in zip(past, history)]
    # Each forecast line starts at the last observed value, so it joins the history without a gap.
    # The table's names: short, so the legend fits under the plot on a phone (the view's label names the band).
    for key, name in (("p90", "P90"), ("median", "中位数" if zh else "Median"), ("p10", "P10")):
        rows.append((past[-1], float(history[-1]), name))
        rows += [(t, float(v), name) for t, v in zip(ahead, result[key])]
    return pd.DataFrame(rows, columns=["t", "value", "series"])


# The notes predict and shared/series.py write, in Chinese (a pattern where the note carries numbers).
NOTES_ZH = [
    (re.compile(r"The model reads the last ([\d,]+) of the ([\d,]+) values\."), r"模型只读取 \2 个数值中的最后 \1 个。"),
    (re.compile(r"The forecast reaches further ahead than the history goes back: treat it as a rough guess\."),
     "预测的跨度比历史数据还长：请仅作粗略参考。"),
    (re.compile(r"The rows were not in time order; they were sorted oldest first\."), "各行未按时间排列，已按从早到晚排序。"),
]


def _note(note: str, zh: bool) -> str:
    for pattern, chinese in NOTES_ZH if zh else []:
        note = pattern.sub(chinese, note)
    return note


def summary_markdown(result: dict[str, Any], lang: str = "en") -> str:
    """Return a short account of what was forecast from what, in `lang`."""
    zh = lang == "zh"
    count, points, used = len(result["median"]), result["history_points"], result["context_points"]
    if zh:
        text = (f"基于{'示例序列' if result['series_source'] == 'sample' else '你的序列'}（{points:,} 个数值，"
                f"模型读取其中 {used:,} 个）预测未来 **{count}** 步。区间为 10%–90% 分位数：模型预期约八成实际值落在其中。")
    else:
        words = describe_step(result.get("frequency"))
        step = f"steps of {words}" if words else "steps"
        source = "the sample series" if result["series_source"] == "sample" else "your series"
        text = (f"Forecast of **{count} {step}** from {source}: {points:,} values ({used:,} read by the model). "
                "The band runs from the 10% to the 90% quantile: the model aims for about 8 in 10 actual values "
                "to fall inside it.")
    return "\n\n".join([text, *(f"_{_note(note, zh)}_" for note in result.get("notes", []))])


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Draw history and forecast band, list the forecast in a table, and summarise."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    demo_dir = Path(__file__).resolve().parent
    parsed = load_series(demo_dir, inputs.get("series"), result["series_source"] == "sample")
    if result["timestamps"]:
        stamps = pd.to_datetime(result["timestamps"])
        # Dates alone for daily and longer steps; minutes for finer ones (seconds are noise in a table).
        daily = bool((stamps.hour == 0).all() and (stamps.minute == 0).all())
        first = ("时间" if zh else "Time", list(stamps.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M")))
    else:
        first = ("步" if zh else "Step", list(range(1, len(result["median"]) + 1)))
    table = pd.DataFrame({first[0]: first[1], **{label: significant(result[key], 4) for key, label in
                          (("p10", "P10"), ("median", "中位数" if zh else "Median"), ("p90", "P90"))}})
    return {"plot": plot_frame(parsed, result, lang), "forecast": table, "summary": summary_markdown(result, lang)}
