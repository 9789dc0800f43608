"""Speech recognition: a converter (cached), Whisper export, the int8 token check, and the torch-free engine.

The ONNX Runtime engine (gallery/runtime/whisper_onnx.py) re-implements Whisper's features and decoding rules
in numpy; these tests hold it to transformers' own feature extractor, logits processors and `generate`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gallery.runtime.asr import load_audio
from gallery.runtime.registry import ModelRegistry
from gallery.runtime.speech import Attempt, SpeechRecognizer
from gallery.runtime.whisper_onnx import OnnxWhisper, Rules, WhisperFacts, log_mel
from tests.runtime import copy_converter  # noqa: F401  (registers the "test-copy" converter)
from tests.runtime.conftest import make_spec
from tests.runtime.tinymodels import tiny_whisper, write_tone

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {"english": {}, "multilingual-timestamps": {"multilingual": True, "timestamps": True}}


def _demo(root: Path, **variant: bool) -> Path:
    """Return a demo folder with a tiny Whisper under `pkg/hf` and two example clips."""
    tiny_whisper(root / "pkg" / "hf", **variant)
    write_tone(root / "a.wav", freq=440.0)
    write_tone(root / "b.wav", seconds=2.0, rate=8000, freq=300.0)
    return root


@pytest.fixture(scope="module")
def asr_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The English-only tiny Whisper demo."""
    return _demo(tmp_path_factory.mktemp("asr-demo"))


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each tiny Whisper variant: English-only, and multilingual with timestamp tokens."""
    return _demo(tmp_path_factory.mktemp(f"asr-{request.param}"), **VARIANTS[request.param])


SPEC = make_spec("automatic-speech-recognition", {"path": "pkg"}, converter="test-copy", quantize="dynamic-int8",
                 options={"calibration": ["a.wav", "b.wav"]})
FP32 = SPEC.model_copy(update={"quantize": "none"})


def _pair(demo: Path, cache: Path) -> tuple[SpeechRecognizer, SpeechRecognizer]:
    """Return the ONNX Runtime recognizer and the PyTorch (transformers generate) one of a demo's model."""
    fast = ModelRegistry(cache).get("education/lecture", "asr", FP32, demo).target
    slow = ModelRegistry(cache, force_backend="torch").get("education/lecture", "asr", FP32, demo).target
    return fast, slow


def _export_folder(cache: Path) -> Path:
    """Return the one fp32 Whisper export in a cache."""
    (folder,) = [f for f in (cache / "exports" / "ORTModelForSpeechSeq2Seq").glob("*/onnx") if "-int8-" not in str(f)]
    return folder


def _op_types(path: Path) -> set[str]:
    import onnx

    def walk(graph: onnx.GraphProto) -> set[str]:
        types = set()
        for node in graph.node:
            types.add(node.op_type)
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:  # the merged decoder's If branches
                    types |= walk(attribute.g)
        return types

    return walk(onnx.load(str(path), load_external_data=False).graph)


def test_load_audio_makes_mono_16k(asr_demo: Path) -> None:
    audio = load_audio(asr_demo / "b.wav")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 2.0 * 16000) <= 2


