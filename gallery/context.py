"""What a demo's `predict` receives: its folder, its manifest and lazy access to its models."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from gallery.manifest import Manifest

if TYPE_CHECKING:
    from gallery.runtime.registry import ModelRegistry

logger = logging.getLogger(__name__)
T = TypeVar("T")


class DemoContext:
    """Per-demo handle on models and derived resources, safe to share between threads."""

    def __init__(self, manifest: Manifest, path: Path, registry: "ModelRegistry", cache_dir: Path) -> None:
        self.manifest = manifest
        self.path = path
        self.registry = registry
        self.cache_dir = cache_dir
        self._resources: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    @property
    def id(self) -> str:
        """Return the demo id (`<sector>/<slug>`)."""
        return self.manifest.id

    def model(self, name: str) -> Any:
        """Return the demo's loaded model `name`, loading it on first use."""
        if name not in self.manifest.models:
            raise KeyError(f"{self.id}: no model named {name!r} in demo.yaml")
        return self.registry.get(self.id, name, self.manifest.models[name], self.path)

    def resource(self, key: str, factory: Callable[[], T]) -> T:
        """Return a value derived once per demo (an index, a trained head), building it on first use."""
        if key in self._resources:
            return self._resources[key]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._resources:
                logger.info("%s: building resource %r", self.id, key)
                self._resources[key] = factory()
        return self._resources[key]

    def demo_cache_dir(self) -> Path:
        """Return (and create) this demo's own folder in the cache."""
        folder = self.cache_dir / "demos" / self.manifest.sector / self.manifest.slug
        folder.mkdir(parents=True, exist_ok=True)
        return folder
