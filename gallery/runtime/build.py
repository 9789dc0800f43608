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
from gallery.runtime import quantize as q
from gallery.runtime.exporter import client as exporter
from gallery.runtime.hardware import detect
from gallery.runtime.openvino import BACKEND as OPENVINO
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler, handler_for

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
               progress: Progress | None = None, openvino: bool = False) -> tuple[Path, dict[str, Any]]:
        """Return the fp32 export folder (exporting on a cache miss) and its metadata.

        The folder holds `onnx/` (Optimum's ONNX export) or, with `openvino`, `ov/` (that export as OpenVINO IR).
        """
        # Keyed by the exporter class, not the task name: translation and summarization of one model share it.
        area = f"{handler.ort_class}-openvino" if openvino else handler.ort_class
        # Recorded beside the exports, so a serving image without the exporter still finds them.
        versions = exporter.tool_versions(self.cache_dir / exporter.VERSIONS_RECORD)
        identity = {"source": fingerprint, "exporter": area, "versions": versions, "opset": "optimum-default"}
        if handler.export_layout != 1:
            identity["layout"] = handler.export_layout
        key = cache.cache_key(identity)
        entry = self.cache_dir / "exports" / area / key

        def build(tmp: Path) -> dict[str, Any]:
            target = "OpenVINO IR" if openvino else "ONNX"
            say(progress, demo_id, f"exporting {spec.task} model to {target} (one time, cached)")
            started = time.perf_counter()
            if openvino:
                job: dict[str, Any] = {"op": "export-openvino", "dst": tmp / "ov"}
            else:
                job = {"op": "export", "dst": tmp / "onnx", "merge": handler.merge_decoders}
            meta = self.job({**job, "ort_class": handler.ort_class, "src": src,
                             "extras": list(handler.export_extras)}, demo_id, progress)
            self.counters["exports"] += 1
            return {**meta, "task": spec.task, "source": fingerprint, "versions": versions,
                    "export_seconds": round(time.perf_counter() - started, 2)}

        meta, built = cache.build_once(entry, build)
        if not built:
            logger.info("%s: export cache hit %s", demo_id, entry)
        return entry, meta

    @staticmethod
    def load_variant(handler: TaskHandler, entry: Path, spec: ModelSpec, meta: dict[str, Any], backend: str,
                     variant: str) -> Any:
        """Load one variant of an export: its `ov/` IR on OpenVINO, else its `onnx/` folder on ONNX Runtime."""
        if backend == OPENVINO:
            return handler.load_openvino(entry / "ov", spec, meta, variant)
        return handler.load(entry / "onnx", spec, backend, variant, meta)

    @staticmethod
    def int8_plan(handler: TaskHandler, openvino: bool) -> tuple[str, str]:
        """Return the (config, recipe) of the int8 variant: ONNX Runtime's per CPU, or OpenVINO's weights."""
        if openvino:
            return "openvino", q.OPENVINO_RECIPE
        return detect().quantization_config, handler.int8_recipe

    def quantized(self, fp32_entry: Path, handler: TaskHandler, demo_id: str, progress: Progress | None = None,
                  openvino: bool = False) -> Path:
        """Return the int8 folder next to an fp32 export (quantizing on a cache miss)."""
        config_name, recipe = self.int8_plan(handler, openvino)
        entry = fp32_entry.with_name(f"{fp32_entry.name}-int8-{config_name}-{recipe}")

        def build(tmp: Path) -> dict[str, Any]:
            say(progress, demo_id, f"quantizing to int8 ({config_name}, recipe {recipe})")
            started = time.perf_counter()
            if openvino:
                job = {"op": "compress-openvino", "src": fp32_entry / "ov", "dst": tmp / "ov"}
            else:
                job = {**handler.int8_job(config_name), "src": fp32_entry / "onnx", "dst": tmp / "onnx"}
            files = self.job(job, demo_id, progress)["files"]
            self.counters["quantizations"] += 1
            return {"config": config_name, "recipe": recipe, "files": files,
                    "seconds": round(time.perf_counter() - started, 2)}

        cache.build_once(entry, build)
        return entry

    def guarded_int8(self, spec: ModelSpec, handler: TaskHandler, fp32_entry: Path, meta: dict[str, Any],
                     backend: str, demo_id: str, demo_dir: Path,
                     progress: Progress | None = None) -> tuple[Any, str, dict[str, Any] | None]:
        """Load int8 when its accuracy check passes on the calibration inputs, else fp32.

        Return (obj, variant, check).
        """
        openvino = backend == OPENVINO
        config_name, recipe = self.int8_plan(handler, openvino)

        def load(entry: Path, variant: str) -> Any:
            return self.load_variant(handler, entry, spec, meta, backend, variant)

        try:
            int8_entry = self.quantized(fp32_entry, handler, demo_id, progress, openvino)
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

    def wants_int8(self, spec: ModelSpec, handler: TaskHandler, backend: str) -> tuple[bool, str | None]:
        """Return whether to try int8 and, when not, why."""
        if spec.quantize == "none":
            return False, "quantize: none"
        if backend not in ("onnxruntime-cpu", OPENVINO):
            return False, f"int8 is for CPU; running fp32 on {backend}"
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
        try:
            src, fingerprint = self.source(spec, demo_dir, demo_id, download, progress)
        except sources.SourceUnavailable as exc:
            meta = cache.read_meta(fallback) if fallback is not None and backend != "torch" else None
            if meta is None:
                raise
            logger.warning("%s: source unavailable (%s); serving the cached export %s", demo_id, exc, fallback)
            assert fallback is not None
            entry = fallback
            cache.mark_used(entry)
        else:
            if backend == "torch":
                say(progress, demo_id, "loading the plain PyTorch model (fp32, eager)")
                obj = handler.load_torch(src, spec)
                return Built(obj, obj.backend, "fp32")
            entry, meta = self.export(spec, handler, src, fingerprint, demo_id, progress,
                                      openvino=backend == OPENVINO)
        try_int8, why_not = self.wants_int8(spec, handler, backend)
        if try_int8:
            obj, variant, check = self.guarded_int8(spec, handler, entry, meta, backend, demo_id, demo_dir, progress)
        else:
            obj, variant, check = self.load_variant(handler, entry, spec, meta, backend, "fp32"), "fp32", None
        if obj.backend != backend:
            logger.warning("%s: asked for %s but the session runs on %s", demo_id, backend, obj.backend)
        return Built(obj, obj.backend, variant, check, entry, [why_not] if why_not else [])
