"""automatic-speech-recognition: Whisper exported with ORTModelForSpeechSeq2Seq, served as a SpeechRecognizer."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.models import CustomModel, Guarded
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler, providers_for, real_backend

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
    """The SpeechRecognizer behind a concurrency guard; keeps the raw model and processor for the int8 check."""

    def __init__(self, recognizer: Any, model: Any, processor: Any, *, max_concurrency: int, backend: str,
                 variant: str) -> None:
        super().__init__(recognizer, max_concurrency=max_concurrency, variant=variant)
        self.backend = backend
        self.runtime_model = model
        self.runtime_processor = processor
        self.check_kwargs: dict[str, Any] = {}  # language / task for multilingual models, from the spec options


def session_options() -> Any:
    """Return ORT session options for Whisper: worker threads that sleep between runs instead of spinning.

    Decoding alternates short ORT runs (one token) with torch work on the logits; spinning ORT threads
    starve that work on a small CPU (it took 3 times longer on 2 cores). Numerics are unchanged.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _check_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """Return generate() settings for the int8 check: `options.language` and `options.whisper_task`."""
    kwargs = {}
    if spec.options.get("language"):
        kwargs["language"] = spec.options["language"]
    if spec.options.get("whisper_task"):
        kwargs["task"] = spec.options["whisper_task"]
    return kwargs


def _recognizer(model: Any, processor: Any, backend: str, variant: str) -> Any:
    # Imported here: speech.py is written separately and is only needed once an ASR model loads.
    from gallery.runtime.speech import SpeechRecognizer

    return SpeechRecognizer(model, processor, backend=backend, variant=variant)


class SpeechHandler(TaskHandler):
    """Whisper: tokens of greedy transcripts of the demo's example clips must not change under int8."""

    ort_class = "ORTModelForSpeechSeq2Seq"

    def load(self, folder: Path, spec: ModelSpec, backend: str, variant: str, meta: dict[str, Any]) -> Guarded:
        """Load the exported encoder/decoder sessions and the Whisper processor."""
        from optimum.onnxruntime import ORTModelForSpeechSeq2Seq
        from transformers import WhisperProcessor

        model = ORTModelForSpeechSeq2Seq.from_pretrained(str(folder), providers=providers_for(backend),
                                                         session_options=session_options())
        processor = WhisperProcessor.from_pretrained(str(folder))
        real = real_backend(model.providers)
        obj = SpeechModel(_recognizer(model, processor, real, variant), model, processor,
                          max_concurrency=spec.max_concurrency, backend=real, variant=variant)
        obj.check_kwargs = _check_kwargs(spec)
        return obj

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load WhisperForConditionalGeneration (PyTorch eager, fp32): the baseline."""
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        model = WhisperForConditionalGeneration.from_pretrained(str(src)).eval()
        processor = WhisperProcessor.from_pretrained(str(src))
        return SpeechModel(_recognizer(model, processor, "torch-cpu", "fp32"), model, processor,
                           max_concurrency=spec.max_concurrency, backend="torch-cpu", variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy transcript tokens of each example clip (first 30 s)."""
        processor = fp32.runtime_processor
        opts = fp32.check_kwargs
        # Leave room for the decoder prompt (start, language, task, no-timestamps tokens).
        limit = int(getattr(fp32.runtime_model.config, "max_target_positions", 448)) - 8
        ref, cand = [], []
        recognizer = getattr(fp32, "target", None)
        for path in calibration:
            audio = load_audio(path)[: 30 * SAMPLE_RATE]
            features = processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
            kwargs = {"max_new_tokens": min(96, limit), "do_sample": False, "num_beams": 1, **opts}
            if getattr(recognizer, "multilingual", False) and "language" not in kwargs:
                # Detect the language first, as SpeechRecognizer does, so the check compares the transcripts
                # the demos produce (generate() left to detect it degenerated once on the converted base model).
                kwargs["language"] = recognizer.detect_language(audio)[0]
                kwargs.setdefault("task", "transcribe")
            ref.append(fp32.runtime_model.generate(features, **kwargs)[0].tolist())
            cand.append(int8.runtime_model.generate(features, **kwargs)[0].tolist())
        return q.sequence_check(ref, cand)