def test_whisper_converts_exports_checks_and_loads_warm_from_cache(asr_demo: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("education/lecture", "asr", SPEC, asr_demo)
    assert isinstance(model.target, SpeechRecognizer) and isinstance(model.engine, OnnxWhisper)
    assert model.backend == "onnxruntime-cpu"
    assert registry.counters["conversions"] == 1 and registry.counters["exports"] == 1
    check = registry.status("education/lecture", "asr", SPEC, asr_demo).quant_check
    assert check is not None and check["metric"] == "token_error_rate" and check["examples"] == 2
    assert model.variant == ("int8" if check["passed"] else "fp32")
    export = _export_folder(tmp_path / "cache")
    assert (export / "mel_filters.npy").is_file()
    assert (export / "tokenizer.json").is_file()  # made from the slow tokenizer's vocab and merges
    # One merged decoder replaces the two the export wrote, so its weights are on disk and in memory once.
    assert sorted(p.name for p in export.glob("*.onnx")) == ["decoder_model_merged.onnx", "encoder_model.onnx"]

    assert check["recipe"] == "mnb8b128a4"
    (int8,) = (tmp_path / "cache" / "exports" / "ORTModelForSpeechSeq2Seq").glob("*-int8-*/onnx")
    assert {"If", "MatMulNBits"} <= _op_types(int8 / "decoder_model_merged.onnx")
    assert _op_types(int8 / "encoder_model.onnx") == _op_types(export / "encoder_model.onnx")  # stays fp32
    assert "MatMulNBits" not in _op_types(int8 / "encoder_model.onnx")

    warm = ModelRegistry(tmp_path / "cache")
    warm.get("education/lecture", "asr", SPEC, asr_demo)
    assert warm.counters["conversions"] == warm.counters["exports"] == warm.counters["quant_checks"] == 0


def test_warm_load_imports_neither_torch_nor_transformers(asr_demo: Path, tmp_path: Path) -> None:
    ModelRegistry(tmp_path / "cache").get("education/lecture", "asr", FP32, asr_demo)  # cold: export
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from gallery.runtime.registry import ModelRegistry\n"
        "from tests.runtime.conftest import make_spec\n"
        "from tests.runtime.test_asr import FP32\n"
        "model = ModelRegistry(Path(sys.argv[1])).get('education/lecture', 'asr', FP32, Path(sys.argv[2]))\n"
        "text = model.transcribe(__import__('gallery.runtime.asr', fromlist=['x']).load_audio(sys.argv[3]))['text']\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'transformers': 'transformers' in sys.modules,\n"
        "                  'optimum': 'optimum' in sys.modules, 'text': text}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "cache"), str(asr_demo),
                           str(asr_demo / "a.wav")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"torch": False, "transformers": False, "optimum": False, "text": seen["text"]}


@pytest.mark.parametrize("seconds", [0.4, 7.3, 30.0, 31.0])
def test_log_mel_matches_transformers_feature_extractor(seconds: float) -> None:
    from transformers import WhisperFeatureExtractor

    rng = np.random.default_rng(int(seconds * 10))
    audio = (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    extractor = WhisperFeatureExtractor(feature_size=80)
    ours = log_mel(audio, extractor.mel_filters)
    torch_path = extractor(audio, sampling_rate=16000, return_tensors="np").input_features
    numpy_path = extractor._np_extract_fbank_features(
        np.pad(audio[:480000], (0, max(0, 480000 - audio.size)))[None], "cpu")
    assert ours.shape == torch_path.shape == (1, 80, 3000)
    assert np.max(np.abs(ours - numpy_path)) < 1e-4
    assert np.max(np.abs(ours - torch_path)) < 1e-4


@pytest.mark.parametrize("timestamps", [False, True])
@pytest.mark.parametrize("no_repeat", [0, 1, 3])
def test_rules_match_transformers_logits_processors(timestamps: bool, no_repeat: int) -> None:
    import torch
    from transformers import GenerationConfig
    from transformers.generation.logits_process import (
        NoRepeatNGramLogitsProcessor,
        SuppressTokensAtBeginLogitsProcessor,
        SuppressTokensLogitsProcessor,
        WhisperTimeStampLogitsProcessor,
    )

    vocab, eot, no_ts = 120, 50, 59  # text 0..49, specials 50..59, timestamps 60..119
    facts = WhisperFacts(start_id=51, eot_id=eot, no_timestamps_id=no_ts, timestamp_begin=no_ts + 1,
                         suppress_tokens=(3, 7, 52, 53), begin_suppress_tokens=(eot, 11), max_initial_timestamp_index=8)
    prompt = [51, 52, 54] + ([] if timestamps else [no_ts])
    config = GenerationConfig(no_timestamps_token_id=no_ts, eos_token_id=eot, max_initial_timestamp_index=8)
    chain = ([NoRepeatNGramLogitsProcessor(no_repeat)] if no_repeat else []) + [
        SuppressTokensLogitsProcessor(list(facts.suppress_tokens)),
        SuppressTokensAtBeginLogitsProcessor(list(facts.begin_suppress_tokens), begin_index=len(prompt))]
    if timestamps:
        chain.append(WhisperTimeStampLogitsProcessor(config, begin_index=len(prompt)))
    rules = Rules(facts, vocab, len(prompt), timestamps, no_repeat)
    rng = np.random.default_rng(no_repeat + 10 * timestamps)
    pool = [1, 2, 4, 5, 6, 60, 61, 62, 65, 70]  # a few text and timestamp tokens, so n-grams and pairs repeat
    for trial in range(300):
        history = prompt + [int(t) for t in rng.choice(pool, size=trial % 9)]
        scores = (3 * rng.standard_normal(vocab)).astype(np.float32)
        if trial % 3 == 0:
            scores[60:] += 4  # make timestamps the likelier kind in some trials
        expected = torch.from_numpy(scores.copy())[None]
        ids = torch.tensor([history])
        for processor in chain:
            expected = processor(ids, expected)
        ours = rules(history, scores.copy())
        np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(expected[0].numpy()), err_msg=str(history))
        assert int(np.argmax(ours)) == int(torch.argmax(expected[0]))


