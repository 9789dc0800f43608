"""A demo with `stream(ctx, ...)`: growing results in the UI, the last equal to predict's, one boundary for errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest

from gallery.errors import DemoFailure, InputError
from gallery.service import GalleryService

from .conftest import FIXTURES

STREAM_CODE = '''

def stream(ctx, text: str, top_n: int = 3):
    """Yield the counts word by word."""
    words = text.split()
    if "boom" in words:
        raise RuntimeError("a bug in the demo")
    if "refuse" in words:
        raise InputError("no refusals", "text")
    for n in range(1, len(words) + 1):
        yield predict(ctx, " ".join(words[:n]), top_n)
'''


def _service(tmp_path: Path) -> GalleryService:
    demos = tmp_path / "demos"
    shutil.copytree(FIXTURES, demos)
    app = demos / "education" / "word-stats" / "app.py"
    app.write_text(app.read_text(encoding="utf-8") + STREAM_CODE, encoding="utf-8")
    return GalleryService.open(demos, tmp_path / "cache")


def test_service_streams_growing_results_ending_with_predicts(tmp_path: Path) -> None:
    service = _service(tmp_path)
    assert service.streams("education/word-stats") and not service.streams("transport/word-stats-b")
    inputs = service.decode("education/word-stats", {"text": "a b a", "top_n": 2})
    updates = list(service.stream("education/word-stats", inputs))
    assert [u["words"] for u in updates] == [1, 2, 3]
    assert updates[-1] == service.predict("education/word-stats", inputs)
    # A demo without stream gives its one result.
    plain = service.decode("transport/word-stats-b", {"text": "a b"})
    assert len(list(service.stream("transport/word-stats-b", plain))) == 1


def test_a_failing_stream_is_a_demo_failure_and_a_refusal_stays_a_refusal(tmp_path: Path) -> None:
    service = _service(tmp_path)
    with pytest.raises(DemoFailure):
        list(service.stream("education/word-stats", service.decode("education/word-stats", {"text": "a boom"})))
    with pytest.raises(InputError):
        list(service.stream("education/word-stats", service.decode("education/word-stats", {"text": "refuse"})))


def test_the_run_event_of_a_streaming_demo_is_a_generator_with_what_ran_last(tmp_path: Path) -> None:
    from gallery.ui.layout import build_single

    service = _service(tmp_path)
    blocks, _ = build_single(service, service.index.get("education/word-stats"))
    live = next(f for f in blocks.fns.values() if getattr(f.fn, "__name__", "") == "run_demo_live")
    assert live.api_name == "education-word-stats"  # the Run button's API endpoint streams
    outputs = list(live.fn("a b a", 2))
    assert [r["words"] for r, _ in outputs][-1] == 3
    assert all(info is None for _, info in outputs[:-1]) and outputs[-1][1]["ms"] >= 0
    with pytest.raises(gr.Error):
        list(live.fn("a boom", 2))
