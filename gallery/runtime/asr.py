"""automatic-speech-recognition: Whisper exported with ORTModelForSpeechSeq2Seq, served by a SpeechRecognizer."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.models import CustomModel, Guarded
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler

if TYPE_CHECKING:
    from gallery.runtime.backends import Sessions

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


def _check_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """Return the decoding settings for the int8 check: `options.language` and `options.whisper_task`."""
    kwargs = {}
    opts = spec.typed_options()  # SpeechOptions
    if opts.language:
        kwargs["language"] = opts.language
    if opts.whisper_task:
        kwargs["task"] = opts.whisper_task
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
    merge_decoders = True
    # Decoding alternates short runs (one token) with numpy work on the logits: spinning runtime threads starve
    # that work on a small CPU (it took 3 times longer on 2 cores). Numerics are unchanged.
    sleeping_threads = True
    export_extras = ("fast_tokenizer", "mel_filters")
    int8_recipe = q.BLOCKWISE_RECIPE
    # The decoder runs once per token and is bound by reading its weights; the encoder runs once per
    # 30 s and is bound by arithmetic, where int8 measured no faster (121 vs 126 ms on tiny.en): it stays fp32.
    int8_files = ("decoder_model_merged.onnx",)

    def int8_job(self, config_name: str) -> dict[str, Any]:
        """Quantize the merged decoder's weights to int8 in blocks; the encoder stays fp32."""
        return {"op": "quantize-blockwise", "files": list(self.int8_files)}

    def serve(self, folder: Path, sessions: Sessions, spec: ModelSpec, meta: dict[str, Any],
              variant: str) -> Guarded:
        """Open the encoder and decoder graphs with the backend's sessions (no torch, no transformers)."""
        from gallery.runtime.whisper_onnx import OnnxWhisper

        engine = OnnxWhisper.open(folder, sessions.open)
        concurrency = spec.model_copy(update={"max_concurrency": sessions.concurrency(spec)})
        return _speech_model(engine, concurrency, sessions.label(engine.providers), variant)

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
