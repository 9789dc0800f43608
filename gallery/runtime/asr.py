"""automatic-speech-recognition: Whisper exported with ORTModelForSpeechSeq2Seq, served by a SpeechRecognizer."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.models import CustomModel, Guarded
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler, providers_for, real_backend, save_fast_tokenizer

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000


def load_audio(path: Path | str) -> np.ndarray:
    """Read an audio file as mono float32 at 16 kHz."""
    import soundfile as sf
    from scipy.signal import resample_poly

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        ratio = Fraction(SAMPLE_RATE, int(rate)).limit_denominator(1000)
        mono = resample_poly(mono, ratio.numerator, ratio.denominator).astype(np.float32)
    return mono


class SpeechModel(CustomModel):
    """The SpeechRecognizer behind a concurrency guard; its engine serves the int8 check."""

    def __init__(self, recognizer: Any, *, max_concurrency: int, backend: str, variant: str) -> None:
        super().__init__(recognizer, max_concurrency=max_concurrency, variant=variant)
        self.backend = backend
        self.engine = recognizer.engine
        self.check_kwargs: dict[str, Any] = {}  # language / task for multilingual models, from the spec options


def session_options() -> Any:
    """Return ORT session options for Whisper: worker threads that sleep between runs instead of spinning.

    Decoding alternates short ORT runs (one token) with numpy work on the logits; spinning ORT threads
    starve that work on a small CPU (it took 3 times longer on 2 cores). Numerics are unchanged.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def merge_decoders(folder: Path) -> None:
    """Replace the exported decoder and decoder-with-past by one merged decoder holding the weights once.

    Two sessions each held a copy of the decoder weights: the Whisper base demo peaked at 1266 MiB with them and
    at 992 MiB merged, and a decoding step costs the same within 5% (docs/BENCHMARKS.md).
    """
    from optimum.onnx import merge_decoders as merge

    from gallery.runtime.whisper_onnx import DECODER

    first, with_past = folder / "decoder_model.onnx", folder / "decoder_with_past_model.onnx"
    # strict=False: the with-past graph has no cross-attention outputs; the merge gives that branch empty ones.
    merge(first, with_past, save_path=folder / DECODER, strict=False)
    for stale in [*folder.glob("decoder_model.onnx*"), *folder.glob("decoder_with_past_model.onnx*")]:
        stale.unlink()


def _check_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """Return the decoding settings for the int8 check: `options.language` and `options.whisper_task`."""
    kwargs = {}
    if spec.options.get("language"):
        kwargs["language"] = spec.options["language"]
    if spec.options.get("whisper_task"):
        kwargs["task"] = spec.options["whisper_task"]
    return kwargs


def _speech_model(engine: Any, spec: ModelSpec, backend: str, variant: str) -> SpeechModel:
    # Imported here: speech.py is only needed once an ASR model loads.
    from gallery.runtime.speech import SpeechRecognizer

    recognizer = SpeechRecognizer(engine, backend=backend, variant=variant)
    obj = SpeechModel(recognizer, max_concurrency=spec.max_concurrency, backend=backend, variant=variant)
    obj.check_kwargs = _check_kwargs(spec)
    return obj


class SpeechHandler(TaskHandler):
    """Whisper: tokens of greedy transcripts of the demo's example clips must not change under int8."""

    ort_class = "ORTModelForSpeechSeq2Seq"
    # 2: the export also holds tokenizer.json and mel_filters.npy for the torch-free engine;
    # 3: one merged decoder instead of decoder + decoder-with-past.
    export_layout = 3
    int8_recipe = q.BLOCKWISE_RECIPE
    # The decoder runs once per token and is bound by reading its weights; the encoder runs once per
    # 30 s and is bound by arithmetic, where int8 measured no faster (121 vs 126 ms on tiny.en): it stays fp32.
    int8_files = ("decoder_model_merged.onnx",)

    def quantize(self, fp32_dir: Path, int8_dir: Path, config_name: str) -> list[str]:
        """Quantize the merged decoder's weights to int8 in blocks; the encoder stays fp32."""
        return q.quantize_folder_blockwise(fp32_dir, int8_dir, self.int8_files)

    def export(self, src: Path, dst: Path, spec: ModelSpec) -> dict[str, Any]:
        """Export with Optimum, then save what OnnxWhisper reads instead of transformers' processor."""
        from transformers import WhisperFeatureExtractor

        from gallery.runtime.whisper_onnx import MEL_FILTERS

        meta = super().export(src, dst, spec)
        merge_decoders(dst)
        save_fast_tokenizer(src, dst)
        extractor = WhisperFeatureExtractor.from_pretrained(str(src))
        np.save(dst / MEL_FILTERS, np.asarray(extractor.mel_filters, dtype=np.float64))
        return meta

    def load(self, folder: Path, spec: ModelSpec, backend: str, variant: str, meta: dict[str, Any]) -> Guarded:
        """Load the exported encoder/decoder sessions with ONNX Runtime (no torch, no transformers)."""
        from gallery.runtime.whisper_onnx import OnnxWhisper

        engine = OnnxWhisper(folder, providers_for(backend), session_options())
        return _speech_model(engine, spec, real_backend(engine.providers), variant)

    def load_openvino(self, folder: Path, spec: ModelSpec, meta: dict[str, Any], variant: str = "fp32") -> Guarded:
        """Load optimum-intel's OVModelForSpeechSeq2Seq; it decodes with transformers' generate, as PyTorch does."""
        from transformers import WhisperProcessor

        from gallery.runtime import openvino
        from gallery.runtime.whisper_torch import TorchWhisper

        model = openvino.load_model(self.ort_class, folder)
        engine = TorchWhisper(model, WhisperProcessor.from_pretrained(str(folder)))
        concurrency = spec.model_copy(update={"max_concurrency": openvino.MODEL_CONCURRENCY})
        return _speech_model(engine, concurrency, openvino.BACKEND, variant)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load WhisperForConditionalGeneration (PyTorch eager, fp32) with transformers' generate: the baseline."""
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        from gallery.runtime.whisper_torch import TorchWhisper

        model = WhisperForConditionalGeneration.from_pretrained(str(src)).eval()
        engine = TorchWhisper(model, WhisperProcessor.from_pretrained(str(src)))
        return _speech_model(engine, spec, "torch-cpu", "fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy transcript tokens of each example clip (first 30 s), without timestamps."""
        ref, cand = [], []
        recognizer = fp32.target
        limit = min(96, recognizer.max_target - 8)  # room for the prompt
        for path in calibration:
            audio = load_audio(path)[: 30 * SAMPLE_RATE]
            opts = dict(fp32.check_kwargs)
            if recognizer.multilingual and "language" not in opts:
                # Detect the language first, as SpeechRecognizer does, so the check compares the transcripts
                # the demos produce.
                opts["language"] = recognizer.detect_language(audio)[0]
            language, task = opts.get("language"), opts.get("task", "transcribe")
            # Both variants come from one export, so they share its mel filter bank: one set of features.
            features = fp32.engine.features(audio)
            ref.append(fp32.engine.generate(features, language, task, limit, False))
            cand.append(int8.engine.generate(features, language, task, limit, False))
        return q.sequence_check(ref, cand)
