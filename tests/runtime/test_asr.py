"""Speech recognition: a converter (cached), Whisper export with ORTModelForSpeechSeq2Seq, the int8 token check."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gallery.runtime import converters
from gallery.runtime.asr import load_audio
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import make_spec
from tests.runtime.tinymodels import tiny_whisper, write_tone

pytest.importorskip("gallery.runtime.speech", reason="SpeechRecognizer (gallery/runtime/speech.py) not written yet")

CONVERTED: list[Path] = []


def _copy_converter(src: Path, dst: Path) -> None:
    """A stand-in source format: the 'package' holds the HF folder under `hf/`; converting copies it out."""
    CONVERTED.append(src)
    shutil.copytree(src / "hf", dst)


@pytest.fixture(scope="module")
def asr_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo folder with a tiny Whisper under `pkg/hf` and two example clips."""
    demo = tmp_path_factory.mktemp("asr-demo")
    tiny_whisper(demo / "pkg" / "hf")
    write_tone(demo / "a.wav", freq=440.0)
    write_tone(demo / "b.wav", seconds=2.0, rate=8000, freq=300.0)
    converters.CONVERTERS.setdefault("test-copy", _copy_converter)
    return demo


SPEC = make_spec("automatic-speech-recognition", {"path": "pkg"}, converter="test-copy", quantize="dynamic-int8",
                 options={"calibration": ["a.wav", "b.wav"]})


def test_load_audio_makes_mono_16k(asr_demo: Path) -> None:
    audio = load_audio(asr_demo / "b.wav")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 2.0 * 16000) <= 2


def test_whisper_converts_exports_checks_and_matches_torch(asr_demo: Path, tmp_path: Path) -> None:
    from gallery.runtime.speech import SpeechRecognizer

    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("education/lecture", "asr", SPEC, asr_demo)
    assert isinstance(model.target, SpeechRecognizer) and model.backend == "onnxruntime-cpu"
    assert registry.counters["conversions"] == 1 and registry.counters["exports"] == 1
    check = registry.status("education/lecture", "asr", SPEC, asr_demo).quant_check
    assert check is not None and check["metric"] == "token_error_rate" and check["examples"] == 2
    assert model.variant == ("int8" if check["passed"] else "fp32")

    baseline = ModelRegistry(tmp_path / "cache", force_backend="torch").get("education/lecture", "asr", SPEC,
                                                                            asr_demo)
    assert baseline.backend == "torch-cpu"
    fp32 = ModelRegistry(tmp_path / "cache").get(
        "education/lecture", "asr", SPEC.model_copy(update={"quantize": "none"}), asr_demo)
    assert fp32.variant == "fp32"
    processor = fp32.runtime_processor
    features = processor(load_audio(asr_demo / "a.wav"), sampling_rate=16000, return_tensors="pt").input_features
    ort_ids = fp32.runtime_model.generate(features, max_new_tokens=12)[0].tolist()
    torch_ids = baseline.runtime_model.generate(features, max_new_tokens=12)[0].tolist()
    assert ort_ids == torch_ids and len(ort_ids) > 2

    warm = ModelRegistry(tmp_path / "cache")
    warm.get("education/lecture", "asr", SPEC, asr_demo)
    assert warm.counters["conversions"] == warm.counters["exports"] == warm.counters["quant_checks"] == 0


def test_fast_ort_decoding_loop_gives_the_same_tokens_as_torch(asr_demo: Path, tmp_path: Path) -> None:
    """The recognizer's own ORT decoding loop (gallery/runtime/whisper_ort.py) must not change a single token."""
    from gallery.runtime.speech import Attempt

    spec = SPEC.model_copy(update={"quantize": "none"})
    ort = ModelRegistry(tmp_path / "cache").get("education/lecture", "asr", spec, asr_demo).target
    torch_ = ModelRegistry(tmp_path / "cache", force_backend="torch").get("education/lecture", "asr", spec,
                                                                          asr_demo).target
    assert ort._decoding is not None, "the fast loop should be active for an ONNX Runtime Whisper"
    assert torch_._decoding is None
    audio = load_audio(asr_demo / "a.wav")
    features = ort.processor(audio, sampling_rate=16000, return_tensors="pt").input_features
    language = ort.detect_language(audio)[0]
    for attempt in (Attempt(), Attempt(timestamps=False), Attempt(timestamps=False, no_repeat=3)):
        ids = ort._generate(features, language, "transcribe", 12, attempt)
        assert ids == torch_._generate(features, language, "transcribe", 12, attempt), attempt
        assert len(ids) > 0
    assert ort.transcribe(audio) == torch_.transcribe(audio)
