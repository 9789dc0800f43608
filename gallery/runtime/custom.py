"""The `custom` task: a model object made by the spec's factory from the source path and the spec's options."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from gallery.runtime import sources
from gallery.runtime.build import Builder, Built, BuildingHandler, Progress
from gallery.runtime.models import CustomModel
from gallery.runtime.spec import ModelSpec

if TYPE_CHECKING:
    from gallery.runtime.backends import RuntimeBackend


class CustomHandler(BuildingHandler):
    """Call `factory(path, options)`; the object it returns runs as it is, whatever the backend."""

    backend_note = "chosen by the demo's factory"  # what `gallery doctor` says before a load

    def build(self, builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
              progress: Progress | None = None) -> Built:
        """Locate the source and build the factory's object (the backend is the object's own business)."""
        path = sources.locate(spec, demo_dir)
        assert spec.factory is not None
        module, _, name = spec.factory.partition(":")
        target = getattr(importlib.import_module(module), name)(path, dict(spec.options))
        obj = CustomModel(target, max_concurrency=spec.max_concurrency)
        return Built(obj, obj.backend, None)
