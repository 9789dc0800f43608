"""`gallery run --share`: an unreachable share server is one clear line, and serving goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port


def test_share_server_unreachable_keeps_serving(demo_tree: Path, tmp_path: Path) -> None:
    port, dead = free_port(), free_port()  # nothing listens on `dead`
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gallery", "run", "--demos-dir", str(demo_tree), "--port", str(port),
             "--cache-dir", str(tmp_path / "cache"), "--share-server", f"127.0.0.1:{dead}"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Share link unavailable" not in log.read_text():
            assert process.poll() is None, log.read_text()
            time.sleep(0.3)
        lines = [line for line in log.read_text().splitlines() if "Share link unavailable" in line]
        assert len(lines) == 1, log.read_text()
        assert f"127.0.0.1:{dead}" in lines[0] and "still serving locally" in lines[0]
        assert "Traceback" not in log.read_text()
        response = httpx.get(f"http://127.0.0.1:{port}/api/demos", timeout=10)
        assert response.status_code == 200 and len(response.json()) == 5
    finally:
        process.terminate()
        process.wait(timeout=15)
