"""A serving install without the exporter (the container image) finds the exports made before, and only those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gallery.runtime.backends import backend_named
from gallery.runtime.build import Builder
from gallery.runtime.exporter import client
from gallery.runtime.spec import ModelSpec, PathSource
from gallery.runtime.tasks import handler_for
from tests.runtime.tinymodels import tiny_bert


ORT = backend_named("onnxruntime-cpu")


def _spec(folder: Path) -> ModelSpec:
    return ModelSpec(task="feature-extraction", source=PathSource(path=str(folder)), licence="apache-2.0")


def test_exports_stay_reachable_without_the_exporter_and_a_miss_says_it_is_absent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder = Builder(tmp_path / "cache")
    handler = handler_for("feature-extraction")
    first = tiny_bert(tmp_path / "first", head="base", seed=0)
    entry, _ = builder.export(_spec(first), handler, first, "fingerprint-first", "test/first", ORT)
    assert builder.counters["exports"] == 1
    # The export recorded the versions that key it, as the image's `gallery pull` does at build time.
    record = tmp_path / "cache" / client.VERSIONS_RECORD
    recorded = json.loads(record.read_text(encoding="utf-8"))
    assert recorded["versions"] == client.tool_versions() and recorded["versions"]["optimum-onnx"] == "0.1.0"

    # The serving stage of the image: no exporter environment at all.
    monkeypatch.setenv(client.ENV_PYTHON, str(tmp_path / "no-exporter" / "bin" / "python"))
    again, _ = builder.export(_spec(first), handler, first, "fingerprint-first", "test/first", ORT)
    assert again == entry and builder.counters["exports"] == 1  # a cache hit: nothing ran

    second = tiny_bert(tmp_path / "second", head="base", seed=1)
    with pytest.raises(client.ExporterMissing, match="the exporter environment is not installed"):
        builder.export(_spec(second), handler, second, "fingerprint-second", "test/second", ORT)
    assert builder.counters["exports"] == 1
    # `gallery doctor` says both: no exporter here, and which exporter made the cached exports.
    rows = dict(client.describe(record))
    assert rows["exporter environment"].startswith("unusable: the exporter environment is not installed")
    assert "optimum-onnx 0.1.0" in rows["exporter (recorded)"]


def test_without_exporter_or_record_the_error_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(client.ENV_PYTHON, str(tmp_path / "no-exporter" / "bin" / "python"))
    for record in (None, tmp_path / "missing.json", tmp_path / "broken.json"):
        if record is not None and record.name == "broken.json":
            record.write_text("{not json", encoding="utf-8")
        with pytest.raises(client.ExporterMissing, match="make install-exporter"):
            client.tool_versions(record)
