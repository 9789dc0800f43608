"""Run build jobs in the exporter environment (`.venv-export`) as a subprocess, offline and without secrets."""

from __future__ import annotations

import atexit
import collections
import functools
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

# The folder holding the `gallery` package: the worker imports its build steps from there.
SOURCE_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_VENV = SOURCE_ROOT / ".venv-export"
ENV_PYTHON = "OPENMODELS_EXPORTER_PYTHON"
ENV_TIMEOUT = "OPENMODELS_EXPORT_TIMEOUT"
ENV_IDLE = "OPENMODELS_EXPORTER_IDLE"
# Passed through to the exporter; everything else (tokens, cloud keys, proxies' credentials) stays out.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "SOURCE_DATE_EPOCH")
STDERR_TAIL = 40
# In the export cache: the exporter's tool versions, which key every export (see tool_versions).
VERSIONS_RECORD = "exporter-versions.json"


class ExportError(RuntimeError):
    """A build job failed in the exporter environment (the message holds the end of its log)."""


class ExporterMissing(ExportError):
    """The exporter environment is not installed where the gallery looks for it."""


def exporter_python() -> Path:
    """Return the exporter's Python: `$OPENMODELS_EXPORTER_PYTHON`, else `.venv-export/bin/python` of the checkout."""
    configured = os.environ.get(ENV_PYTHON, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_VENV / "bin" / "python"


def exporter_env() -> dict[str, str]:
    """Return the exporter's environment: offline, no Hugging Face token, the gallery's source on the path."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update({
        "PYTHONPATH": str(SOURCE_ROOT),
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        # Only local folders are exported: the serving process resolved (and, online, downloaded) the source.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
    })
    # A Hugging Face home of its own, so a token saved by `huggingface-cli login` is not read either.
    env["HF_HOME"] = str(Path(tempfile.gettempdir()) / "openmodels-exporter-hf-home")
    return env


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class Worker:
    """One exporter process serving jobs in turn (imports once); it exits by itself when idle."""

    def __init__(self, python: Path, env: dict[str, str], idle: float) -> None:
        self.process = subprocess.Popen(
            [str(python), "-m", "gallery.runtime.exporter.worker", "--serve", "--idle", str(idle)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
            env=env, cwd=tempfile.gettempdir())
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.idle = idle
        self.last_job = time.monotonic()
        threading.Thread(target=self._read, daemon=True, name="exporter-stderr").start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of stream: the process has gone

    def usable(self) -> bool:
        """Return whether the process runs and will still be there for a job sent now (not about to idle out)."""
        return self.process.poll() is None and time.monotonic() - self.last_job < self.idle - 5

    def run(self, job_file: Path, result_file: Path, progress: Progress | None, timeout: float) -> tuple[bool, str]:
        """Send one job; relay its progress; return (succeeded, the end of its log)."""
        assert self.process.stdin is not None
        tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self.process.stdin.write(json.dumps({"job": str(job_file), "result": str(result_file)}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        try:
            while True:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
                if line is None:
                    tail.append(f"(the exporter process ended, exit {self.process.wait()})")
                    return False, "\n".join(tail)
                if line.startswith("progress: "):
                    if progress:
                        progress(line.removeprefix("progress: "))
                elif line.startswith("done: "):
                    return line == "done: ok", "\n".join(tail)
                elif line:
                    tail.append(line)
        except queue.Empty:
            self.stop()
            raise ExportError(f"exporter job ran past {timeout:.0f} s and was stopped") from None
        finally:
            self.last_job = time.monotonic()

    def stop(self) -> None:
        """End the process."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


_workers: dict[str, Worker] = {}
_workers_lock = threading.Lock()


def _stop_workers() -> None:
    for worker in _workers.values():
        worker.stop()


atexit.register(_stop_workers)


def run_job(job: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """Run one job in the exporter environment; return its result or raise ExportError with the log's end.

    Jobs run one at a time in one exporter process, which is started on demand and exits after
    `$OPENMODELS_EXPORTER_IDLE` seconds (default 120) without a job, so a serving gallery holds no exporter.
    """
    python = exporter_python()
    if not python.exists():
        raise ExporterMissing(
            f"the exporter environment is not installed ({python} does not exist): run `make install-exporter`, "
            f"or point {ENV_PYTHON} at a Python with deploy/exporter/requirements.txt installed")
    with _workers_lock, tempfile.TemporaryDirectory(prefix="openmodels-job-") as tmp:
        job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_file.write_text(json.dumps(job, default=str), encoding="utf-8")
        worker = _workers.get(str(python))
        if worker is None or not worker.usable():
            if worker is not None:
                worker.stop()
            worker = _workers[str(python)] = Worker(python, exporter_env(), _seconds(ENV_IDLE, 120.0))
        ok, tail = worker.run(job_file, result_file, progress, _seconds(ENV_TIMEOUT, 1800.0))
        if not ok or not result_file.exists():
            raise ExportError(f"exporter job {job['op']} failed:\n{tail or '(no output)'}")
        return json.loads(result_file.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _versions_of(python: str) -> dict[str, Any]:
    return run_job({"op": "versions"})


def exporter_info() -> dict[str, Any]:
    """Return the exporter's Python, its version and its tools' versions (cached per interpreter)."""
    return _versions_of(str(exporter_python()))


def read_recorded_versions(record: Path) -> dict[str, str] | None:
    """Return the tool versions recorded in `record` by an earlier export, or None when there is no usable record."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    versions = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(versions, dict) or not versions:
        return None
    return {str(name): str(version) for name, version in versions.items()}


def _record_versions(record: Path, info: dict[str, Any]) -> None:
    """Write the exporter's versions to `record` (atomically, and only when they changed)."""
    if read_recorded_versions(record) == dict(info["versions"]):
        return
    payload = {"python": info.get("python"), "versions": info["versions"]}
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, record)
    except OSError as exc:  # a read-only cache still exports; it only cannot serve without the exporter later
        logger.warning("cannot record the exporter's versions in %s: %s", record, exc)


def tool_versions(record: Path | None = None) -> dict[str, str]:
    """Return the exporter's tool versions: they key every export made through it.

    With `record` (a file in the export cache), the versions are written there whenever the exporter answers, and
    read from there when the exporter environment is absent: an image that exported its models at build time and
    left the exporter out still finds them. A cache miss then fails in run_job with ExporterMissing.
    """
    if record is not None and not exporter_python().exists():
        recorded = read_recorded_versions(record)
        if recorded is not None:
            logger.debug("exporter absent: export keys use the versions recorded in %s", record)
            return recorded
    info = exporter_info()  # raises ExporterMissing when there is neither an exporter nor a record
    if record is not None:
        _record_versions(record, info)
    return dict(info["versions"])


def describe(record: Path | None = None) -> list[tuple[str, str]]:
    """Return `gallery doctor` rows about the exporter environment (or why it cannot be used)."""
    python = exporter_python()
    try:
        info = exporter_info()
    except ExportError as exc:
        rows = [("exporter environment", f"unusable: {str(exc).splitlines()[0]}")]
        recorded = read_recorded_versions(record) if record is not None else None
        if isinstance(exc, ExporterMissing) and recorded:
            # The container image: models were exported at build time, by the exporter these versions describe.
            rows.append(("exporter (recorded)", "exports made by " + ", ".join(
                f"{name} {version}" for name, version in sorted(recorded.items())) + " are served from the cache"))
        return rows
    rows = [("exporter environment", f"{python} (Python {info['python']})")]
    rows += [(f"exporter {name}", version) for name, version in sorted(info["versions"].items())]
    return rows


def serving_python() -> str:
    """Return the serving interpreter (for `gallery doctor`, beside the exporter's)."""
    return sys.executable
