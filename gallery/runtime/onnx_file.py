"""The `onnx` task: an ONNX file shipped in a package or folder, run as it is on the planned backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gallery.runtime import sources
from gallery.runtime.build import Builder, Built, BuildingHandler, Progress
from gallery.runtime.spec import ModelSpec

if TYPE_CHECKING:
    from gallery.runtime.backends import RuntimeBackend


class OnnxFileHandler(BuildingHandler):
    """Open `options.file` of the source folder (or the source file) as an OnnxModel."""

    def build(self, builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
              progress: Progress | None = None) -> Built:
        """Open the file on the backend; a shipped file has no PyTorch form, so torch runs it on ONNX Runtime."""
        path = sources.locate(spec, demo_dir)
        if path.is_dir():
            path = path / spec.typed_options().file
        if not path.is_file():
            raise sources.SourceUnavailable(f"no ONNX file at {path}")
        obj = backend.open_onnx(path, spec.max_concurrency)
        return Built(obj, obj.backend, "fp32")
