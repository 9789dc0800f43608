"""Run build jobs in the exporter environment (`.venv-export`) as a subprocess, offline and without secrets."""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

# The folder holding the `gallery` package: the worker imports its build steps from there.
SOURCE_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_VENV = SOURCE_ROOT / ".venv-export"
ENV_PYTHON = "OPENMODELS_EXPORTER_PYTHON"
ENV_TIMEOUT = "OPENMODELS_EXPORT_TIMEOUT"
# Passed through to the exporter; everything else (tokens, cloud keys, proxies' credentials) stays out.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "SOURCE_DATE_EPOCH")
STDERR_TAIL = 40


class ExportError(RuntimeError):
    """A build job failed in the exporter environment (the message holds the end of its log)."""


class ExporterMissing(ExportError):
    """The exporter environment is not installed where the gallery looks for it."""


def exporter_python() -> Path:
    """Return the exporter's Python: `$OPENMODELS_EXPORTER_PYTHON`, else `.venv-export/bin/python` of the checkout."""
    configured = os.environ.get(ENV_PYTHON, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_VENV / "bin" / "python"


def exporter_env(cache_dir: Path | None = None) -> dict[str, str]:
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
    hf_home = (cache_dir or Path(tempfile.gettempdir())) / "exporter-hf-home"
    env["HF_HOME"] = str(hf_home)
    return env


def _timeout() -> float:
    try:
        return float(os.environ.get(ENV_TIMEOUT, "1800"))
    except ValueError:
        return 1800.0


def run_job(job: dict[str, Any], progress: Progress | None = None, cache_dir: Path | None = None) -> dict[str, Any]:
    """Run one job in the exporter environment; return its result or raise ExportError with the log's end."""
    python = exporter_python()
    if not python.exists():
        raise ExporterMissing(
            f"the exporter environment is not installed ({python} does not exist): run `make install-exporter`, "
            f"or point {ENV_PYTHON} at a Python with deploy/exporter/requirements.txt installed")
    with tempfile.TemporaryDirectory(prefix="openmodels-job-") as tmp:
        job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_file.write_text(json.dumps(job, default=str), encoding="utf-8")
        command = [str(python), "-m", "gallery.runtime.exporter.worker", str(job_file), str(result_file)]
        tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, errors="replace",
                                   env=exporter_env(cache_dir), cwd=tmp)
        assert process.stderr is not None
        try:
            for line in process.stderr:
                line = line.rstrip()
                if line.startswith("progress: "):
                    if progress:
                        progress(line.removeprefix("progress: "))
                elif line:
                    tail.append(line)
            code = process.wait(timeout=_timeout())
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ExportError(f"exporter job {job['op']} ran past {_timeout():.0f} s and was stopped") from None
        if code != 0 or not result_file.exists():
            last = "\n".join(tail) or "(no output)"
            raise ExportError(f"exporter job {job['op']} failed (exit {code}):\n{last}")
        return json.loads(result_file.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _versions_of(python: str) -> dict[str, Any]:
    return run_job({"op": "versions"})


def exporter_info() -> dict[str, Any]:
    """Return the exporter's Python, its version and its tools' versions (cached per interpreter)."""
    return _versions_of(str(exporter_python()))


def tool_versions() -> dict[str, str]:
    """Return the exporter's tool versions: they key every export made through it."""
    return dict(exporter_info()["versions"])


def describe() -> list[tuple[str, str]]:
    """Return `gallery doctor` rows about the exporter environment (or why it cannot be used)."""
    python = exporter_python()
    try:
        info = exporter_info()
    except ExportError as exc:
        return [("exporter environment", f"unusable: {str(exc).splitlines()[0]}")]
    rows = [("exporter environment", f"{python} (Python {info['python']})")]
    rows += [(f"exporter {name}", version) for name, version in sorted(info["versions"].items())]
    return rows


def serving_python() -> str:
    """Return the serving interpreter (for `gallery doctor`, beside the exporter's)."""
    return sys.executable
