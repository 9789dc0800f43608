"""Per-task export, load and int8 check: how each kind of model becomes an ONNX folder and a loaded object."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gallery.runtime import hardware
from gallery.runtime import quantize as q
from gallery.runtime.models import (Guarded, OnnxModel, PipelineModel, TaskModel, TextEmbedder,
                                    TorchTextEmbedder)
from gallery.runtime.spec import ModelSpec

logger = logging.getLogger(__name__)

PROVIDER_BACKENDS = {
    "CUDAExecutionProvider": "onnxruntime-cuda",
    "CPUExecutionProvider": "onnxruntime-cpu",
    "OpenVINOExecutionProvider": "onnxruntime-openvino",
}


def providers_for(backend: str) -> list[str]:
    """Return the ONNX Runtime providers to ask for, best first, always ending with CPU."""
    if backend == "onnxruntime-cuda":
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def real_backend(providers: list[str]) -> str:
    """Return the backend a session really got (ONNX Runtime falls back to CPU without raising)."""
    return PROVIDER_BACKENDS.get(providers[0], providers[0]) if providers else "onnxruntime-cpu"


def _session(path: Path, providers: list[str], custom_ops: str | None = None) -> Any:
    import onnxruntime as ort

    options = hardware.apply_ort_threads(ort.SessionOptions())
    if custom_ops:
        from gallery.runtime.custom_ops import library_path

        options.register_custom_ops_library(library_path(custom_ops))
    return ort.InferenceSession(str(path), options, providers=providers)


def onnx_model(path: Path, backend: str, max_concurrency: int, custom_ops: str | None = None) -> OnnxModel:
    """Return an ONNX file as an OnnxModel on ONNX Runtime, or on OpenVINO (which reads ONNX files itself).

    `custom_ops` names the operator library the graph needs (task_options.OnnxFileOptions.custom_ops).
    """
    from gallery.runtime import openvino

    if backend == openvino.BACKEND:
        if custom_ops:
            # The registry never plans OpenVINO for such a model (registry.backend_for); say so if a caller does.
            raise ValueError(f"{path.name} needs the custom operators of {custom_ops}, which OpenVINO cannot run")
        return OnnxModel(openvino.OpenVINOSession(path), path=path, max_concurrency=max_concurrency,
                         backend=openvino.BACKEND)
    session = _session(path, providers_for(backend), custom_ops)
    return OnnxModel(session, path=path, max_concurrency=max_concurrency,
                     backend=real_backend(session.get_providers()))


class TaskHandler:
    """Base handler: the facts of one task's export, its serve-time engine, its baseline and its int8 check.

    The export itself runs in the exporter environment (gallery.runtime.exporter): a handler says what to ask
    for (Optimum class, decoder merging, extra files) and loads the result without Optimum or torch.
    """

    builds_itself = False  # exported through Optimum by the Builder (see build.BuildingHandler for the others)
    ort_class: str = ""
    auto_quantize = True  # whether `quantize: auto` tries int8 on CPU
    export_layout = 1  # bump when the export starts writing different files: it is part of the cache key
    int8_recipe = q.RECIPE  # names the int8 recipe in the cache folder of the int8 variant
    merge_decoders = False  # seq2seq: one decoder graph holding the weights once (ONNX Runtime only)
    export_extras: tuple[str, ...] = ("fast_tokenizer",)  # post-export steps (exporter.steps.EXTRAS)

    def __init__(self, task: str) -> None:
        self.task = task

    def missing(self, spec: ModelSpec) -> str | None:
        """Return what this machine lacks to run the spec besides its source (None: nothing)."""
        return None

    def openvino_refusal(self, spec: ModelSpec) -> str | None:
        """Return why the spec cannot run on OpenVINO (None: it can)."""
        return None

    def int8_job(self, config_name: str) -> dict[str, Any]:
        """Return the exporter job that writes the int8 variant (dynamic int8 MatMuls, config matched to the CPU)."""
        return {"op": "quantize-dynamic", "config": config_name}

    def load(self, folder: Path, spec: ModelSpec, backend: str, variant: str, meta: dict[str, Any]) -> Guarded:
        """Load an exported ONNX folder on ONNX Runtime into the task's engine."""
        providers = providers_for(backend)
        engine = self.engine(folder, lambda path: _session(path, providers), spec)
        return TaskModel(engine, task=self.task, max_concurrency=spec.max_concurrency,
                         backend=real_backend(engine.providers), variant=variant)

    def load_openvino(self, folder: Path, spec: ModelSpec, meta: dict[str, Any], variant: str = "fp32") -> Guarded:
        """Load an OpenVINO IR folder into the same engine as on ONNX Runtime."""
        from gallery.runtime import openvino

        engine = self.engine(folder, lambda path: openvino.OpenVINOSession(path.with_suffix(".xml")), spec)
        return TaskModel(engine, task=self.task, max_concurrency=openvino.MODEL_CONCURRENCY,
                         backend=openvino.BACKEND, variant=variant)

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the task's torch-free engine over an export folder, opening graphs with `session(path)`."""
        raise NotImplementedError(f"{self.task} has no serving engine")

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the plain transformers pipeline (PyTorch eager, fp32): the baseline."""
        from transformers import pipeline

        pipe = pipeline(self.task, model=str(src), device="cpu")
        return PipelineModel(lambda: pipeline(self.task, model=pipe.model, tokenizer=_tokenizer(src),
                                              **_processor_kwargs(src, self.task)),
                             model=pipe.model, max_concurrency=spec.max_concurrency, backend="torch-cpu",
                             variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare the int8 model with fp32 on the calibration inputs."""
        raise NotImplementedError


