"""Run a real uvicorn server on a free loopback port for tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn

from tests.conftest import ARTIFACTS


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def launch_gallery(demos_dir: Path, *args: str, log: Path, env: dict[str, str] | None = None,
                   ready_path: str = "/", headers: dict[str, str] | None = None,
                   timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """Start `python -m gallery <args...> --demos-dir D --port P` on a free port; return it once it answers.

    `args` are the options before and after `run` as one list: a leading "-v" goes before `run`. The
    server is ready when `ready_path` answers below 500; its output goes to `log`.
    """
    port = free_port()
    verbose = [a for a in args if a == "-v"]
    options = [a for a in args if a != "-v"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "gallery", *verbose, "run", "--demos-dir", str(demos_dir), "--port", str(port),
             *options],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gallery exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + ready_path, timeout=2, headers=headers).status_code < 500:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gallery did not answer on {url} within {timeout} s:\n{log.read_text(errors='replace')}")


def start_gallery(demos_dir: Path, *extra: str, timeout: float = 120.0,
                  env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start `gallery run` on a free port (log under the test artifacts) and wait until its home page answers."""
    log = ARTIFACTS / f"server-{time.time_ns()}.log"
    return launch_gallery(demos_dir, *extra, log=log, env=env, timeout=timeout)


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by start_gallery."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
