"""Kill the server with SIGKILL in the middle of a burst of feedback: every acknowledged submission survives, on
SQLite and on PostgreSQL."""

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
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from gallery.feedback.store import FEEDBACK_FILE, FeedbackStore
from tests.postgres import PostgresServer
from tests.robustness.conftest import make_tree, start, stop

URL = "/api/demos/education/echo/feedback"
WRITERS = 6
KILL_AFTER = 120  # acknowledged submissions before the kill


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The default SQLite file in the server's data dir, and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / FEEDBACK_FILE}"
    return request.getfixturevalue("postgres").database()


def test_every_acknowledged_feedback_survives_sigkill(tmp_path: Path, database_url: str) -> None:
    demos = make_tree(tmp_path)
    options = ("--demo", "education/echo", "--no-standalone-pages", "--rate-limit", "0", "--database-url", database_url)
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
        if database_url.startswith("sqlite"):
            conn = sqlite3.connect(restarted.data / FEEDBACK_FILE)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
        store = FeedbackStore(database_url)
        stored = {r["id"]: r["comment"] for r in store.rows("education/echo")}
        store.close()
        missing = {i: c for i, c in acked.items() if stored.get(i) != c}
        assert not missing, f"{len(missing)} acknowledged submissions lost after SIGKILL: {list(missing.items())[:5]}"
        # Ids are never reused after a crash.
        after = httpx.post(restarted.url + URL, json={"rating": "up", "comment": "after restart"}, timeout=10)
        assert after.status_code == 201 and after.json()["id"] > max(acked)
    finally:
        stop(restarted)

    export = subprocess.run([sys.executable, "-m", "gallery", "feedback", "export", "--csv", "--data-dir",
                             str(restarted.data), "--database-url", database_url],
                            capture_output=True, text=True, timeout=60, check=True)
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(export.stdout))}
    assert all(rows[i]["comment"] == c and rows[i]["demo_id"] == "education/echo" for i, c in acked.items())
    assert rows[after.json()["id"]]["comment"] == "after restart"
    assert {r["rating"] for r in rows.values()} == {"up", "down"}
    assert len(rows) >= len(acked) + 1


def test_a_database_that_is_down_answers_503_and_never_takes_demos_down(tmp_path: Path, postgres: PostgresServer) -> None:
    name = f"later_{uuid.uuid4().hex[:8]}"  # no such database yet: the server cannot reach its store
    server = start(tmp_path, make_tree(tmp_path), "--demo", "education/echo", "--no-standalone-pages",
                   "--database-url", postgres.url(name))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.post("/api/demos/education/echo", json={"text": "one two three"}).status_code == 200
            assert client.get("/readyz").status_code == 200
            refused = client.post(URL, json={"rating": "up", "comment": "while down"})
            assert refused.status_code == 503
            assert "feedback database is unavailable" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) > 0
            assert "password" not in refused.text and str(postgres.port) not in refused.text
            with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres",
                                 autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            stored = client.post(URL, json={"rating": "up", "comment": "once it is back"})  # no restart needed
            assert stored.status_code == 201, stored.text
        assert "Feedback database: UNAVAILABLE" in server.log_text()
    finally:
        stop(server)
    rows = list(FeedbackStore(postgres.url(name)).rows())
    assert [r["comment"] for r in rows] == ["once it is back"]