def _tokenizer(folder: Path) -> Any:
    """Return a fresh transformers tokenizer for one baseline pipeline copy (None for models without one)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError):
        return None


def _processor_kwargs(folder: Path, task: str) -> dict[str, Any]:
    if task != "image-classification":
        return {}
    from transformers import AutoImageProcessor

    return {"image_processor": AutoImageProcessor.from_pretrained(str(folder))}


class EmbeddingHandler(TaskHandler):
    """feature-extraction: ONNX Runtime session + `tokenizers` at run time (no torch, no optimum import)."""

    ort_class = "ORTModelForFeatureExtraction"
    export_extras = ("fast_tokenizer", "sentence_max_length")

    def load_openvino(self, folder: Path, spec: ModelSpec, meta: dict[str, Any], variant: str = "fp32") -> Guarded:
        """Compile model.xml with OpenVINO; tokenize with `tokenizers` (no torch, as on ONNX Runtime)."""
        from gallery.runtime.openvino import BACKEND, OpenVINOSession

        session = OpenVINOSession(folder / "model.xml")
        return self._embedder(session, folder, spec, meta, BACKEND, variant)

    def _embedder(self, session: Any, folder: Path, spec: ModelSpec, meta: dict[str, Any], backend: str,
                  variant: str) -> TextEmbedder:
        """Wrap a session (ONNX Runtime or OpenVINO) and the folder's tokenizer.json as a TextEmbedder."""
        from tokenizers import Tokenizer

        return TextEmbedder(session, Tokenizer.from_file(str(folder / "tokenizer.json")),
                            batch=spec.typed_options().batch, batch_wait_ms=spec.typed_options().batch_wait_ms,
                            backend=backend, variant=variant, **self._options(spec, int(meta.get("max_length", 256))))

    def _options(self, spec: ModelSpec, default_max: int) -> dict[str, Any]:
        opts = spec.typed_options()  # EmbeddingOptions
        return {
            "pooling": opts.pooling,
            "normalize": opts.normalize,
            "max_length": opts.max_length or default_max,
            "batch_size": opts.batch_size,
            "max_concurrency": spec.max_concurrency,
        }

    def load(self, folder: Path, spec: ModelSpec, backend: str, variant: str, meta: dict[str, Any]) -> Guarded:
        """Load model.onnx with onnxruntime and tokenizer.json with `tokenizers`."""
        session = _session(folder / "model.onnx", providers_for(backend))
        return self._embedder(session, folder, spec, meta, real_backend(session.get_providers()), variant)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load AutoModel + AutoTokenizer with the same pooling (the baseline)."""
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(str(src)).eval()
        from gallery.runtime.exporter.steps import sentence_max_length

        opts = self._options(spec, sentence_max_length(src))
        opts.pop("max_concurrency")
        return TorchTextEmbedder(model, AutoTokenizer.from_pretrained(str(src)), max_concurrency=spec.max_concurrency,
                                 **opts)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Cosine of int8 vs fp32 embeddings on every calibration text."""
        return q.embedding_check(fp32.embed(calibration), int8.embed(calibration))


