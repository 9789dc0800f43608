"""Ridership forecast: Fracast-0 quantile forecasts of an hourly (or daily) series, with an uncertainty band."""

from __future__ import annotations

import logging
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


def plot_frame(parsed: Series, result: dict[str, Any]) -> Any:
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
    rows = [(t, float(v), "History / 历史") for t, v in zip(past, history)]
    # Each forecast line starts at the last observed value, so it joins the history without a gap.
    for key, name in (("p90", "90% quantile / 90% 分位"), ("median", "Median forecast / 预测中位数"),
                      ("p10", "10% quantile / 10% 分位")):
        rows.append((past[-1], float(history[-1]), name))
        rows += [(t, float(v), name) for t, v in zip(ahead, result[key])]
    return pd.DataFrame(rows, columns=["t", "value", "series"])


def summary_markdown(result: dict[str, Any]) -> str:
    """Return a short account of what was forecast from what."""
    words = describe_step(result.get("frequency"))
    step = f"steps of {words}" if words else "steps"
    source = "the sample series" if result["series_source"] == "sample" else "your series"
    count, points, used = len(result["median"]), result["history_points"], result["context_points"]
    english = (f"Forecast of **{count} {step}** from {source}: {points:,} values ({used:,} read by the model). "
               "The band runs from the 10% to the 90% quantile: the model aims for about 8 in 10 actual values "
               "to fall inside it.")
    chinese = (f"基于{'示例序列' if result['series_source'] == 'sample' else '你的序列'}（{points:,} 个数值）"
               f"预测未来 **{count}** 步。区间为 10%–90% 分位数：模型预期约八成实际值落在其中。")
    lines = [english, chinese]
    lines += [f"_{note}_" for note in result.get("notes", [])]
    return "\n\n".join(lines)


def present(result: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Draw history and forecast band, list the forecast in a table, and summarise."""
    import pandas as pd  # deferred: only the UI renders tables

    demo_dir = Path(__file__).resolve().parent
    parsed = load_series(demo_dir, inputs.get("series"), result["series_source"] == "sample")
    if result["timestamps"]:
        stamps = pd.to_datetime(result["timestamps"])
        # Dates alone for daily and longer steps; minutes for finer ones (seconds are noise in a table).
        daily = bool((stamps.hour == 0).all() and (stamps.minute == 0).all())
        first = ("Time / 时间", list(stamps.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M")))
    else:
        first = ("Step / 步", list(range(1, len(result["median"]) + 1)))
    table = pd.DataFrame({first[0]: first[1], **{label: significant(result[key], 4) for key, label in
                          (("p10", "P10"), ("median", "Median / 中位数"), ("p90", "P90"))}})
    return {"plot": plot_frame(parsed, result), "forecast": table, "summary": summary_markdown(result)}
