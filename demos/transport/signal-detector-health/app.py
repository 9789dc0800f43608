"""Signal detector health: each detector's phase, function, lanes, setback and health from a controller's event log."""

from __future__ import annotations

import logging
import math
from typing import Any

from gallery.context import DemoContext
from gallery.errors import InputError
from shared.signal_log import DETECTOR_ON, EventLog, read_csv_log, sample_log

logger = logging.getLogger(__name__)

# Minutes per point of the chart: 30 minutes of log gives six points, six hours 72.
CHART_BIN_MINUTES = 5
HEALTH_NAMES = {
    "ok": {"en": "ok", "zh": "正常"},
    "watch": {"en": "watch", "zh": "留意"},
    "suspect": {"en": "suspect", "zh": "可疑"},
    "bad": {"en": "bad", "zh": "故障"},
    "not_enough_data": {"en": "not enough data", "zh": "数据不足"},
}
FUNCTION_NAMES = {
    "Advance": {"en": "Advance", "zh": "上游检测"}, "Presence": {"en": "Presence", "zh": "停车线存在检测"},
    "Count": {"en": "Count", "zh": "停车线计数"}, "Yellow_Red": {"en": "Yellow/red", "zh": "黄红灯检测"},
    "Mid": {"en": "Mid", "zh": "中段检测"}, "Bike": {"en": "Bike", "zh": "自行车"}, "Other": {"en": "Other", "zh": "其他"},
}
# The package's reasons are English sentences; the common endings have a Chinese version, the rare ones stay as given.
REASONS_ZH = {"nothing unusual": "无异常", "too few actuations to judge": "触发次数太少，无法判断"}
HEADERS = {
    "en": ["Detector", "Phase", "Phase prob.", "Function", "Lanes", "Setback (ft)", "Health", "Why"],
    "zh": ["检测器", "相位", "相位概率", "功能", "车道", "距停车线（英尺）", "健康状况", "说明"],
}


def _value(value: Any) -> Any:
    """Return a JSON-safe value: None for pandas' missing values, plain ints and floats otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 3) if isinstance(value, float) else value


def detector_rows(table: Any) -> list[dict[str, Any]]:
    """Return one JSON row per detector from the package's table."""
    rows = []
    for record in table.to_dict("records"):
        distance = _value(record.get("distance_ft"))
        rows.append({
            "detector": int(record["Detector"]),
            "phase": _value(record.get("phase_pred")),
            "phase_prob": _value(record.get("phase_prob")),
            "function": _value(record.get("function_pred")),
            "lanes": _value(record.get("lanes")),
            "setback_ft": round(distance) if isinstance(distance, (int, float)) else None,
            "health": _value(record.get("health_status")),
            "health_reason": _value(record.get("health_reason")),
            "status": _value(record.get("status")),
            "actuations": _value(record.get("n_actuations")),
        })
    return rows


def actuation_series(log: EventLog) -> list[dict[str, Any]]:
    """Return each detector's actuations per CHART_BIN_MINUTES minutes, as (t, detector, count) records."""
    events = log.events
    on = events[events["EventId"] == DETECTOR_ON]
    bins = on.groupby([on["Timestamp"].dt.floor(f"{CHART_BIN_MINUTES}min"), "Parameter"]).size()
    return [{"t": t.isoformat(), "detector": int(det), "count": int(n)} for (t, det), n in bins.items()]


def predict(ctx: DemoContext, events: bytes | None = None, use_sample: bool = False) -> dict[str, Any]:
    """Return every detector's phase, function, lanes, setback and health, and its actuations over time."""
    if use_sample:
        log = ctx.resource("sample-log", sample_log)
    elif events is None:
        raise InputError("is missing; upload a signal controller's event log as CSV, or tick “Use the sample”",
                         "events")
    else:
        log = read_csv_log(events, "events")
    table = ctx.model("detectors").predict(log)
    rows = detector_rows(table)
    logger.info("%s: %d events, %.0f minutes, %d detectors (%s)", ctx.id, len(log.events), log.minutes, len(rows),
                "sample" if use_sample else "upload")
    return {
        "device_id": log.device_id,
        "events": len(log.events),
        "start": log.events["Timestamp"].min().isoformat(),
        "minutes": round(log.minutes, 1),
        "source": "sample" if use_sample else "upload",
        "notes": log.notes,
        "detectors": rows,
        "actuations": actuation_series(log),
    }


def _cell(row: dict[str, Any], key: str, pick: str) -> Any:
    """Return one table cell in the page's language ("" where the model gave no answer)."""
    value = row[key]
    if value is None:
        return ""
    if key == "health":
        return HEALTH_NAMES.get(value, {}).get(pick, value)
    if key == "function":
        return FUNCTION_NAMES.get(value, {}).get(pick, value)
    if key == "health_reason" and pick == "zh":
        head, _, tail = str(value).rpartition(" - ")
        return f"{head} - {REASONS_ZH[tail]}" if head and tail in REASONS_ZH else value
    return value


def summary_markdown(result: dict[str, Any], lang: str = "en") -> str:
    """Return a short account of the log and the detectors' health, in `lang`."""
    counts: dict[str, int] = {}
    for row in result["detectors"]:
        counts[row["health"] or "not_enough_data"] = counts.get(row["health"] or "not_enough_data", 0) + 1
    pick = "zh" if lang == "zh" else "en"
    health = ", ".join(f"{HEALTH_NAMES.get(k, {}).get(pick, k)} {n}" for k, n in sorted(counts.items()))
    source = {"sample": {"en": "the bundled sample", "zh": "内置示例"}, "upload": {"en": "your log", "zh": "上传的日志"}}
    if pick == "zh":
        text = (f"读取{source[result['source']]['zh']}：信号机 `{result['device_id']}`，自 {result['start']} 起 "
                f"{result['minutes']:g} 分钟，{result['events']:,} 条事件，{len(result['detectors'])} 个检测器（{health}）。"
                "相位、功能、车道和距离由模型根据检测器的行为推断，健康状况由规则判断；30 分钟以下的日志结果较弱。")
        notes = [n.replace(" rows had an unreadable value and were left out.", " 行数值无法读取，已略过。")
                 .replace(" of ", " / ") for n in result["notes"]]
    else:
        text = (f"Read {source[result['source']]['en']}: signal `{result['device_id']}`, {result['minutes']:g} minutes "
                f"from {result['start']}, {result['events']:,} events, {len(result['detectors'])} detectors ({health}). "
                "Phase, function, lanes and setback are inferred from how each detector behaves; health is judged by "
                "rules. Under 30 minutes of log the answers are weaker.")
        notes = result["notes"]
    return "\n\n".join([text, *notes])


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the detector table, the actuations chart and a summary, in the page's language."""
    import pandas as pd  # deferred: only the UI renders tables

    pick = "zh" if lang == "zh" else "en"
    keys = ["detector", "phase", "phase_prob", "function", "lanes", "setback_ft", "health", "health_reason"]
    rows = [[_cell(row, key, pick) for key in keys] for row in result["detectors"]]
    phases = {row["detector"]: row["phase"] for row in result["detectors"]}
    prefix = "检测器" if pick == "zh" else "det"
    chart = pd.DataFrame(
        [(pd.Timestamp(p["t"]), p["count"],
          f"{prefix} {p['detector']}" + (f" · P{phases[p['detector']]}" if phases.get(p["detector"]) else ""))
         for p in result["actuations"]], columns=["t", "value", "series"])
    return {
        "detectors": pd.DataFrame(rows, columns=HEADERS[pick]),
        "chart": chart,
        "summary": summary_markdown(result, lang),
    }
