"""OpenVINO (the `openvino` extra, installed for the tests): what is particular to it (every task's answer
against torch is in test_task_backend_matrix.py).

The rest of the suite pins `auto` to ONNX Runtime (tests/conftest.py); these tests ask for OpenVINO.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gallery.runtime.hardware import detect
from gallery.runtime.models import TextEmbedder
from gallery.runtime.openvino import OpenVINOSession
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import CALIBRATION, make_spec
from tests.runtime.test_asr import VARIANTS, _demo
from tests.runtime.tinymodels import tiny_bert

pytestmark = pytest.mark.skipif(not detect().openvino, reason="OpenVINO is not installed (openvino extra)")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the tiny embedding model once for this module."""
    base = tmp_path_factory.mktemp("openvino")
    tiny_bert(base / "emb" / "model", head="base", seed=1)
    return base


def _pair(root: Path, folder: str, task: str, **extra: Any) -> tuple[Any, Any]:
    """Return the fp32 OpenVINO model and the torch baseline of a tiny model (the int8 guard is tested below)."""
    spec = make_spec(task, {"path": "model"}, quantize="none", **extra)
    fast = ModelRegistry(root / "cache", force_backend="openvino").get(f"x/{folder}", "m", spec, root / folder)
    slow = ModelRegistry(root / "cache", force_backend="torch").get(f"x/{folder}", "m", spec, root / folder)
    assert fast.backend == "openvino-cpu" and fast.variant == "fp32" and slow.backend == "torch-cpu"
    return fast, slow


def test_auto_takes_openvino_on_intel_cpus_and_the_variable_overrides_it(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    spec = make_spec("feature-extraction", {"path": "model"})
    registry = ModelRegistry(tmp_path / "cache")
    hw = detect()
    intel = "GenuineIntel" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else False
    assert hw.intel == intel and hw.openvino_preferred == intel
    expected = "onnxruntime-cuda" if hw.cuda else "openvino-cpu" if intel else "onnxruntime-cpu"
    monkeypatch.delenv("OPENMODELS_BACKEND", raising=False)
    assert detect().default_backend == expected and registry.backend_for(spec) == expected
    monkeypatch.setenv("OPENMODELS_BACKEND", "onnxruntime")
    assert registry.backend_for(spec).startswith("onnxruntime")
    monkeypatch.setenv("OPENMODELS_BACKEND", "openvino")
    assert registry.backend_for(spec) == "openvino-cpu"
    monkeypatch.setenv("OPENMODELS_BACKEND", "quantum")  # unknown: auto, with a warning
    assert registry.backend_for(spec) == expected
    pinned = spec.model_copy(update={"backend": "torch"})  # a spec's own choice is not overridden
    assert registry.backend_for(pinned) == "torch"


def test_sentence_embeddings_run_on_openvino_without_torch_objects(root: Path) -> None:
    fast, slow = _pair(root, "emb", "feature-extraction")
    assert isinstance(fast, TextEmbedder) and isinstance(fast.session, OpenVINOSession)
    got, want = fast.embed(CALIBRATION), slow.embed(CALIBRATION)
    cosine = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert got.shape == want.shape and float(cosine.min()) > 0.9999
    exports = root / "cache" / "exports" / "ORTModelForFeatureExtraction-openvino"
    assert list(exports.glob("*/ov/model.xml")) and list(exports.glob("*/ov/tokenizer.json"))


def _constant_types(xml: Path) -> set[str]:
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    return {op.get_output_element_type(0).get_type_name() for op in model.get_ops() if op.get_type_name() == "Constant"}


def test_int8_weights_on_openvino_are_kept_when_the_check_passes(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tiny_bert(demo / "model", head="base", seed=0)
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="dynamic-int8",
                     options={"calibration": CALIBRATION})
    registry = ModelRegistry(tmp_path / "cache", force_backend="openvino")
    model = registry.get("x/q", "m", spec, demo)
    check = registry.status("x/q", "m", spec, demo).quant_check
    assert check is not None and check["recipe"] == "nncfw8a" and check["config"] == "openvino"
    assert check["passed"] and check["value"] >= 0.99 and model.variant == "int8"
    assert model.backend == "openvino-cpu" and isinstance(model.session, OpenVINOSession)
    (int8,) = (tmp_path / "cache" / "exports" / "ORTModelForFeatureExtraction-openvino").glob(
        "*-int8-openvino-nncfw8a/ov")
    assert "u8" in _constant_types(int8 / "model.xml")  # the weights really are int8 now
    assert "u8" not in _constant_types(int8.parent.with_name(int8.parent.name.split("-int8-")[0]) / "ov"
                                       / "model.xml")
    assert (int8 / "tokenizer.json").is_file()
    slow = ModelRegistry(tmp_path / "cache", force_backend="torch").get("x/q", "m", spec, demo)
    got, want = model.embed(CALIBRATION), slow.embed(CALIBRATION)
    assert float(np.min(np.sum(got * want, axis=1))) >= 0.99  # unit vectors: the cosine the check promised
    warm = ModelRegistry(tmp_path / "cache", force_backend="openvino")
    assert warm.get("x/q", "m", spec, demo).variant == "int8"
    assert warm.counters["exports"] == warm.counters["quant_checks"] == warm.counters["quantizations"] == 0


def test_int8_weights_on_openvino_fall_back_to_fp32_when_the_check_fails(tmp_path: Path) -> None:
    # Weight outliers, not activation outliers: OpenVINO keeps activations fp32 on some CPUs (AVX2) and quantizes
    # them on others (AVX-512), so only weights that int8 cannot represent fail the check on every CPU.
    from tests.runtime.tinymodels import add_weight_outliers

    demo = tmp_path / "demo"
    add_weight_outliers(tiny_bert(demo / "model", head="base", seed=0))
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="dynamic-int8",
                     options={"calibration": CALIBRATION})
    registry = ModelRegistry(tmp_path / "cache", force_backend="openvino")
    model = registry.get("x/q", "m", spec, demo)
    check = registry.status("x/q", "m", spec, demo).quant_check
    assert check is not None and not check["passed"] and "cosine" in check["reason"]
    # Far below the 0.99 threshold, not near it: int8 keeps only the projections' biases here.
    assert check["value"] < 0.9
    assert model.variant == "fp32" and model.backend == "openvino-cpu"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_whisper_on_openvino_transcribes_like_torch(variant: str, tmp_path: Path) -> None:
    from gallery.runtime.asr import load_audio
    from tests.runtime.test_asr import FP32

    demo = _demo(tmp_path / "demo", **VARIANTS[variant])
    fast = ModelRegistry(tmp_path / "cache", force_backend="openvino").get("x/asr", "asr", FP32, demo)
    slow = ModelRegistry(tmp_path / "cache", force_backend="torch").get("x/asr", "asr", FP32, demo)
    assert fast.backend == "openvino-cpu" and fast.max_concurrency == 1
    for clip in ("a.wav", "b.wav"):
        samples = load_audio(demo / clip)
        assert fast.transcribe(samples) == slow.transcribe(samples)


