"""The base of the task handlers, and opening one ONNX file on a backend.

A handler holds the facts of one task: what the exporter is asked for, the engine built over the exported
graphs (with whatever sessions the backend opens: gallery.runtime.backends), the PyTorch baseline and the int8
check. One handler per file (embedding_task.py, logits_task.py, seq2seq_task.py, image_task.py, asr.py,
onnx_file.py, torchmodule.py, custom.py), each named in the task table (task_table.py).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable


from gallery.runtime import hardware
from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, OnnxModel, PipelineModel, TaskModel
from gallery.runtime.spec import ModelSpec

if TYPE_CHECKING:
    from gallery.runtime.backends import Sessions

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


def ort_session(path: Path, providers: list[str], custom_ops: str | None = None, sleeping_threads: bool = False) -> Any:
    """Open one graph with ONNX Runtime: the gallery's thread settings, and a custom-op library where named."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if sleeping_threads:
        # Short runs between numpy work (a decoding loop): spinning threads would starve that work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options = hardware.apply_ort_threads(options)
    if custom_ops:
        from gallery.runtime.custom_ops import library_path

        options.register_custom_ops_library(library_path(custom_ops))
    return ort.InferenceSession(str(path), options, providers=providers)


def onnx_model(path: Path, backend: str, max_concurrency: int, custom_ops: str | None = None) -> OnnxModel:
    """Return an ONNX file as an OnnxModel on ONNX Runtime with the providers of `backend` (CPU or CUDA).

    `custom_ops` names the operator library the graph needs (task_options.OnnxFileOptions.custom_ops).
    Other runtimes open ONNX files in their own backend object (backends.OpenVINOBackend.open_onnx).
    """
    session = ort_session(path, providers_for(backend), custom_ops)
    return OnnxModel(session, path=path, max_concurrency=max_concurrency,
                     backend=real_backend(session.get_providers()))


class Handler:
    """What the registry asks of every task's handler, whether Optimum exports its model or it builds it itself."""

    builds_itself = False  # exported through Optimum by the Builder (see build.BuildingHandler for the others)

    def __init__(self, task: str) -> None:
        self.task = task

    def missing(self, spec: ModelSpec) -> str | None:
        """Return what this machine lacks to run the spec besides its source (None: nothing)."""
        return None

    def openvino_refusal(self, spec: ModelSpec) -> str | None:
        """Return why the spec cannot run on OpenVINO (None: it can)."""
        return None


class TaskHandler(Handler):
    """Base handler: the facts of one task's export, its serve-time engine, its baseline and its int8 check.

    The export itself runs in the exporter environment (gallery.runtime.exporter): a handler says what to ask
    for (Optimum class, decoder merging, extra files) and loads the result without Optimum or torch.
    """

    sleeping_threads = False  # whether its runs alternate with numpy work, so runtime threads should not spin
    ort_class: str = ""
    auto_quantize = True  # whether `quantize: auto` tries int8 on CPU
    export_layout = 1  # bump when the export starts writing different files: it is part of the cache key
    int8_recipe = q.RECIPE  # names the int8 recipe in the cache folder of the int8 variant
    merge_decoders = False  # seq2seq: one decoder graph holding the weights once (ONNX Runtime only)
    export_extras: tuple[str, ...] = ("fast_tokenizer",)  # post-export steps (exporter.steps.EXTRAS)

    def int8_job(self, config_name: str) -> dict[str, Any]:
        """Return the exporter job that writes the int8 variant (dynamic int8 MatMuls, config matched to the CPU)."""
        return {"op": "quantize-dynamic", "config": config_name}

    def serve(self, folder: Path, sessions: Sessions, spec: ModelSpec, meta: dict[str, Any],
              variant: str) -> Guarded:
        """Build the task's engine over an exported folder with the backend's sessions."""
        engine = self.engine(folder, sessions.open, spec)
        return TaskModel(engine, task=self.task, max_concurrency=sessions.concurrency(spec),
                         backend=sessions.label(engine.providers), variant=variant)

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


def handler_for(task: str) -> TaskHandler:
    """Return the handler of a task, from the task table (its module is imported here, on first use)."""
    from gallery.runtime.task_table import TASKS

    try:
        module, _, name = TASKS[task].handler.partition(":")
    except KeyError:
        raise KeyError(f"task {task!r} is not in the task table (known: {', '.join(sorted(TASKS))})") from None
    handler: Any = getattr(importlib.import_module(module), name)(task)
    return handler
