"""Latency benchmark: each demo on its own examples, optimized runtime vs the plain transformers baseline.

For every demo found under demos/<sector>/<slug>/ (demo.yaml + app.py):
- latency: in ONE process, the same decoded example inputs go through the demo's `predict` with the optimized
  registry (ONNX Runtime, guarded int8) and with the baseline registry (PyTorch eager, fp32), interleaved call
  by call so that noise from other processes hits both alike; p50/p95 and the p50 ratio optimized/baseline;
- first load: in fresh subprocesses, the time to load the demo's models with an empty cache (cold: export,
  quantize, check) and again with that cache (warm), and the baseline load;
- peak RSS: of a subprocess that loads the models and runs every example once, per backend.
Feature-extraction models also get a dynamic-batching measurement (concurrent single-text requests).

Run: `python -m benchmarks.latency [--demo ID] [--repeats N] [--json PATH]` (prints a Markdown table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEMOS = ROOT / "demos"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def discover_demos(demos_dir: Path, wanted: Sequence[str] = ()) -> list[str]:
    """Return the ids of the demos whose manifest reads (optionally only the `wanted` ids or sectors).

    A declarative demo (no app.py, an `app:` factory) is benchmarked like any other."""
    from gallery.discovery import discover

    return [e.id for e in discover(demos_dir, list(wanted) or None).entries if e.manifest is not None]


def _service(demos_dir: Path, demo_id: str, cache_dir: Path, force_backend: str | None) -> Any:
    from gallery.service import GalleryService

    return GalleryService.open(demos_dir, cache_dir, [demo_id], force_backend=force_backend)


def _example_inputs(service: Any, demo_id: str) -> list[dict[str, Any]]:
    entry = service.entry(demo_id)
    return [service.decode(demo_id, service.example_inputs(demo_id, i), allow_paths=True)
            for i in range(len(entry.manifest.examples))]


def _load_models(service: Any, demo_id: str) -> dict[str, Any]:
    entry = service.entry(demo_id)
    out = {}
    for name, spec in entry.manifest.models.items():
        out[name] = service.registry.get(demo_id, name, spec, entry.path)
    return out


def peak_rss_mib() -> float:
    """Return this process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited across fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def probe(demos_dir: Path, demo_id: str, cache_dir: Path, backend: str | None) -> dict[str, Any]:
    """In this (fresh) process: time the model loads, run every example once, report peak RSS."""
    started = time.perf_counter()
    service = _service(demos_dir, demo_id, cache_dir, backend)
    models = _load_models(service, demo_id)
    load_seconds = time.perf_counter() - started
    for inputs in _example_inputs(service, demo_id):
        service.predict(demo_id, inputs)
    entry = service.entry(demo_id)
    statuses = {n: service.registry.status(demo_id, n, s, entry.path) for n, s in entry.manifest.models.items()}
    return {
        "load_seconds": round(load_seconds, 3),
        "peak_rss_mib": peak_rss_mib(),
        "backends": {n: getattr(m, "backend", None) for n, m in models.items()},
        "variants": {n: s.variant for n, s in statuses.items()},
        "quant_checks": {n: s.quant_check for n, s in statuses.items()},
        "exports": service.registry.counters["exports"],
    }


def _run_probe(demos_dir: Path, demo_id: str, cache_dir: Path, backend: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.latency", "--probe", demo_id, "--demos-dir", str(demos_dir),
           "--cache-dir", str(cache_dir)] + (["--backend", backend] if backend else [])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_loads(demos_dir: Path, demo_id: str) -> dict[str, Any]:
    """Cold (empty cache), warm (same cache) and baseline loads, each in a fresh process."""
    cache_dir = Path(tempfile.mkdtemp(prefix="openmodels-bench-"))
    try:
        cold = _run_probe(demos_dir, demo_id, cache_dir, None)
        warm = _run_probe(demos_dir, demo_id, cache_dir, None)
        baseline = _run_probe(demos_dir, demo_id, cache_dir, "torch")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return {"cold": cold, "warm": warm, "baseline": baseline}


def measure_latency(demos_dir: Path, demo_id: str, cache_dir: Path, repeats: int) -> dict[str, Any]:
    """Run the demo's examples through both backends in this process, interleaved call by call."""
    fast = _service(demos_dir, demo_id, cache_dir, None)
    slow = _service(demos_dir, demo_id, cache_dir, "torch")
    inputs = _example_inputs(fast, demo_id)
    if not inputs:
        return {"error": "no examples"}
    for service in (fast, slow):  # warm-up: first calls build demo resources (indexes, heads)
        for item in inputs:
            service.predict(demo_id, item)
    times: dict[str, list[float]] = {"optimized": [], "baseline": []}
    for _ in range(repeats):
        for item in inputs:
            for label, service in (("optimized", fast), ("baseline", slow)):
                started = time.perf_counter()
                service.predict(demo_id, item)
                times[label].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"calls": len(times["optimized"])}
    for label, values in times.items():
        out[label] = {"p50_ms": round(statistics.median(values), 2), "p95_ms": round(_percentile(values, 95), 2)}
    out["ratio_p50"] = round(out["optimized"]["p50_ms"] / out["baseline"]["p50_ms"], 3)
    entry = fast.entry(demo_id)
    out["backend"] = {n: fast.registry.status(demo_id, n, s, entry.path).backend
                      for n, s in entry.manifest.models.items()}
    out["variant"] = {n: fast.registry.status(demo_id, n, s, entry.path).variant
                      for n, s in entry.manifest.models.items()}
    fast.registry.unload_all()
    slow.registry.unload_all()
    return out