class LogitsHandler(TaskHandler):
    """text-/token-classification and question-answering: arg-max of the raw logits must not move under int8."""

    ENGINES = {"text-classification": ("ORTModelForSequenceClassification", "TextClassifier"),
               "token-classification": ("ORTModelForTokenClassification", "TokenClassifier"),
               "question-answering": ("ORTModelForQuestionAnswering", "QuestionAnswerer")}

    def __init__(self, task: str) -> None:
        super().__init__(task)
        self.ort_class, self.engine_class = self.ENGINES[task]

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the text engine of the task (text_engines), which answers like the transformers pipeline."""
        from gallery.runtime import text_engines

        return getattr(text_engines, self.engine_class)(folder, session)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the baseline: the transformers pipeline, or (question answering, which transformers 5 dropped)
        the PyTorch model under the engine's own pre- and post-processing."""
        if self.task != "question-answering":
            return super().load_torch(src, spec)
        from gallery.runtime.torch_baselines import question_answerer

        return TaskModel(question_answerer(src), task=self.task, max_concurrency=spec.max_concurrency,
                         backend="torch-cpu", variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max per example (or per token / per span position) on the calibration texts."""
        ref, cand = [], []
        for text in calibration:
            a, b = fp32.logits(text), int8.logits(text)  # question answering: the text as question and context
            ref += [np.asarray(a[k]) for k in sorted(a)]
            cand += [np.asarray(b[k]) for k in sorted(a)]
        return q.top1_check(ref, cand)


class Seq2SeqHandler(TaskHandler):
    """text2text-generation / translation / summarization: greedy output tokens unchanged (or WER <= 1 point)."""

    ort_class = "ORTModelForSeq2SeqLM"
    merge_decoders = True  # one decoder graph holding the weights once (OpenVINO keeps the two: SplitDecoder)

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the greedy encoder-decoder engine (seq2seq_onnx) for this task's output key and prefix."""
        from gallery.runtime.seq2seq_onnx import OnnxSeq2Seq

        return OnnxSeq2Seq(folder, session, self.task)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the baseline: transformers' greedy `generate` in PyTorch (transformers 5 has no such pipeline)."""
        from gallery.runtime.torch_baselines import TorchSeq2Seq

        return TaskModel(TorchSeq2Seq(src, self.task), task=self.task, max_concurrency=spec.max_concurrency,
                         backend="torch-cpu", variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy generations token by token."""
        ref = [fp32.generate_ids(text, max_new_tokens=32) for text in calibration]
        cand = [int8.generate_ids(text, max_new_tokens=32) for text in calibration]
        return q.sequence_check(ref, cand)


class ImageHandler(TaskHandler):
    """image-classification: top-1 class unchanged on the demo's example images."""

    ort_class = "ORTModelForImageClassification"
    auto_quantize = False  # convolutional backbones gain little from dynamic int8; ask with `dynamic-int8`
    export_extras = ()  # an image model has no tokenizer; its preprocessor_config.json comes with the export

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the image classifier engine (image_engine): PIL preprocessing as the model's processor does."""
        from gallery.runtime.image_engine import ImageClassifier

        return ImageClassifier(folder, session)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max class per image."""
        ref = [np.asarray(fp32.image_logits(path)) for path in calibration]
        cand = [np.asarray(int8.image_logits(path)) for path in calibration]
        return q.top1_check(ref, cand)


def handler_for(task: str) -> TaskHandler:
    """Return the handler of a task, from the task table (its module is imported here, on first use)."""
    from gallery.runtime.task_table import TASKS

    try:
        module, _, name = TASKS[task].handler.partition(":")
    except KeyError:
        raise KeyError(f"task {task!r} is not in the task table (known: {', '.join(sorted(TASKS))})") from None
    handler: Any = getattr(importlib.import_module(module), name)(task)
    return handler
