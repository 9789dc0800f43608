"""Kill the server with SIGKILL in the middle of a burst of feedback: every acknowledged submission survives."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from gallery.feedback.store import FEEDBACK_FILE
from tests.robustness.conftest import make_tree, start, stop

URL = "/api/demos/education/echo/feedback"
WRITERS = 6
KILL_AFTER = 120  # acknowledged submissions before the kill


def test_every_acknowledged_feedback_survives_sigkill(tmp_path: Path) -> None:
    demos = make_tree(tmp_path)
    options = ("--demo", "education/echo", "--no-standalone-pages", "--rate-limit", "0")
    server = start(tmp_path, demos, *options)
    acked: dict[int, str] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(100_000):
                comment = f"w{worker}-{i}"
                try:
                    response = client.post(URL, json={"rating": "up" if i % 2 else "down", "comment": comment})
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{worker}: {type(exc).__name__}")
                    return
                if response.status_code != 201:
                    with lock:
                        failures.append(f"{worker}: HTTP {response.status_code} {response.text[:100]}")
                    return
                with lock:
                    acked[response.json()["id"]] = comment

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < KILL_AFTER and time.monotonic() < deadline and not failures:
        time.sleep(0.01)
    assert not failures, failures
    os.kill(server.process.pid, signal.SIGKILL)  # mid-burst: every writer still has a request going
    server.process.wait(timeout=10)
    for t in threads:
        t.join(timeout=20)
    assert server.process.returncode == -signal.SIGKILL
    assert len(acked) >= KILL_AFTER
    # Every writer stopped on a failed request: the burst was cut off, not finished.
    assert len(failures) == WRITERS and all("HTTP" not in f for f in failures), failures

    restarted = start(tmp_path, demos, *options)  # reopens (and recovers) the same database
    try:
        db = restarted.data / FEEDBACK_FILE
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(conn.execute("SELECT id, comment FROM feedback WHERE demo_id = 'education/echo'").fetchall())
        conn.close()
        missing = {i: c for i, c in acked.items() if stored.get(i) != c}
        assert not missing, f"{len(missing)} acknowledged submissions lost after SIGKILL: {list(missing.items())[:5]}"
        # Ids are never reused after a crash.
        after = httpx.post(restarted.url + URL, json={"rating": "up", "comment": "after restart"}, timeout=10)
        assert after.status_code == 201 and after.json()["id"] > max(acked)
    finally:
        stop(restarted)

    export = subprocess.run([sys.executable, "-m", "gallery", "feedback", "export", "--csv", "--data-dir",
                             str(restarted.data)], capture_output=True, text=True, timeout=60, check=True)
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(export.stdout))}
    assert all(rows[i]["comment"] == c and rows[i]["demo_id"] == "education/echo" for i, c in acked.items())
    assert rows[after.json()["id"]]["comment"] == "after restart"
    assert {r["rating"] for r in rows.values()} == {"up", "down"}
    assert len(rows) >= len(acked) + 1


@pytest.mark.parametrize("mode", ["journal_mode", "synchronous"])
def test_settings_that_make_it_durable(tmp_path: Path, mode: str) -> None:
    from gallery.feedback.store import _connect

    conn = _connect(tmp_path / FEEDBACK_FILE)
    value = conn.execute(f"PRAGMA {mode}").fetchone()[0]
    assert value == {"journal_mode": "wal", "synchronous": 2}[mode]
    conn.close()
