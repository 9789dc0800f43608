"""torch-module specs: a demo's own PyTorch module, exported to ONNX by the runtime, verified and cached."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from gallery.runtime import cache
from gallery.runtime.build import Builder, Built, BuildingHandler, Progress, say
from gallery.runtime.models import TorchModuleModel
from gallery.runtime.spec import ModelSpec

if TYPE_CHECKING:
    from gallery.runtime.backends import RuntimeBackend

logger = logging.getLogger(__name__)

OPSET = 17


def _factory(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _code_hash(fn: Callable[..., Any]) -> str:
    """Return a hash of the factory's module source: editing the model code invalidates the export."""
    module = inspect.getmodule(fn)
    try:
        text = inspect.getsource(module) if module is not None else inspect.getsource(fn)
    except (OSError, TypeError):
        text = getattr(fn, "__qualname__", repr(fn))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _settings(spec: ModelSpec) -> dict[str, Any]:
    opts = spec.typed_options()  # TorchModuleOptions: input_shape is required there, checked with the manifest
    return {"input_shape": list(opts.input_shape), "input_name": opts.input_name, "output_name": opts.output_name,
            "dynamic_batch": opts.dynamic_batch, "atol": opts.atol}


def export_module(module: Any, settings: dict[str, Any], path: Path) -> float:
    """Export `module` to ONNX (TorchScript exporter, opset 17) and return the max abs diff vs torch."""
    import onnxruntime as ort
    import torch

    name_in, name_out = settings["input_name"], settings["output_name"]
    dummy = torch.randn(*settings["input_shape"], generator=torch.Generator().manual_seed(0))
    axes = {name_in: {0: "batch"}, name_out: {0: "batch"}} if settings["dynamic_batch"] else None
    with torch.inference_mode():
        torch.onnx.export(module, (dummy,), str(path), input_names=[name_in], output_names=[name_out],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    # Verify on a fresh random input (batch 2 when dynamic) rather than the tracing input.
    shape = list(settings["input_shape"])
    if settings["dynamic_batch"]:
        shape[0] = 2
    probe = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = module(probe)
    expected = expected[0] if isinstance(expected, (tuple, list)) else expected
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run([name_out], {name_in: probe.numpy()})[0]
    return float(np.max(np.abs(got - expected.numpy())))


class TorchModuleHandler(BuildingHandler):
    """The `torch-module` task: a demo's own PyTorch module, exported to ONNX by the serving process."""

    def build(self, builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
              progress: Progress | None = None) -> Built:
        """Return the module's export on `backend`, or the module itself where the backend runs PyTorch."""
        return build_torch_module(builder, spec, demo_dir, backend, demo_id, progress)


def build_torch_module(builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
                       progress: Progress | None = None) -> Built:
    """Return an OnnxModel for the spec's module (exporting on a cache miss), or the module itself on torch."""
    assert spec.factory is not None
    settings = _settings(spec)
    src, fingerprint = builder.source(spec, demo_dir, demo_id, progress=progress)
    factory = _factory(spec.factory)
    if not backend.exports:
        module = factory(src).eval()
        obj = TorchModuleModel(module, input_names=[settings["input_name"]], output_names=[settings["output_name"]],
                               max_concurrency=spec.max_concurrency)
        return Built(obj, obj.backend, "fp32")
    key = cache.cache_key({"source": fingerprint, "factory": spec.factory, "code": _code_hash(factory),
                           "settings": settings, "versions": cache.tool_versions(), "opset": OPSET})
    entry = builder.cache_dir / "exports" / "torch-module" / key

    def build(tmp: Path) -> dict[str, Any]:
        say(progress, demo_id, f"exporting {spec.factory} to ONNX (opset {OPSET}, one time, cached)")
        started = time.perf_counter()
        (tmp / "onnx").mkdir()
        diff = export_module(factory(src).eval(), settings, tmp / "onnx" / "model.onnx")
        if diff > settings["atol"]:
            raise RuntimeError(f"ONNX export of {spec.factory} differs from torch by {diff:.2e} "
                               f"(> atol {settings['atol']})")
        builder.counters["exports"] += 1
        return {"task": "torch-module", "source": fingerprint, "max_abs_diff": diff, "opset": OPSET,
                "export_seconds": round(time.perf_counter() - started, 2)}

    meta, _ = cache.build_once(entry, build)
    path = entry / "onnx" / "model.onnx"
    obj = backend.open_onnx(path, spec.max_concurrency)
    built = Built(obj, obj.backend, "fp32", None, entry)
    built.notes.append(f"export max abs diff vs torch {meta.get('max_abs_diff'):.2e}")
    return built
