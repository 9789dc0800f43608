"""The gallery's one path from raw inputs to a demo's JSON result, shared by the UI and both APIs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Iterator

from gallery.admission import Admission
from gallery.context import DemoContext
from gallery.discovery import DemoEntry, DemoIndex, discover
from gallery.engine import Engine, LocalEngine
from gallery.errors import DemoNotFound, DemoUnavailable
from gallery.inputs import coerce_inputs
from gallery.iotypes import FILE_TYPES
from gallery.limits import LIMITS, Limits
from gallery.loader import DemoCode, import_demo
from gallery.logconfig import log_inputs_enabled, preview
from gallery.runtime.registry import ModelRegistry
from gallery.usage import UsageLog

if TYPE_CHECKING:
    from gallery.manifest import Manifest
    from gallery.feedback.store import FeedbackStore
    from gallery.metrics import GalleryMetrics
    from gallery.snippets import Endpoints

logger = logging.getLogger(__name__)

@dataclass
class DemoStatus:
    """What a card shows about a demo: can it run, is its model loaded, on which backend."""

    state: str  # ready | loads on first use | loading | unavailable
    reason: str | None = None
    backend: str | None = None
    variant: str | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)


class GalleryService:
    """Own the demo index, each demo's code and context, and the shared model registry."""

    def __init__(self, index: DemoIndex, registry: ModelRegistry, cache_dir: Path, limits: Limits = LIMITS) -> None:
        self.index = index
        self.registry = registry
        self.cache_dir = cache_dir
        self.limits = limits
        self.code: dict[str, DemoCode] = {}
        self.contexts: dict[str, DemoContext] = {}
        self.feedback: FeedbackStore | None = None  # set by the server; the UI shows a rating control when set
        self.endpoints: Endpoints | None = None  # set by the server: the address its "Use via API" snippets show
        self.admission = Admission()  # per-demo queues; the server replaces it with one sized by its options
        self.metrics: GalleryMetrics | None = None  # set by the server unless --no-metrics
        self.usage = UsageLog()  # requests and run times since start, for Home's cards and /api/demos
        # Where predict runs: here, unless the server hands over another engine (--engine ray).
        self.engine: Engine = LocalEngine(self.code, self.contexts)
        for entry in index.entries:
            if entry.manifest is not None and entry.error is None and not entry.manifest.disabled:
                self._load_code(entry)

    @classmethod
    def open(cls, demos_dir: Path, cache_dir: Path, select: Sequence[str] | None = None, *,
             memory_budget: int | None = None, force_backend: str | None = None,
             limits: Limits = LIMITS) -> GalleryService:
        """Index the demos (all, or the selected ids and sectors), import their code; load no model yet.

        The one way to open a service: server, CLI, MCP over stdio, benchmarks and tests all come through here."""
        registry = ModelRegistry(cache_dir=cache_dir, memory_budget_bytes=memory_budget, force_backend=force_backend)
        return cls(discover(Path(demos_dir), list(select) if select else None), registry, Path(cache_dir), limits)

    def _load_code(self, entry: DemoEntry) -> None:
        assert entry.manifest is not None
        try:
            code = import_demo(entry)
        # Any exception from a contributed demo's import must stay inside that demo's boundary.
        except Exception as exc:  # noqa: BLE001
            entry.fail("import", f"{type(exc).__name__}: {exc}")
            return
        self.code[entry.id] = code
        self.contexts[entry.id] = DemoContext(entry.manifest, entry.path, self.registry, self.cache_dir)

    def fail(self, demo_id: str, stage: str, error: str) -> None:
        """Take a demo out of service after a failure at `stage` (it then shows as unavailable)."""
        self.entry(demo_id).fail(stage, error)
        self.code.pop(demo_id, None)
        self.contexts.pop(demo_id, None)

    def entry(self, demo_id: str) -> DemoEntry:
        """Return the entry for demo_id or raise DemoNotFound."""
        entry = self.index.get(demo_id)
        if entry is None:
            raise DemoNotFound(demo_id)
        return entry

    def runnable(self, demo_id: str) -> Manifest:
        """Return the manifest of a demo that can run now; raise DemoNotFound or DemoUnavailable with the reason."""
        entry = self.entry(demo_id)
        if entry.manifest is None or demo_id not in self.code:
            raise DemoUnavailable(f"demo {demo_id} is unavailable: {self.status(demo_id).reason}")
        return entry.manifest

    def status(self, demo_id: str) -> DemoStatus:
        """Return the card status of a demo without loading anything."""
        entry = self.entry(demo_id)
        if entry.manifest is None or entry.error is not None:
            return DemoStatus("unavailable", f"{entry.stage}: {entry.error}")
        if entry.manifest.disabled:
            return DemoStatus("unavailable", f"disabled: {entry.manifest.disabled}")
        states, models = [], {}
        backend = variant = None
        for name, spec in entry.manifest.models.items():
            st = self.registry.status(demo_id, name, spec, entry.path)
            models[name] = {
                "state": st.state,
                "reason": st.reason,
                "backend": st.backend,
                "variant": st.variant,
                "quant_check": st.quant_check,
                "load_seconds": st.load_seconds,
            }
            states.append(st.state)
            backend = backend or st.backend
            variant = variant or st.variant
            if st.state == "unavailable":
                return DemoStatus("unavailable", f"model {name}: {st.reason}", backend, variant, models)
            if st.state == "not-loaded":
                ok, reason = self.registry.availability(spec, entry.path)
                if not ok:
                    return DemoStatus("unavailable", f"model {name}: {reason}", backend, variant, models)
        if not states or all(s == "ready" for s in states):
            return DemoStatus("ready", None, backend, variant, models)
        if "loading" in states:
            return DemoStatus("loading", None, backend, variant, models)
        return DemoStatus("loads on first use", None, backend, variant, models)

    def needs_load(self, demo_id: str) -> bool:
        """Return whether running the demo now would first load a model."""
        entry = self.entry(demo_id)
        if entry.manifest is None:
            return False
        return any(
            self.registry.status(demo_id, name, spec, entry.path).state != "ready"
            for name, spec in entry.manifest.models.items()
        )

    def decode(self, demo_id: str, raw: dict[str, Any], allow_paths: bool = False) -> dict[str, Any]:
        """Validate raw inputs for a demo (raises InputError)."""
        entry = self.entry(demo_id)
        if demo_id not in self.code:
            raise DemoUnavailable(self.status(demo_id).reason or "unavailable")
        assert entry.manifest is not None
        if log_inputs_enabled():  # the operator asked for request content in the logs
            logger.info("demo %s: inputs %s", demo_id, preview(raw))
        return coerce_inputs(entry.manifest, raw, self.limits, allow_paths=allow_paths)

    def predict(self, demo_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run a demo's predict on decoded inputs and return its JSON-safe result."""
        code = self.code.get(demo_id)
        if code is None:
            raise DemoUnavailable(self.status(demo_id).reason or "unavailable")
        # Every front end passes here: wait for one of the demo's slots, or be refused at once (Busy).
        with self.admission.slot(demo_id, self.engine.concurrency(self.entry(demo_id).manifest)):
            return self.engine.predict(demo_id, inputs)  # its failure boundary: gallery.engine.run_predict

    def streams(self, demo_id: str) -> bool:
        """Return whether the demo yields growing results (a `stream` in its code, and an engine that relays it)."""
        code = self.code.get(demo_id)
        return code is not None and code.stream is not None and hasattr(self.engine, "stream")

    def stream(self, demo_id: str, inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield a demo's growing results on decoded inputs (one result for a demo or engine that does not stream)."""
        if not self.streams(demo_id):
            yield self.predict(demo_id, inputs)
            return
        # The same admission as predict: the slot is held until the last result.
        with self.admission.slot(demo_id, self.engine.concurrency(self.entry(demo_id).manifest)):
            yield from self.engine.stream(demo_id, inputs)  # type: ignore[attr-defined]

    def run(self, demo_id: str, raw: dict[str, Any], allow_paths: bool = False) -> dict[str, Any]:
        """Validate raw inputs and run the demo: the single path behind UI, Gradio API and JSON API."""
        if demo_id in self.code:  # a call that would be refused is refused before its inputs are decoded
            self.admission.check(demo_id, self.engine.concurrency(self.entry(demo_id).manifest))
        return self.predict(demo_id, self.decode(demo_id, raw, allow_paths))

    def example_inputs(self, demo_id: str, index: int = 0) -> dict[str, Any]:
        """Return a manifest example with file inputs resolved to absolute paths in the demo folder."""
        entry = self.entry(demo_id)
        assert entry.manifest is not None
        example = dict(entry.manifest.examples[index])
        for spec in entry.manifest.inputs:
            if spec.type in FILE_TYPES and isinstance(example.get(spec.name), str):
                example[spec.name] = str((entry.path / example[spec.name]).resolve())
        return example
