"""Entry point of the exporter environment: run build jobs and write their results as JSON.

`python -m gallery.runtime.exporter.worker --serve`, started by `gallery.runtime.exporter.client` with
`.venv-export`'s Python, reads one request per line on stdin (`{"job": JOB.json, "result": RESULT.json}`), runs it
and ends it with a `done: ok` or `done: error` line on stderr. Progress goes to stderr as `progress: <message>`
lines; anything else on stderr is the libraries' own log, shown when a job fails. One process serves many jobs, so
Optimum, transformers and torch are imported once (about 5 s each time on 2 cores); it exits after `--idle`
seconds without a job. `python -m gallery.runtime.exporter.worker JOB.json RESULT.json` runs a single job.
"""

from __future__ import annotations

import json
import logging
import select
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from gallery.runtime import cache

# The distributions whose versions decide what an export contains: they key the export cache.
TOOL_DISTRIBUTIONS = ("optimum", "optimum-onnx", "onnx", "onnxruntime", "transformers", "torch", "tokenizers",
                      "openvino", "nncf")


def progress(message: str) -> None:
    """Tell the serving process which step runs now."""
    print(f"progress: {message}", file=sys.stderr, flush=True)


def tool_versions() -> dict[str, str]:
    """Return the versions of the exporter's tools that shape an export."""
    return cache.tool_versions(TOOL_DISTRIBUTIONS)


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job and return its result (what the step reports)."""
    op = job["op"]
    if op == "versions":
        return {"versions": tool_versions(), "python": sys.version.split()[0], "executable": sys.executable}
    # Imported here: the `versions` job must stay fast and work even where a tool is broken.
    from gallery.runtime.exporter import steps

    src, dst = Path(job["src"]), Path(job["dst"])
    started = time.perf_counter()
    if op == "convert":
        progress(f"converting {src.name} with {job['converter']}")
        steps.convert_source(job["converter"], job.get("module"), src, dst)
        result: dict[str, Any] = {}
    elif op == "export":
        progress(f"exporting with optimum {job['ort_class']} to ONNX")
        result = steps.export(job["ort_class"], src, dst, bool(job.get("merge")), job.get("extras", []))
    elif op == "export-openvino":
        progress(f"exporting with optimum {job['ort_class']} and converting to OpenVINO IR")
        result = steps.export_openvino(job["ort_class"], src, dst, job.get("extras", []))
    elif op == "quantize-dynamic":
        progress(f"quantizing to dynamic int8 ({job['config']})")
        result = {"files": steps.quantize_dynamic(src, dst, job["config"])}
    elif op == "quantize-blockwise":
        progress(f"quantizing {', '.join(job['files'])} to block-wise int8")
        result = {"files": steps.quantize_blockwise(src, dst, job["files"])}
    elif op == "compress-openvino":
        progress("compressing OpenVINO weights to int8 (NNCF)")
        result = {"files": steps.compress_openvino(src, dst)}
    else:
        raise ValueError(f"unknown exporter job {op!r}")
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def run_files(job_file: Path, result_file: Path) -> None:
    """Run the job in one file and write its result to the other."""
    job = json.loads(job_file.read_text(encoding="utf-8"))
    result = run(job)
    result_file.write_text(json.dumps(result, default=str), encoding="utf-8")


def serve(idle_seconds: float) -> int:
    """Run jobs from stdin, one request per line, until stdin closes or no job comes for `idle_seconds`."""
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], idle_seconds)
        if not ready:
            return 0
        line = sys.stdin.readline()
        if not line:
            return 0
        try:
            request = json.loads(line)
            run_files(Path(request["job"]), Path(request["result"]))
        # Each job is a boundary: its failure (any library's exception) is reported and the worker serves on.
        except Exception:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            print("done: error", file=sys.stderr, flush=True)
        else:
            print("done: ok", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Serve jobs from stdin (`--serve [--idle S]`), or run the one job in JOB.json into RESULT.json."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # Tracing warnings from torch.onnx fill the log without telling the user anything they can act on.
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", module="torch")
    if argv[:1] == ["--serve"]:
        idle = float(argv[2]) if argv[1:2] == ["--idle"] and len(argv) > 2 else 120.0
        return serve(idle)
    if len(argv) != 2:
        print("usage: python -m gallery.runtime.exporter.worker (--serve [--idle S] | JOB.json RESULT.json)",
              file=sys.stderr)
        return 2
    run_files(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
