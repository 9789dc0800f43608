"""Real gallery servers for the robustness tests: a `gallery run` subprocess shared by the session."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.postgres import PostgresServer, postgres_bin
from tests.serving import free_port, launch_gallery

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "demos"
CORE_FIXTURES = HERE.parent / "core" / "fixtures" / "demos"
SECRET = "OM-OUTSIDE-SECRET-7f3a"  # content of a file next to the demos folder, never to be served
REQUEST_LIMIT = 3_000_000  # OPENMODELS_MAX_REQUEST_BYTES of the shared server
RATE = (20, "h")  # --rate-limit of the shared server; each test module is its own client (X-Forwarded-For)


def make_tree(root: Path) -> Path:
    """Copy the robustness fixture demos and the core word-stats demo under root/demos; return it."""
    demos = root / "demos"
    shutil.copytree(FIXTURES, demos, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CORE_FIXTURES / "education" / "word-stats", demos / "education" / "word-stats",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "outside-secret.txt").write_text(SECRET + "\n")
    return demos


@dataclass
class Server:
    """A `gallery run` subprocess and where it writes."""

    process: subprocess.Popen
    url: str
    root: Path
    log: Path
    tmp: Path
    data: Path

    def log_text(self) -> str:
        """Return everything the server printed or logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def client(self, ip: str, **kwargs: object) -> httpx.Client:
        """Return an HTTP client that the server's rate limit sees as client `ip`."""
        return httpx.Client(base_url=self.url, headers={"x-forwarded-for": ip}, timeout=30, **kwargs)


def start(root: Path, demos: Path, *extra: str, env: dict[str, str] | None = None, verbose: bool = False,
          timeout: float = 90) -> Server:
    """Start `python -m gallery run` with its own data, cache and temp folders under root; wait until it answers."""
    tmp, data = root / "tmp", root / "data"
    tmp.mkdir(exist_ok=True)
    log = root / f"server-{time.time_ns()}.log"
    process, url = launch_gallery(
        demos, *(["-v"] if verbose else []), "--data-dir", str(data), "--cache-dir", str(root / "cache"), *extra,
        log=log, env={"TMPDIR": str(tmp), "GRADIO_TEMP_DIR": str(root / "gradio"), **(env or {})},
        ready_path="/api/demos", headers={"x-forwarded-for": "10.255.255.255"}, timeout=timeout)
    return Server(process, url, root, log, tmp, data)


def stop(server: Server, sig: int = signal.SIGTERM) -> None:
    """Stop a server (SIGTERM by default) and wait for it; kill it if open event streams hold it up."""
    if server.process.poll() is None:
        server.process.send_signal(sig)
    try:
        server.process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@contextlib.contextmanager
def serve_app(app: object, timeout: float = 60.0) -> Iterator[str]:
    """Serve an app in a thread on a free port (like tests.serving.running, but quick to stop); yield its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `gallery run -v` on the fixture demos: small request limit, rate limit, its own TMPDIR."""
    root = tmp_path_factory.mktemp("echo-server")
    demos = make_tree(root)
    server = start(root, demos, "--rate-limit", f"{RATE[0]}/{RATE[1]}", verbose=True,
                   env={"OPENMODELS_MAX_REQUEST_BYTES": str(REQUEST_LIMIT), "OPENMODELS_LOG_INPUTS": ""})
    yield server
    stop(server)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (Debian's `postgresql` package, which `make test` installs)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: `make install-test` installs Debian's postgresql package")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()
