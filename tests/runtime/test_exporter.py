"""The exporter environment as the serving process sees it: one worker process, jobs with progress, clear failures."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from gallery.runtime.exporter import client
from tests.runtime.tinymodels import tiny_bert


def test_exporter_runs_optimum_with_its_own_transformers() -> None:
    versions = client.tool_versions()
    assert versions["optimum-onnx"] == "0.1.0" and versions["transformers"].startswith("4.57.")
    # The serving environment has neither optimum nor this transformers: the two really are separate.
    assert not metadata.version("transformers").startswith("4.")
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("optimum-onnx")


def test_a_job_reports_each_step_and_writes_the_export(tmp_path: Path) -> None:
    src = tiny_bert(tmp_path / "model", head="base")
    steps: list[str] = []
    meta = client.run_job({"op": "export", "ort_class": "ORTModelForFeatureExtraction", "src": str(src),
                           "dst": str(tmp_path / "onnx"), "extras": ["fast_tokenizer", "sentence_max_length"]},
                          steps.append)
    assert steps == ["exporting with optimum ORTModelForFeatureExtraction to ONNX"]
    assert (tmp_path / "onnx" / "model.onnx").is_file() and (tmp_path / "onnx" / "tokenizer.json").is_file()
    assert meta["max_length"] == 64 and meta["opset"] and meta["seconds"] >= 0


def test_a_failed_job_says_why_and_the_worker_serves_the_next(tmp_path: Path) -> None:
    with pytest.raises(client.ExportError, match="exporter job export failed") as failure:
        client.run_job({"op": "export", "ort_class": "ORTModelForFeatureExtraction", "src": str(tmp_path / "none"),
                        "dst": str(tmp_path / "out")})
    assert "none" in str(failure.value)  # the library's own message about the missing folder
    with pytest.raises(client.ExportError, match="unknown exporter job"):
        client.run_job({"op": "no-such-step", "src": "x", "dst": "y"})
    assert client.run_job({"op": "versions"})["versions"]["optimum"] == "2.1.0"


def test_the_exporter_runs_offline_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    env = client.exporter_env()
    assert "HF_TOKEN" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
    assert not env["HF_HOME"].startswith(str(Path.home()))  # no token saved by `huggingface-cli login` either


def test_a_missing_exporter_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENMODELS_EXPORTER_PYTHON", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(client.ExporterMissing, match="make install-exporter"):
        client.run_job({"op": "versions"})
    assert client.describe()[0][1].startswith("unusable: the exporter environment is not installed")
