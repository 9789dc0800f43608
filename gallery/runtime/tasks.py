"""Per-task export, load and int8 check: how each kind of model becomes an ONNX folder and a loaded object."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, OnnxModel, PipelineModel, TextEmbedder, TorchTextEmbedder
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


def onnx_opset(folder: Path) -> int | None:
    """Return the default-domain opset of the first ONNX file in a folder."""
    import onnx

    files = sorted(folder.glob("*.onnx"))
    if not files:
        return None
    model = onnx.load(str(files[0]), load_external_data=False)
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def _session(path: Path, providers: list[str]) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=providers)


def onnx_model(path: Path, backend: str, max_concurrency: int) -> OnnxModel:
    """Return an ONNX file as an OnnxModel on ONNX Runtime, or on OpenVINO (which reads ONNX files itself)."""
    from gallery.runtime import openvino

    if backend == openvino.BACKEND:
        return OnnxModel(openvino.OpenVINOSession(path), path=path, max_concurrency=max_concurrency,
                         backend=openvino.BACKEND)
    session = _session(path, providers_for(backend))
    return OnnxModel(session, path=path, max_concurrency=max_concurrency,
                     backend=real_backend(session.get_providers()))


class TaskHandler:
    """Base handler: subclasses export a source folder to ONNX, load it, and compare fp32 with int8."""

    ort_class: str = ""
    auto_quantize = True  # whether `quantize: auto` tries int8 on CPU
    export_layout = 1  # bump when export() starts writing different files: it is part of the cache key
    int8_recipe = q.RECIPE  # names the int8 recipe in the cache folder of the int8 variant

    def __init__(self, task: str) -> None:
        self.task = task

    def export(self, src: Path, dst: Path, spec: ModelSpec) -> dict[str, Any]:
        """Export the model at `src` into `dst` with Optimum and save its preprocessors next to it."""
        import optimum.onnxruntime as ortm
        from optimum.utils.save_utils import maybe_save_preprocessors

        cls = getattr(ortm, self.ort_class)
        model = cls.from_pretrained(str(src), export=True)
        model.save_pretrained(str(dst))
        maybe_save_preprocessors(str(src), dst)
        return {"ort_class": self.ort_class, "opset": onnx_opset(dst)}

    def quantize(self, fp32_dir: Path, int8_dir: Path, config_name: str) -> list[str]:
        """Write the int8 variant of an exported folder (dynamic int8 MatMuls, config matched to the CPU)."""
        return q.quantize_folder(fp32_dir, int8_dir, config_name)

    def load(self, folder: Path, spec: ModelSpec, backend: str, variant: str, meta: dict[str, Any]) -> Guarded:
        """Load an exported folder with ONNX Runtime and wrap it as a transformers pipeline."""
        import optimum.onnxruntime as ortm
        from optimum.onnxruntime import pipeline

        cls = getattr(ortm, self.ort_class)
        model = cls.from_pretrained(str(folder), providers=providers_for(backend))
        return PipelineModel(lambda: pipeline(self.task, model=model, tokenizer=_tokenizer(folder),
                                              **_processor_kwargs(folder, self.task)),
                             model=model, max_concurrency=spec.max_concurrency,
                             backend=real_backend(model.providers), variant=variant)

    def export_openvino(self, src: Path, dst: Path, spec: ModelSpec) -> dict[str, Any]:
        """Export the model at `src` into `dst` as OpenVINO IR with optimum-intel."""
        from gallery.runtime import openvino

        openvino.export(self.ort_class, src, dst)
        return {"ov_class": openvino.ov_class_name(self.ort_class)}

    def load_openvino(self, folder: Path, spec: ModelSpec, meta: dict[str, Any], variant: str = "fp32") -> Guarded:
        """Load an OpenVINO IR folder with optimum-intel and wrap it as its pipeline."""
        from gallery.runtime import openvino

        model = openvino.load_model(self.ort_class, folder)
        return PipelineModel(lambda: openvino.pipeline(self.task, model, tokenizer=_tokenizer(folder),
                                                       **_processor_kwargs(folder, self.task)),
                             model=model, max_concurrency=openvino.MODEL_CONCURRENCY, backend=openvino.BACKEND,
                             variant=variant)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the plain transformers pipeline (PyTorch eager, fp32): the baseline."""
        from transformers import pipeline

        pipe = pipeline(self.task, model=str(src), framework="pt", device="cpu")
        return PipelineModel(lambda: pipeline(self.task, model=pipe.model, tokenizer=_tokenizer(src),
                                              **_processor_kwargs(src, self.task)),
                             model=pipe.model, max_concurrency=spec.max_concurrency, backend="torch-cpu",
                             variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare the int8 model with fp32 on the calibration inputs."""
        raise NotImplementedError


def _tokenizer(folder: Path) -> Any:
    """Return a fresh tokenizer for one pipeline copy (None for models without one)."""
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


def save_fast_tokenizer(src: Path, dst: Path) -> None:
    """Make sure `dst` holds tokenizer.json (the warm path reads only that), converting a slow tokenizer."""
    if not (dst / "tokenizer.json").exists():
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(str(src), use_fast=True).save_pretrained(str(dst))
    if not (dst / "tokenizer.json").exists():
        raise RuntimeError(f"{src}: no fast tokenizer (tokenizer.json) could be made for this model")


def _sentence_max_length(src: Path) -> int:
    """Return the sequence length the embedding model was trained for (sentence-transformers config first)."""
    for name in ("sentence_bert_config.json",):
        try:
            return int(json.loads((src / name).read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError):
            pass
    limits = []
    for name, key in (("tokenizer_config.json", "model_max_length"), ("config.json", "max_position_embeddings")):
        try:
            limits.append(int(json.loads((src / name).read_text())[key]))
        except (OSError, ValueError, KeyError, OverflowError):
            pass
    return min([v for v in limits if 0 < v < 100_000] or [512])


class EmbeddingHandler(TaskHandler):
    """feature-extraction: ONNX Runtime session + `tokenizers` at run time (no torch, no optimum import)."""

    ort_class = "ORTModelForFeatureExtraction"

    def export(self, src: Path, dst: Path, spec: ModelSpec) -> dict[str, Any]:
        """Export, then make sure a fast `tokenizer.json` is saved (the warm path reads only that)."""
        meta = super().export(src, dst, spec)
        save_fast_tokenizer(src, dst)
        meta["max_length"] = _sentence_max_length(src)
        return meta

    def export_openvino(self, src: Path, dst: Path, spec: ModelSpec) -> dict[str, Any]:
        """Export to OpenVINO IR; keep the fast tokenizer and the sequence length, as the ONNX export does."""
        meta = super().export_openvino(src, dst, spec)
        save_fast_tokenizer(src, dst)
        meta["max_length"] = _sentence_max_length(src)
        return meta

    def load_openvino(self, folder: Path, spec: ModelSpec, meta: dict[str, Any], variant: str = "fp32") -> Guarded:
        """Compile openvino_model.xml with OpenVINO; tokenize with `tokenizers` (no torch, as on ONNX Runtime)."""
        from gallery.runtime.openvino import BACKEND, OpenVINOSession

        session = OpenVINOSession(folder / "openvino_model.xml")
        return self._embedder(session, folder, spec, meta, BACKEND, variant)

    def _embedder(self, session: Any, folder: Path, spec: ModelSpec, meta: dict[str, Any], backend: str,
                  variant: str) -> TextEmbedder:
        """Wrap a session (ONNX Runtime or OpenVINO) and the folder's tokenizer.json as a TextEmbedder."""
        from tokenizers import Tokenizer

        return TextEmbedder(session, Tokenizer.from_file(str(folder / "tokenizer.json")),
                            batch=bool(spec.options.get("batch", False)),
                            batch_wait_ms=float(spec.options.get("batch_wait_ms", 2.0)),
                            backend=backend, variant=variant, **self._options(spec, int(meta.get("max_length", 256))))

    def _options(self, spec: ModelSpec, default_max: int) -> dict[str, Any]:
        opts = spec.options
        return {
            "pooling": str(opts.get("pooling", "mean")),
            "normalize": bool(opts.get("normalize", True)),
            "max_length": int(opts.get("max_length", default_max)),
            "batch_size": int(opts.get("batch_size", 32)),
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
        opts = self._options(spec, _sentence_max_length(src))
        opts.pop("max_concurrency")
        return TorchTextEmbedder(model, AutoTokenizer.from_pretrained(str(src)), max_concurrency=spec.max_concurrency,
                                 **opts)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Cosine of int8 vs fp32 embeddings on every calibration text."""
        return q.embedding_check(fp32.embed(calibration), int8.embed(calibration))


class LogitsHandler(TaskHandler):
    """text-/token-classification and question-answering: arg-max of the raw logits must not move."""

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max per example (or per token / per span position) on the calibration texts."""
        tok = fp32.tokenizer
        ref, cand = [], []
        for text in calibration:
            if self.task == "question-answering":
                enc = tok(text, text, truncation=True, return_tensors="pt")
            else:
                enc = tok(text, truncation=True, return_tensors="pt")
            a, b = fp32.model(**enc), int8.model(**enc)
            keys = ["start_logits", "end_logits"] if self.task == "question-answering" else ["logits"]
            ref += [np.asarray(a[k].detach()) for k in keys]
            cand += [np.asarray(b[k].detach()) for k in keys]
        return q.top1_check(ref, cand)


class Seq2SeqHandler(TaskHandler):
    """text2text-generation / translation / summarization: greedy output tokens unchanged (or WER <= 1 point)."""

    ort_class = "ORTModelForSeq2SeqLM"

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy generations token by token."""
        tok = fp32.tokenizer
        ref, cand = [], []
        for text in calibration:
            enc = tok(text, truncation=True, max_length=256, return_tensors="pt")
            kwargs = {"max_new_tokens": 32, "do_sample": False, "num_beams": 1}
            ref.append(fp32.model.generate(**enc, **kwargs)[0].tolist())
            cand.append(int8.model.generate(**enc, **kwargs)[0].tolist())
        return q.sequence_check(ref, cand)


class ImageHandler(TaskHandler):
    """image-classification: top-1 class unchanged on the demo's example images."""

    ort_class = "ORTModelForImageClassification"
    auto_quantize = False  # convolutional backbones gain little from dynamic int8; ask with `dynamic-int8`

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max class per image."""
        from PIL import Image

        ref, cand = [], []
        for path in calibration:
            pixels = fp32.processor(Image.open(path).convert("RGB"), return_tensors="pt")
            ref.append(np.asarray(fp32.model(**pixels).logits.detach()))
            cand.append(np.asarray(int8.model(**pixels).logits.detach()))
        return q.top1_check(ref, cand)


def handler_for(task: str) -> TaskHandler:
    """Return the handler of an exportable task."""
    if task == "feature-extraction":
        return EmbeddingHandler(task)
    if task in ("text-classification", "token-classification", "question-answering"):
        handler = LogitsHandler(task)
        handler.ort_class = {"text-classification": "ORTModelForSequenceClassification",
                             "token-classification": "ORTModelForTokenClassification",
                             "question-answering": "ORTModelForQuestionAnswering"}[task]
        return handler
    if task in ("text2text-generation", "translation", "summarization"):
        return Seq2SeqHandler(task)
    if task == "image-classification":
        return ImageHandler(task)
    if task == "automatic-speech-recognition":
        from gallery.runtime.asr import SpeechHandler

        return SpeechHandler(task)
    raise KeyError(f"task {task!r} is not exported through Optimum")

