"""Backends as objects: how a task's export is made, quantized and loaded on ONNX Runtime, OpenVINO or PyTorch.

Handlers (tasks.py, asr.py) hold the facts of a task: its Optimum class, its engine over a folder of graphs, its
int8 check. A backend holds the facts of a runtime: which exporter job writes its graphs, which int8 recipe it
uses and how its sessions open. The build steps (build.py) ask the backend, never compare backend names. The
exporter environment (gallery.runtime.exporter) runs the jobs a backend asks for.
Adding a backend is one class here and one line in BACKENDS (plus its name in hardware.BACKEND_CHOICES and
spec.Backend when manifests may ask for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gallery.runtime import quantize as q
from gallery.runtime.hardware import detect

if TYPE_CHECKING:
    from gallery.runtime.models import Guarded, OnnxModel
    from gallery.runtime.spec import ModelSpec
    from gallery.runtime.tasks import TaskHandler


@dataclass(frozen=True)
class Sessions:
    """How a backend opens a handler's graphs; a handler builds its engine with this and knows no backend."""

    open: Callable[[Path], Any]  # a graph's `.onnx` path -> a session with ONNX Runtime's methods
    label: Callable[[list[str]], str]  # the backend a session really runs on, from its provider list
    max_concurrency: int | None = None  # the backend's cap on calls at once (None: the spec's)

    def concurrency(self, spec: ModelSpec) -> int:
        """Return how many calls may use the model at once on this backend."""
        return min(spec.max_concurrency, self.max_concurrency or spec.max_concurrency)


class RuntimeBackend:
    """One runtime that serves exported models: what to export for it, how to quantize, how to load."""

    name = ""
    exports = True  # False: it runs the source model itself (PyTorch), nothing is exported
    int8 = False  # whether int8 variants are worth trying on it

    def export_area(self, handler: TaskHandler) -> str:
        """Return the cache folder of this backend's exports of the handler's class of models."""
        return handler.ort_class

    def export_job(self, handler: TaskHandler, dst: Path) -> dict[str, Any]:
        """Return the exporter job that writes the fp32 graphs under `dst`."""
        raise NotImplementedError(f"{self.name} exports nothing")

    def int8_plan(self, handler: TaskHandler) -> tuple[str, str]:
        """Return the (config, recipe) naming the int8 variant."""
        raise NotImplementedError(f"{self.name} has no int8 variant")

    def int8_job(self, handler: TaskHandler, config: str, fp32_entry: Path, dst: Path) -> dict[str, Any]:
        """Return the exporter job that writes the int8 variant of an fp32 export under `dst`."""
        raise NotImplementedError(f"{self.name} has no int8 variant")

    folder = ""  # where its graphs are inside an export entry

    def sessions(self, handler: TaskHandler) -> Sessions:
        """Return how this backend opens the handler's graphs."""
        raise NotImplementedError(f"{self.name} opens no exported graph")

    def load(self, handler: TaskHandler, entry: Path, spec: ModelSpec, meta: dict[str, Any],
             variant: str) -> Guarded:
        """Load one variant of an export into the handler's engine."""
        return handler.serve(entry / self.folder, self.sessions(handler), spec, meta, variant)

    def load_source(self, handler: TaskHandler, src: Path, spec: ModelSpec) -> Guarded:
        """Load the source model as it is (backends that do not export)."""
        raise NotImplementedError(f"{self.name} runs exports only")

    def open_onnx(self, path: Path, max_concurrency: int, custom_ops: str | None = None) -> OnnxModel:
        """Return one shipped or exported ONNX file as an OnnxModel on this backend (`custom_ops`: its op library)."""
        from gallery.runtime.tasks import onnx_model

        return onnx_model(path, "onnxruntime-cpu", max_concurrency, custom_ops)