def test_real_demos_run_on_openvino(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Whisper tiny.en and MiniLM from their packages, as OpenVINO IR, against the ONNX Runtime path."""
    import yaml

    from gallery.runtime.speech import word_error_rate
    from tests.demos.harness import DEMOS, load_demo, run_ui

    dictation = DEMOS / "healthcare" / "clinical-dictation"
    faq = DEMOS / "healthcare" / "health-faq"
    scripts = yaml.safe_load((dictation / "examples" / "scripts.yaml").read_text("utf-8"))
    monkeypatch.setenv("OPENMODELS_BACKEND", "openvino")
    speech = load_demo(dictation, tmp_path / "speech")
    assert speech[2].model("asr").backend == "openvino-cpu"
    for item in scripts:
        transcript = run_ui(speech, audio=str(dictation / "examples" / item["file"]))["transcript"]
        assert word_error_rate(item["reference"], transcript) <= 0.15, transcript
    texts = [example["question"] for example in load_demo(faq, tmp_path / "faq")[0].examples]
    on_openvino = load_demo(faq, tmp_path / "faq-ov")[2].model("encoder")
    assert on_openvino.backend == "openvino-cpu"
    monkeypatch.setenv("OPENMODELS_BACKEND", "onnxruntime")
    on_onnxruntime = load_demo(faq, tmp_path / "faq-ort")[2].model("encoder")
    assert on_onnxruntime.backend == "onnxruntime-cpu" and on_onnxruntime.variant == "fp32"
    got, want = on_openvino.embed(texts), on_onnxruntime.embed(texts)
    # fp32 on both sides agrees to rounding; OpenVINO's int8 weights are held to the guard's 0.99.
    floor = 0.999 if on_openvino.variant == "fp32" else 0.99
    assert float(np.min(np.sum(got * want, axis=1))) > floor  # unit vectors: the cosine
