"""The `onnx` task: an ONNX file shipped in a package or folder, run as it is on the planned backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gallery.runtime import custom_ops, sources
from gallery.runtime.build import Builder, Built, BuildingHandler, Progress
from gallery.runtime.spec import ModelSpec

if TYPE_CHECKING:
    from gallery.runtime.backends import RuntimeBackend


class OnnxFileHandler(BuildingHandler):
    """Open `options.file` of the source folder (or the source file) as an OnnxModel."""

    def missing(self, spec: ModelSpec) -> str | None:
        """Return why the graph's custom operator library cannot be used here (None: none needed, or installed)."""
        library = spec.typed_options().custom_ops
        return custom_ops.missing(library) if library else None

    def openvino_refusal(self, spec: ModelSpec) -> str | None:
        """Refuse OpenVINO for graphs with custom operators: it cannot convert them (ONNX Runtime's own ops)."""
        library = spec.typed_options().custom_ops
        return f"the graph needs the custom operators of {library}, which OpenVINO cannot run" if library else None

    def build(self, builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
              progress: Progress | None = None) -> Built:
        """Open the file on the backend; a shipped file has no PyTorch form, so torch runs it on ONNX Runtime."""
        path = sources.locate(spec, demo_dir)
        options = spec.typed_options()
        if path.is_dir():
            path = path / options.file
        if not path.is_file():
            raise sources.SourceUnavailable(f"no ONNX file at {path}")
        obj = backend.open_onnx(path, spec.max_concurrency, options.custom_ops)
        return Built(obj, obj.backend, "fp32")