class OnnxRuntimeBackend(RuntimeBackend):
    """ONNX Runtime: Optimum's ONNX export in `onnx/`; int8 by the CPU's own quantization config."""

    folder = "onnx"

    def __init__(self, name: str) -> None:
        self.name = name
        self.int8 = name == "onnxruntime-cpu"  # int8 kernels pay on CPU; a GPU runs fp32

    def sessions(self, handler: TaskHandler) -> Sessions:
        """Open graphs with this backend's providers and the gallery's thread settings."""
        from gallery.runtime.tasks import ort_session, providers_for, real_backend

        providers = providers_for(self.name)
        return Sessions(lambda path: ort_session(path, providers, sleeping_threads=handler.sleeping_threads),
                        real_backend)

    def export_job(self, handler: TaskHandler, dst: Path) -> dict[str, Any]:
        """Export with Optimum into `dst/onnx` (decoders merged where the task asks)."""
        return {"op": "export", "dst": dst / "onnx", "merge": handler.merge_decoders}

    def int8_plan(self, handler: TaskHandler) -> tuple[str, str]:
        """Name the variant by this CPU's quantization config and the task's recipe."""
        return detect().quantization_config, handler.int8_recipe

    def int8_job(self, handler: TaskHandler, config: str, fp32_entry: Path, dst: Path) -> dict[str, Any]:
        """Quantize the task's graphs as its handler says (dynamic int8, or blockwise for Whisper's decoder)."""
        return {**handler.int8_job(config), "src": fp32_entry / "onnx", "dst": dst / "onnx"}

    def open_onnx(self, path: Path, max_concurrency: int, custom_ops: str | None = None) -> OnnxModel:
        """Open an ONNX file with this backend's execution providers."""
        from gallery.runtime.tasks import onnx_model

        return onnx_model(path, self.name, max_concurrency, custom_ops)


class OpenVINOBackend(RuntimeBackend):
    """OpenVINO: the export converted to IR in `ov/`; int8 by NNCF weight compression."""

    int8 = True
    folder = "ov"

    def __init__(self) -> None:
        from gallery.runtime.openvino import BACKEND

        self.name = BACKEND

    def sessions(self, handler: TaskHandler) -> Sessions:
        """Compile the IR beside each graph's name; one call at a time (the LATENCY hint uses every core)."""
        from gallery.runtime import openvino

        return Sessions(lambda path: openvino.OpenVINOSession(Path(path).with_suffix(".xml")),
                        lambda providers: self.name, openvino.MODEL_CONCURRENCY)

    def export_area(self, handler: TaskHandler) -> str:
        """Keep IR exports apart from ONNX ones of the same class."""
        return f"{handler.ort_class}-openvino"

    def export_job(self, handler: TaskHandler, dst: Path) -> dict[str, Any]:
        """Export with Optimum Intel into `dst/ov`."""
        return {"op": "export-openvino", "dst": dst / "ov"}

    def int8_plan(self, handler: TaskHandler) -> tuple[str, str]:
        """Name the variant by OpenVINO's weight-compression recipe."""
        return "openvino", q.OPENVINO_RECIPE

    def int8_job(self, handler: TaskHandler, config: str, fp32_entry: Path, dst: Path) -> dict[str, Any]:
        """Compress the IR's weights to int8 with NNCF."""
        return {"op": "compress-openvino", "src": fp32_entry / "ov", "dst": dst / "ov"}

    def open_onnx(self, path: Path, max_concurrency: int, custom_ops: str | None = None) -> OnnxModel:
        """Compile an ONNX file with OpenVINO (it reads ONNX itself)."""
        from gallery.runtime.models import OnnxModel
        from gallery.runtime.openvino import OpenVINOSession

        if custom_ops:
            # The registry never plans OpenVINO for such a model (registry.backend_for); say so if a caller does.
            raise ValueError(f"{path.name} needs the custom operators of {custom_ops}, which OpenVINO cannot run")
        return OnnxModel(OpenVINOSession(path), path=path, max_concurrency=max_concurrency, backend=self.name)


class TorchBackend(RuntimeBackend):
    """PyTorch eager, fp32: the source model as transformers loads it, the baseline every benchmark compares to."""

    name = "torch"
    exports = False

    def load_source(self, handler: TaskHandler, src: Path, spec: ModelSpec) -> Guarded:
        """Load the handler's plain PyTorch form of the source."""
        return handler.load_torch(src, spec)


BACKENDS: dict[str, RuntimeBackend] = {
    "onnxruntime-cpu": OnnxRuntimeBackend("onnxruntime-cpu"),
    "onnxruntime-cuda": OnnxRuntimeBackend("onnxruntime-cuda"),
    "openvino-cpu": OpenVINOBackend(),
    "torch": TorchBackend(),
}


def backend_named(name: str) -> RuntimeBackend:
    """Return the backend object a planned backend name means (`registry.backend_for` plans the name)."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})") from None