def test_onnx_engine_gives_the_same_tokens_and_text_as_transformers_generate(variant_demo: Path,
                                                                             tmp_path: Path) -> None:
    fast, slow = _pair(variant_demo, tmp_path / "cache")
    assert isinstance(fast.engine, OnnxWhisper) and fast.facts == slow.facts
    assert fast.multilingual == ("timestamps" in variant_demo.name)
    audio = load_audio(variant_demo / "a.wav")
    language, expected = fast.detect_language(audio), slow.detect_language(audio)
    assert language[0] == expected[0] and language[1] == pytest.approx(expected[1], abs=1e-4)
    features = fast.engine.features(audio)
    attempts = [Attempt(timestamps=False), Attempt(timestamps=False, no_repeat=3)]
    if fast.timestamps:
        attempts += [Attempt(), Attempt(no_repeat=2), Attempt(lead_in=0.1)]
    produced = []
    for attempt in attempts:
        for task in (("transcribe", "translate") if fast.multilingual else ("transcribe",)):
            ids = fast._generate(features, language[0], task, 24, attempt)
            assert ids == slow._generate(slow.engine.features(audio), language[0], task, 24, attempt), (attempt, task)
            assert fast.engine.decode(ids) == slow.engine.decode(ids)
            produced += ids
    assert len(produced) > 10
    if fast.timestamps:
        assert any(t >= fast.timestamp_begin for t in produced), "the timestamp rules were never exercised"
    for clip in ("a.wav", "b.wav"):
        samples = load_audio(variant_demo / clip)
        assert fast.transcribe(samples) == slow.transcribe(samples)


def test_decode_matches_the_transformers_tokenizer(asr_demo: Path, tmp_path: Path) -> None:
    fast, slow = _pair(asr_demo, tmp_path / "cache")
    rng = np.random.default_rng(0)
    for length in (0, 1, 5, 40):
        for _ in range(20):
            ids = [int(t) for t in rng.integers(0, fast.eot_id, size=length)]
            assert fast.engine.decode(ids) == slow.engine.decode(ids), ids


def test_an_export_without_the_engine_files_is_refused_with_the_reason(asr_demo: Path, tmp_path: Path) -> None:
    ModelRegistry(tmp_path / "cache").get("education/lecture", "asr", FP32, asr_demo)
    broken = tmp_path / "broken"
    shutil.copytree(_export_folder(tmp_path / "cache"), broken)
    (broken / "mel_filters.npy").unlink()
    with pytest.raises(FileNotFoundError, match="mel_filters.npy"):
        OnnxWhisper.on_onnxruntime(broken, ["CPUExecutionProvider"])
