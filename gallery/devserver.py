"""Start `gallery run` in a child process on a free port and wait until it answers (for tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_gallery(demos_dir: Path, *args: str, log: Path | None, env: dict[str, str] | None = None,
                   ready_path: str = "/", headers: dict[str, str] | None = None,
                   timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """Start `python -m gallery <args...> --demos-dir D --port P` on a free port; return it once it answers.

    `args` are the options before and after `run` as one list: a leading "-v" goes before `run`. The
    server is ready when `ready_path` answers below 500. Its output goes to `log` (discarded when None).
    """
    port = free_port()
    verbose = [a for a in args if a == "-v"]
    options = [a for a in args if a != "-v"]
    command = [sys.executable, "-m", "gallery", *verbose, "run", "--demos-dir", str(demos_dir), "--port", str(port),
               *options]
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if log is None:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=child_env)
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:  # the child keeps its own handle
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=child_env)
    url = f"http://127.0.0.1:{port}"

    def output() -> str:
        return log.read_text(errors="replace") if log is not None else "(output discarded)"

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gallery exited with {process.returncode}:\n{output()}")
        try:
            if httpx.get(url + ready_path, timeout=2, headers=headers).status_code < 500:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gallery did not answer on {url} within {timeout} s:\n{output()}")