def measure_batching(demos_dir: Path, demo_id: str, cache_dir: Path, threads: int = 8,
                     per_thread: int = 25) -> dict[str, Any] | None:
    """Concurrent single-text embed() calls with dynamic batching off and on (feature-extraction models)."""
    from gallery.manifest import load_manifest
    from gallery.runtime.registry import ModelRegistry

    folder = demos_dir / demo_id
    manifest = load_manifest(folder / "demo.yaml")
    specs = [s for s in manifest.models.values() if s.task == "feature-extraction"]
    if not specs:
        return None
    texts = [str(v) for ex in manifest.examples for v in ex.values() if isinstance(v, str)] or ["hello world"]
    result: dict[str, Any] = {"threads": threads, "requests": threads * per_thread}
    for batch in (False, True):
        spec = specs[0].model_copy(update={"options": {**specs[0].options, "batch": batch},
                                           "max_concurrency": threads})
        registry = ModelRegistry(cache_dir)
        model = registry.get(demo_id, "bench", spec, folder)
        latencies: list[float] = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            for i in range(per_thread):
                started = time.perf_counter()
                model.embed([texts[(offset + i) % len(texts)]])
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        wall = time.perf_counter() - started
        key = "batched" if batch else "unbatched"
        result[key] = {"throughput_rps": round(threads * per_thread / wall, 1),
                       "p50_ms": round(statistics.median(latencies), 2),
                       "p95_ms": round(_percentile(latencies, 95), 2),
                       "model_runs": model.batcher.runs if model.batcher else threads * per_thread}
        registry.unload_all()
    result["speedup"] = round(result["batched"]["throughput_rps"] / result["unbatched"]["throughput_rps"], 2)
    return result


def machine() -> dict[str, Any]:
    """Describe the machine the numbers come from."""
    from gallery.runtime.hardware import describe

    return {"python": platform.python_version(), "rows": describe()}


def _fmt(row: dict[str, Any], *keys: str) -> str:
    value: Any = row
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return "-" if value is None else str(value)


def table(results: dict[str, Any]) -> str:
    """Return the results as a Markdown table."""
    head = ("| demo | backend / variant | p50 opt ms | p50 torch ms | p95 opt ms | p95 torch ms | ratio p50 | "
            "cold load s | warm load s | torch load s | peak RSS opt MiB | peak RSS torch MiB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for demo_id, row in results["demos"].items():
        lat, loads = row.get("latency", {}), row.get("loads", {})
        backend = ", ".join(f"{b}/{row.get('latency', {}).get('variant', {}).get(n, '-')}"
                            for n, b in lat.get("backend", {}).items()) or "-"
        lines.append("| " + " | ".join([
            demo_id, backend, _fmt(lat, "optimized", "p50_ms"), _fmt(lat, "baseline", "p50_ms"),
            _fmt(lat, "optimized", "p95_ms"), _fmt(lat, "baseline", "p95_ms"), _fmt(lat, "ratio_p50"),
            _fmt(loads, "cold", "load_seconds"), _fmt(loads, "warm", "load_seconds"),
            _fmt(loads, "baseline", "load_seconds"), _fmt(loads, "warm", "peak_rss_mib"),
            _fmt(loads, "baseline", "peak_rss_mib"),
        ]) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--demos-dir", type=Path, default=DEFAULT_DEMOS)
    parser.add_argument("--demo", action="append", default=[], help="demo id or sector (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="passes over each demo's examples")
    parser.add_argument("--cache-dir", type=Path, default=None, help="export cache for the latency runs")
    parser.add_argument("--no-load", action="store_true", help="skip the cold/warm load subprocesses")
    parser.add_argument("--no-batching", action="store_true", help="skip the dynamic batching measurement")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--backend", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.probe:
        print(json.dumps(probe(args.demos_dir, args.probe, args.cache_dir, args.backend), default=str))
        return 0
    from gallery.runtime.doctor import default_cache_dir

    cache_dir = args.cache_dir or default_cache_dir()
    results: dict[str, Any] = {"machine": machine(), "repeats": args.repeats, "demos": {}}
    for demo_id in discover_demos(args.demos_dir, args.demo):
        print(f"* {demo_id}", file=sys.stderr, flush=True)
        row: dict[str, Any] = {}
        try:
            row["latency"] = measure_latency(args.demos_dir, demo_id, cache_dir, args.repeats)
            if not args.no_load:
                row["loads"] = measure_loads(args.demos_dir, demo_id)
            if not args.no_batching:
                row["batching"] = measure_batching(args.demos_dir, demo_id, cache_dir)
        # One demo failing (missing model, demo bug) must not stop the benchmark of the others.
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {exc}"
        results["demos"][demo_id] = row
    print(table(results))
    for demo_id, row in results["demos"].items():
        if row.get("batching"):
            b = row["batching"]
            print(f"batching {demo_id}: {b['requests']} single-text requests from {b['threads']} threads: "
                  f"{b['unbatched']['throughput_rps']} -> {b['batched']['throughput_rps']} req/s "
                  f"(x{b['speedup']}), p50 {b['unbatched']['p50_ms']} -> {b['batched']['p50_ms']} ms")
        if row.get("error"):
            print(f"error {demo_id}: {row['error']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
