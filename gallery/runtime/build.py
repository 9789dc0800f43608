"""Turn a spec into a loaded model: resolve, convert, export, quantize with a guard, then load (cache first)."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gallery.runtime import cache, calibration, sources
from gallery.runtime.exporter import client as exporter
from gallery.runtime.backends import RuntimeBackend, backend_named
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import Handler, TaskHandler, handler_for

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class Built:
    """A loaded model and how it was obtained."""

    obj: Any
    backend: str
    variant: str | None
    quant_check: dict[str, Any] | None = None
    export_dir: Path | None = None
    notes: list[str] = field(default_factory=list)


class BuildingHandler(Handler):
    """A task whose model is not exported through Optimum: it builds (and caches) its model itself."""

    builds_itself = True

    def build(self, builder: Builder, spec: ModelSpec, demo_dir: Path, backend: RuntimeBackend, demo_id: str,
              progress: Progress | None = None) -> Built:
        """Return the loaded model on `backend`."""
        raise NotImplementedError


def say(progress: Progress | None, demo_id: str, message: str) -> None:
    """Log a step of a load and pass it to the progress callback (`gallery pull` prints it)."""
    logger.info("%s: %s", demo_id, message)
    if progress:
        progress(message)


class Builder:
    """Owns the cache folders and the counters that tests read (exports, conversions, checks)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.hasher = sources.FileHasher(self.cache_dir / "hashes.json")
        self.counters: Counter[str] = Counter()

    # -- sources -------------------------------------------------------------------------------------------

    def source(self, spec: ModelSpec, demo_dir: Path, demo_id: str, download: bool = False,
               progress: Progress | None = None) -> tuple[Path, str]:
        """Return the usable source folder and its fingerprint, running the spec's converter (cached) if any."""
        resolved = sources.resolve(spec, demo_dir, self.hasher, download=download, progress=progress)
        if not spec.converter:
            return resolved.path, resolved.fingerprint
        from gallery.runtime.converters import converter_fingerprint, converter_module

        key = cache.cache_key({"source": resolved.fingerprint, "converter": spec.converter,
                               "code": converter_fingerprint(spec.converter)})
        entry = self.cache_dir / "converted" / spec.converter / key

        def build(tmp: Path) -> dict[str, Any]:
            say(progress, demo_id, f"converting {resolved.description} with {spec.converter}")
            started = time.perf_counter()
            # Converters write Hugging Face folders with transformers: the exporter's, which reads them next.
            self.job({"op": "convert", "converter": spec.converter, "module": converter_module(spec.converter),
                      "src": resolved.path, "dst": tmp / "model"}, demo_id, progress)
            self.counters["conversions"] += 1
            return {"source": resolved.fingerprint, "converter": spec.converter,
                    "seconds": round(time.perf_counter() - started, 2)}

        cache.build_once(entry, build)
        return entry / "model", f"converted:{spec.converter}:{key}"

    # -- Optimum export and int8 ---------------------------------------------------------------------------

    def job(self, job: dict[str, Any], demo_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Run one build job in the exporter environment, relaying its progress lines."""
        return exporter.run_job(job, lambda message: say(progress, demo_id, f"exporter: {message}"))

    def export(self, spec: ModelSpec, handler: TaskHandler, src: Path, fingerprint: str, demo_id: str,
               backend: RuntimeBackend, progress: Progress | None = None) -> tuple[Path, dict[str, Any]]:
        """Return the fp32 export folder for `backend` (exporting on a cache miss) and its metadata."""
        # Keyed by the exporter class, not the task name: translation and summarization of one model share it.
        area = backend.export_area(handler)
        # Recorded beside the exports, so a serving image without the exporter still finds them.
        versions = exporter.tool_versions(self.cache_dir / exporter.VERSIONS_RECORD)
        identity = {"source": fingerprint, "exporter": area, "versions": versions, "opset": "optimum-default"}
        if handler.export_layout != 1:
            identity["layout"] = handler.export_layout
        key = cache.cache_key(identity)
        entry = self.cache_dir / "exports" / area / key

        def build(tmp: Path) -> dict[str, Any]:
            say(progress, demo_id, f"exporting {spec.task} model for {backend.name} (one time, cached)")
            started = time.perf_counter()
            meta = self.job({**backend.export_job(handler, tmp), "ort_class": handler.ort_class, "src": src,
                             "extras": list(handler.export_extras)}, demo_id, progress)
            self.counters["exports"] += 1
            return {**meta, "task": spec.task, "source": fingerprint, "versions": versions,
                    "export_seconds": round(time.perf_counter() - started, 2)}

        meta, built = cache.build_once(entry, build)
        if not built:
            logger.info("%s: export cache hit %s", demo_id, entry)
        return entry, meta

    def quantized(self, fp32_entry: Path, handler: TaskHandler, demo_id: str, backend: RuntimeBackend,
                  progress: Progress | None = None) -> Path:
        """Return the int8 folder next to an fp32 export (quantizing on a cache miss)."""
        config_name, recipe = backend.int8_plan(handler)
        entry = fp32_entry.with_name(f"{fp32_entry.name}-int8-{config_name}-{recipe}")

        def build(tmp: Path) -> dict[str, Any]:
            say(progress, demo_id, f"quantizing to int8 ({config_name}, recipe {recipe})")
            started = time.perf_counter()
            files = self.job(backend.int8_job(handler, config_name, fp32_entry, tmp), demo_id, progress)["files"]
            self.counters["quantizations"] += 1
            return {"config": config_name, "recipe": recipe, "files": files,
                    "seconds": round(time.perf_counter() - started, 2)}

        cache.build_once(entry, build)
        return entry

    def guarded_int8(self, spec: ModelSpec, handler: TaskHandler, fp32_entry: Path, meta: dict[str, Any],
                     backend: RuntimeBackend, demo_id: str, demo_dir: Path,
                     progress: Progress | None = None) -> tuple[Any, str, dict[str, Any] | None]:
        """Load int8 when its accuracy check passes on the calibration inputs, else fp32.

        Return (obj, variant, check).
        """
        config_name, recipe = backend.int8_plan(handler)

        def load(entry: Path, variant: str) -> Any:
            return backend.load(handler, entry, spec, meta, variant)

        try:
            int8_entry = self.quantized(fp32_entry, handler, demo_id, backend, progress)
        except (ImportError, RuntimeError, ValueError, OSError) as exc:
            # An int8 variant that cannot be built (an old onnxruntime, an unusual graph) costs speed, not the demo;
            # a failed job in the exporter raises ExportError, a RuntimeError.
            logger.warning("%s: int8 could not be built, keeping fp32: %s", demo_id, exc)
            check = {"passed": False, "reason": f"int8 could not be built: {exc}", "examples": 0}
            return load(fp32_entry, "fp32"), "fp32", check
        items = calibration.collect(spec, demo_dir)
        check_file = int8_entry / "checks" / f"{calibration.fingerprint(items)}.json"
        check = None
        if check_file.exists():
            check = json.loads(check_file.read_text())
        elif not items:
            check = {"passed": False, "reason": "no examples to check int8 against", "examples": 0}
        if check is not None:
            variant = "int8" if check.get("passed") else "fp32"
            return load(int8_entry if variant == "int8" else fp32_entry, variant), variant, check
        say(progress, demo_id, f"checking int8 accuracy on {len(items)} examples")
        fp32 = load(fp32_entry, "fp32")
        int8 = load(int8_entry, "int8")
        started = time.perf_counter()
        check = handler.check(fp32, int8, items)
        self.counters["quant_checks"] += 1
        check.update({"config": config_name, "recipe": recipe,
                      "seconds": round(time.perf_counter() - started, 2)})
        with cache.locked(check_file):
            check_file.parent.mkdir(parents=True, exist_ok=True)
            check_file.write_text(json.dumps(check, indent=2, default=str))
        if check["passed"]:
            logger.info("%s: int8 kept (%s = %s)", demo_id, check.get("metric"), check.get("value"))
            fp32.close()
            return int8, "int8", check
        logger.warning("%s: int8 rejected, keeping fp32: %s", demo_id, check.get("reason"))
        int8.close()
        return fp32, "fp32", check

    # -- the whole path ------------------------------------------------------------------------------------

    def wants_int8(self, spec: ModelSpec, handler: TaskHandler, backend: RuntimeBackend) -> tuple[bool, str | None]:
        """Return whether to try int8 and, when not, why."""
        if spec.quantize == "none":
            return False, "quantize: none"
        if not backend.int8:
            return False, f"int8 is for CPU; running fp32 on {backend.name}"
        if spec.quantize == "auto" and not handler.auto_quantize:
            return False, f"quantize: auto keeps {spec.task} models fp32 (set dynamic-int8 to try)"
        return True, None

    def build(self, spec: ModelSpec, demo_dir: Path, backend: str, demo_id: str, download: bool = False,
              progress: Progress | None = None, fallback: Path | None = None) -> Built:
        """Return the loaded model for an Optimum-exportable task on `backend`.

        `fallback` is the export folder of a previous load: when the source has gone (HF cache cleared,
        package removed) that export still serves, so a pulled model keeps working offline.
        """
        handler = handler_for(spec.task)
        runtime = backend_named(backend)
        try:
            src, fingerprint = self.source(spec, demo_dir, demo_id, download, progress)
        except sources.SourceUnavailable as exc:
            meta = cache.read_meta(fallback) if fallback is not None and runtime.exports else None
            if meta is None:
                raise
            logger.warning("%s: source unavailable (%s); serving the cached export %s", demo_id, exc, fallback)
            assert fallback is not None
            entry = fallback
            cache.mark_used(entry)
        else:
            if not runtime.exports:
                say(progress, demo_id, f"loading the plain model on {runtime.name} (fp32, eager)")
                obj = runtime.load_source(handler, src, spec)
                return Built(obj, obj.backend, "fp32")
            entry, meta = self.export(spec, handler, src, fingerprint, demo_id, runtime, progress)
        try_int8, why_not = self.wants_int8(spec, handler, runtime)
        if try_int8:
            obj, variant, check = self.guarded_int8(spec, handler, entry, meta, runtime, demo_id, demo_dir, progress)
        else:
            obj, variant, check = runtime.load(handler, entry, spec, meta, "fp32"), "fp32", None
        if obj.backend != backend:
            logger.warning("%s: asked for %s but the session runs on %s", demo_id, backend, obj.backend)
        return Built(obj, obj.backend, variant, check, entry, [why_not] if why_not else [])
