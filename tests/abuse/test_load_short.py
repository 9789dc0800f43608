"""A short run of benchmarks/load.py against the live gallery: no errors, bounded server threads."""

from __future__ import annotations

import json

from benchmarks.load import build_calls, format_report, run_load
from tests.abuse.conftest import DEMOS, LiveGallery
from tests.conftest import ARTIFACTS


def test_short_load_has_no_errors_and_bounded_threads(live_gallery: LiveGallery) -> None:
    calls = build_calls(DEMOS)
    assert calls, "no demo with an example to call"
    report = run_load(live_gallery.url, calls, clients=8, duration=12.0, pid=live_gallery.process.pid)
    print(format_report(report))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load-short.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    assert report["errors"] == 0, report["error_kinds"]
    assert report["json"]["requests"] > 0 and report["gradio"]["requests"] > 0
    # Requests wait in Gradio's queue and behind per-model limits instead of each holding a new thread.
    assert report["server_peak_threads"] - report["server_threads_before"] <= 64, report
    assert live_gallery.alive()
