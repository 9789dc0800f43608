"""Hardware detection and the `gallery doctor` rows."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from gallery.discovery import discover
from gallery.runtime.doctor import doctor_report
from gallery.runtime.hardware import describe, detect
from gallery.runtime.memory import parse_size
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import make_spec


def test_detect_reflects_this_machine() -> None:
    hw = detect()
    assert hw.providers == tuple(ort.get_available_providers())
    assert hw.cuda == ("CUDAExecutionProvider" in hw.providers)
    expected = "onnxruntime-cuda" if hw.cuda else "openvino-cpu" if hw.openvino and hw.intel else "onnxruntime-cpu"
    assert hw.default_backend == expected
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    assert hw.avx2 == (" avx2" in flags)
    expected = "arm64" if hw.arm64 else "avx512_vnni" if hw.avx512_vnni else "avx512" if hw.avx512 else "avx2"
    assert hw.quantization_config == expected
    rows = dict(describe())
    assert rows["default backend"] == hw.default_backend and hw.quantization_config in rows["int8 config"]
    assert ("nncfw8a" in rows["int8 on openvino"]) if hw.openvino else "int8 on openvino" not in rows


def test_doctor_report_lists_every_demo_model(tmp_path: Path) -> None:
    demos = Path(__file__).resolve().parents[2] / "demos"
    index = discover(demos)
    report = doctor_report(index, ModelRegistry(tmp_path / "cache"))
    assert report["hardware"] and all(len(row) == 2 for row in report["hardware"])
    expected = sum(len(e.manifest.models) if e.manifest else 1 for e in index.entries)
    assert len(report["models"]) == expected
    for row in report["models"]:
        assert row["available"] in ("yes", "no") and row["state"] in ("not-loaded", "invalid manifest")
    backends = {row["demo"]: row["backend"] for row in report["models"]}
    # Not loaded yet: expected backends in parentheses; a custom factory's is not guessed.
    assert backends["transport/ridership-forecast"] == "(chosen by the demo's factory)"
    planned = "onnxruntime-cuda" if detect().cuda else "onnxruntime-cpu"  # the suite pins auto to ONNX Runtime
    assert backends["healthcare/clinical-dictation"] == f"({planned})"


def test_status_never_loads(tmp_path: Path, bert_demo: Path) -> None:
    registry = ModelRegistry(tmp_path / "cache")
    spec = make_spec("feature-extraction", {"path": "model"})
    assert registry.status("x/y", "m", spec, bert_demo).state == "not-loaded"
    assert registry.counters["loads"] == 0 and not (tmp_path / "cache" / "exports").exists()


def test_parse_size() -> None:
    assert parse_size("512M") == 512 * 2**20
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("1000") == 1000
