"""Run a real uvicorn server on a free loopback port for tests."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn

from gallery.devserver import free_port, launch_gallery
from tests.conftest import ARTIFACTS

__all__ = ["free_port", "launch_gallery", "running", "start_gallery", "stop"]


@contextlib.contextmanager
def running(app: object, timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` in a thread; yield its base URL; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/demos", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise RuntimeError(f"server on {url} did not start within {timeout} s")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def start_gallery(demos_dir: Path, *extra: str, timeout: float = 120.0,
                  env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start `gallery run` on a free port (log under the test artifacts) and wait until its home page answers."""
    log = ARTIFACTS / f"server-{time.time_ns()}.log"
    # Each server gets its own Gradio cache, as separate deployments have: Gradio names a cached file by its
    # content's hash, so servers sharing /tmp/gradio share the copy of an example that prefills a form, and one
    # server stopping (which deletes the files it handed out) removed another's prefilled example.
    env = {"GRADIO_TEMP_DIR": tempfile.mkdtemp(prefix="gradio-"), **(env or {})}
    return launch_gallery(demos_dir, *extra, log=log, env=env, timeout=timeout)


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by start_gallery."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
