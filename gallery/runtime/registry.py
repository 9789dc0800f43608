"""The model registry: lazy, shared, thread-safe loading of demo models under a memory budget (LRU)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gallery.errors import ModelUnavailableError
from gallery.runtime import memory, sources
from gallery.runtime.build import Builder, Built
from gallery.runtime.calibration import share_key
from gallery.runtime.hardware import detect, preferred_backend
from gallery.runtime.backends import backend_named
from gallery.runtime.models import Guarded
from gallery.runtime.openvino import BACKEND as OPENVINO
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import handler_for

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class ModelStatus:
    """What a card or `gallery doctor` shows about one model, computed without loading it."""

    state: str  # not-loaded | loading | ready | unavailable
    reason: str | None = None
    backend: str | None = None
    variant: str | None = None
    quant_check: dict[str, Any] | None = None
    load_seconds: float | None = None


@dataclass
class _Entry:
    key: str
    spec: ModelSpec
    demo_ids: set[str] = field(default_factory=set)
    state: str = "not-loaded"
    obj: Any = None
    done: threading.Event | None = None
    error: str | None = None
    sticky: bool = False  # a load failure that retrying would repeat (bad model, failed export)
    backend: str | None = None
    variant: str | None = None
    quant_check: dict[str, Any] | None = None
    load_seconds: float | None = None
    rss_bytes: int = 0  # measured growth of the process's resident memory during the load
    last_used: float = 0.0


def unavailable_message(demo_id: str, name: str, spec: ModelSpec, reason: str) -> str:
    """Return the one clear error: which demo, which source, why, and the command that fetches it."""
    return (f"{demo_id}: model {name!r} is not available ({sources.describe(spec)}): {reason}. "
            f"Fetch it ahead of time with `gallery pull {demo_id}`.")


class ModelRegistry:
    """Load each distinct model once, on first use, and share it between the demos that declare it."""

    def __init__(self, cache_dir: Path, memory_budget_bytes: int | None = None,
                 force_backend: str | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.memory_budget_bytes = memory_budget_bytes if memory_budget_bytes is not None else memory.default_budget()
        self.force_backend = force_backend
        self.builder = Builder(self.cache_dir)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        # One load at a time: the RSS growth measured around a load is then that model's alone.
        self._load_lock = threading.Lock()

    @property
    def counters(self) -> Any:
        """Return counts of what ran: exports, conversions, quantizations, quant_checks, loads, evictions."""
        return self.builder.counters

    # -- keys and backends ---------------------------------------------------------------------------------

    def backend_for(self, spec: ModelSpec) -> str:
        """Return the backend a spec runs on here: torch, onnxruntime-cuda, openvino-cpu or onnxruntime-cpu.

        `auto` takes CUDA where ONNX Runtime has it, else OpenVINO where its runtime is installed on an Intel
        CPU, else ONNX Runtime on the CPU; `OPENMODELS_BACKEND` (onnxruntime, openvino, torch) overrides what
        `auto` means.
        """
        wanted = self.force_backend or spec.backend
        if wanted == "auto":
            wanted = preferred_backend()
        hw = detect()
        if wanted == "torch":
            return "torch"
        if wanted == "openvino" or (wanted == "auto" and hw.openvino_preferred and not hw.cuda):
            refusal = handler_for(spec.task).openvino_refusal(spec)
            if hw.openvino and refusal is None:
                return OPENVINO
            if not hw.openvino:
                logger.warning("backend openvino asked for but OpenVINO is not installed; using ONNX Runtime")
            elif wanted == "openvino":
                logger.warning("backend openvino asked for but %s; using ONNX Runtime", refusal)
        return "onnxruntime-cuda" if hw.cuda else "onnxruntime-cpu"

    def _key(self, spec: ModelSpec, demo_dir: Path) -> str:
        return f"{share_key(spec, demo_dir)}|{self.backend_for(spec)}"

    def _index_file(self, key: str) -> Path:
        return self.cache_dir / "index" / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".json")

    def _remember(self, key: str, entry: _Entry, built: Built) -> None:
        """Record what the last load produced, for cheap status, availability and memory estimates."""
        record = {"backend": entry.backend, "variant": entry.variant, "quant_check": entry.quant_check,
                  "load_seconds": entry.load_seconds, "rss_bytes": entry.rss_bytes,
                  "export_dir": str(built.export_dir) if built.export_dir else None, "notes": built.notes}
        path = self._index_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(record, default=str))
        tmp.replace(path)

    def _recall(self, key: str) -> dict[str, Any]:
        try:
            return json.loads(self._index_file(key).read_text())
        except (OSError, ValueError):
            return {}

    # -- public API ----------------------------------------------------------------------------------------

    def get(self, demo_id: str, name: str, spec: ModelSpec, demo_dir: Path) -> Any:
        """Return the loaded model, loading it once (other callers wait); raises ModelUnavailableError."""
        key = self._key(spec, demo_dir)
        while True:
            with self._lock:
                entry = self._entries.setdefault(key, _Entry(key, spec))
                entry.demo_ids.add(demo_id)
                if entry.state == "ready":
                    entry.last_used = time.monotonic()
                    return entry.obj
                if entry.state == "unavailable" and entry.sticky:
                    raise ModelUnavailableError(unavailable_message(demo_id, name, spec, entry.error or "failed"))
                if entry.state == "loading":
                    assert entry.done is not None
                    done, loader = entry.done, False
                else:
                    entry.state, entry.done, entry.error = "loading", threading.Event(), None
                    done, loader = entry.done, True
            if loader:
                return self._load_entry(entry, demo_id, name, spec, demo_dir)
            done.wait()
            with self._lock:
                if entry.state == "unavailable":
                    raise ModelUnavailableError(unavailable_message(demo_id, name, spec, entry.error or "failed"))
            # ready (or evicted again meanwhile): loop to take it or load it

    def _load_entry(self, entry: _Entry, demo_id: str, name: str, spec: ModelSpec, demo_dir: Path) -> Any:
        assert entry.done is not None
        try:
            with self._load_lock:
                self._make_room(entry, self._recall(entry.key).get("rss_bytes", 0))
                before = memory.rss_bytes()
                started = time.perf_counter()
                # Hub sources download here when online (huggingface_hub shows progress); offline they fail fast.
                built = self._build(spec, demo_dir, demo_id, name, download=True)
                seconds = time.perf_counter() - started
                grown = max(0, memory.rss_bytes() - before)
        except sources.SourceUnavailable as exc:
            self._fail(entry, str(exc), sticky=False)
            raise ModelUnavailableError(unavailable_message(demo_id, name, spec, str(exc))) from exc
        except ModelUnavailableError as exc:
            self._fail(entry, str(exc), sticky=False)
            raise
        # Any failure inside one model's load (export, conversion, a demo factory) must stay with that model.
        except Exception as exc:  # noqa: BLE001
            logger.exception("%s: model %r failed to load", demo_id, name)
            self._fail(entry, f"{type(exc).__name__}: {exc}", sticky=True)
            raise ModelUnavailableError(unavailable_message(demo_id, name, spec, f"load failed: {exc}")) from exc
        with self._lock:
            entry.obj, entry.backend, entry.variant = built.obj, built.backend, built.variant
            entry.quant_check, entry.load_seconds, entry.rss_bytes = built.quant_check, round(seconds, 3), grown
            entry.last_used = time.monotonic()
            entry.state = "ready"
            self.counters["loads"] += 1
            entry.done.set()
        logger.info("%s: model %r ready on %s (%s) in %.2f s, +%.0f MiB", demo_id, name, built.backend,
                    built.variant, seconds, grown / 2**20)
        self._remember(entry.key, entry, built)
        with self._load_lock:
            self._make_room(entry, 0)
        return built.obj

    def _fail(self, entry: _Entry, reason: str, sticky: bool) -> None:
        with self._lock:
            entry.state, entry.error, entry.sticky, entry.obj = "unavailable", reason, sticky, None
            if not sticky:
                # A missing source may be pulled later: forget the entry so the next request tries again.
                self._entries.pop(entry.key, None)
            assert entry.done is not None
            entry.done.set()

    def _build(self, spec: ModelSpec, demo_dir: Path, demo_id: str, name: str, download: bool = False,
               progress: Progress | None = None) -> Built:
        backend = self.backend_for(spec)
        handler = handler_for(spec.task)
        if handler.builds_itself:  # a shipped ONNX file, a demo's own module, a factory's object
            return handler.build(self.builder, spec, demo_dir, backend_named(backend), demo_id, progress)
        last = self._recall(f"{share_key(spec, demo_dir)}|{backend}").get("export_dir")
        return self.builder.build(spec, demo_dir, backend, demo_id, download=download, progress=progress,
                                  fallback=Path(last) if last else None)

    # -- memory --------------------------------------------------------------------------------------------

    def loaded_bytes(self) -> int:
        """Return the summed measured footprint of the loaded models."""
        with self._lock:
            return sum(e.rss_bytes for e in self._entries.values() if e.state == "ready")

    def loaded_count(self) -> int:
        """Return how many distinct models are loaded now (a model shared by demos counts once)."""
        with self._lock:
            return sum(1 for e in self._entries.values() if e.state == "ready")

    def _make_room(self, keep: _Entry, incoming: int) -> None:
        """Unload idle models, least recently used first, until the loaded total plus `incoming` fits the budget."""
        while True:
            with self._lock:
                ready = [e for e in self._entries.values() if e.state == "ready" and e is not keep]
                total = sum(e.rss_bytes for e in ready) + (keep.rss_bytes if keep.state == "ready" else 0)
                if total + incoming <= self.memory_budget_bytes:
                    return
                idle = [e for e in ready if getattr(e.obj, "in_flight", 0) == 0]
                if not idle:
                    logger.warning("memory budget %.0f MiB exceeded (%.0f MiB loaded) and no model is idle",
                                   self.memory_budget_bytes / 2**20, (total + incoming) / 2**20)
                    return
                victim = min(idle, key=lambda e: e.last_used)
                self._unload(victim)
            logger.info("unloaded %s (LRU, %.0f MiB) to stay under the memory budget",
                        ", ".join(sorted(victim.demo_ids)), victim.rss_bytes / 2**20)
            memory.release()

    def _unload(self, entry: _Entry) -> None:
        """Forget a loaded model (caller holds the lock)."""
        obj = entry.obj
        entry.obj, entry.state, entry.done = None, "not-loaded", None
        self.counters["evictions"] += 1
        if isinstance(obj, Guarded):
            obj.close()

    def unload_all(self) -> None:
        """Unload every model (they load again on their next request)."""
        with self._lock:
            for entry in list(self._entries.values()):
                if entry.state == "ready":
                    self._unload(entry)
            self._entries = {k: e for k, e in self._entries.items() if e.state == "loading"}
        memory.release()

    # -- status, availability, preload, pull ---------------------------------------------------------------

    def status(self, demo_id: str, name: str, spec: ModelSpec, demo_dir: Path) -> ModelStatus:
        """Return the model's state without loading anything."""
        key = self._key(spec, demo_dir)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.state in ("ready", "loading") or (entry and entry.sticky):
                return ModelStatus(entry.state, entry.error, entry.backend, entry.variant, entry.quant_check,
                                   entry.load_seconds)
        last = self._recall(key)
        return ModelStatus("not-loaded", None, last.get("backend"), last.get("variant"), last.get("quant_check"),
                           last.get("load_seconds"))

    def availability(self, spec: ModelSpec, demo_dir: Path) -> tuple[bool, str]:
        """Return whether the model can be had offline without loading it, and the reason text."""
        try:
            path = sources.locate(spec, demo_dir)
        except sources.SourceUnavailable as exc:
            export_dir = self._recall(self._key(spec, demo_dir)).get("export_dir")
            if export_dir and Path(export_dir).is_dir():
                return True, f"source missing ({exc}) but an export is in the cache"
            return False, f"{exc}; run `gallery pull` for this demo"
        lacking = handler_for(spec.task).missing(spec)
        if lacking:
            return False, lacking
        if spec.factory:
            module = spec.factory.partition(":")[0]
            if importlib.util.find_spec(module.split(".")[0]) is None:
                return False, f"factory module {module} is not installed"
        return True, f"{sources.describe(spec)} at {path}"

    def preload(self, items: list[tuple[str, str, ModelSpec, Path]]) -> threading.Thread:
        """Load every listed model in a background thread, one after another; return the thread."""

        def run() -> None:
            for demo_id, name, spec, demo_dir in items:
                try:
                    self.get(demo_id, name, spec, demo_dir)
                # One model failing to preload must not stop the others; it shows as unavailable.
                except Exception as exc:  # noqa: BLE001
                    logger.warning("%s: preload of %r failed: %s", demo_id, name, exc)

        thread = threading.Thread(target=run, daemon=True, name="model-preload")
        thread.start()
        return thread

    def pull(self, demo_id: str, name: str, spec: ModelSpec, demo_dir: Path,
             progress: Progress | None = None) -> ModelStatus:
        """Fetch, convert, export and check a model ahead of time (downloads when online); return its status."""
        say = progress or (lambda message: None)
        key = self._key(spec, demo_dir)
        entry = _Entry(key, spec, {demo_id})
        started = time.perf_counter()
        try:
            built = self._build(spec, demo_dir, demo_id, name, download=True, progress=say)
        except sources.SourceUnavailable as exc:
            raise ModelUnavailableError(unavailable_message(demo_id, name, spec, str(exc))) from exc
        entry.backend, entry.variant, entry.quant_check = built.backend, built.variant, built.quant_check
        entry.load_seconds = round(time.perf_counter() - started, 3)
        self._remember(key, entry, built)
        if isinstance(built.obj, Guarded):
            built.obj.close()
        say(f"{built.backend}, {built.variant or '-'}" + (
            f", int8 check: {built.quant_check.get('metric')}={built.quant_check.get('value')}"
            if built.quant_check and "metric" in built.quant_check else ""))
        return ModelStatus("not-loaded", None, built.backend, built.variant, built.quant_check, entry.load_seconds)
