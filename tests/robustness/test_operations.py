"""Running the gallery as a service: /healthz, /readyz, /metrics, per-demo admission (503 + Retry-After), and a
graceful stop on SIGTERM, against real `gallery run` servers over HTTP."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gallery.cli import main
from gallery.logconfig import ProbeAccessFilter
from tests.conftest import ROOT
from tests.robustness.conftest import CORE_FIXTURES, HERE, Server, serve_app, start
from tests.robustness.slow_model import LOAD_SECONDS_ENV

OPS_FIXTURES = HERE / "fixtures" / "ops"
SLOW, LIGHT = "education/slow", "education/word-stats"
USER, PASSWORD = "ops", "probe-secret"


def ops_tree(root: Path) -> Path:
    """Copy the slow fixture demo and the light word-stats demo under root/demos; return it."""
    demos = root / "demos"
    shutil.copytree(OPS_FIXTURES, demos, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CORE_FIXTURES / "education" / "word-stats", demos / "education" / "word-stats",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return demos


def ops_env(load_seconds: float = 0) -> dict[str, str]:
    """Return the server environment: the slow model's factory importable, and how long it takes to load."""
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            LOAD_SECONDS_ENV: str(load_seconds)}


def sigterm(server: Server, timeout: float = 20) -> int:
    """Send SIGTERM and return the exit status (the server is killed if it does not stop in `timeout`)."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)
        raise AssertionError(f"the server did not stop within {timeout} s of SIGTERM:\n{server.log_text()}") from None


def metrics(url: str, **kwargs: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of /metrics by (name, sorted labels), parsed with prometheus_client's parser."""
    response = httpx.get(url + "/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def requests_total(samples: dict, demo: str, front_end: str, status: str) -> float:
    """Return openmodels_requests_total for one label set (0 when absent)."""
    key = ("openmodels_requests_total", (("demo", demo), ("front_end", front_end), ("status", status)))
    return samples.get(key, 0.0)


def queue(url: str, demo: str) -> dict[str, Any]:
    """Return the demo's queue from its status JSON."""
    return httpx.get(f"{url}/api/demos/{demo}", timeout=10).json()["queue"]


def wait_for_depth(url: str, demo: str, depth: int, timeout: float = 30) -> None:
    """Wait until the demo's queue holds `depth` requests (waiting + running)."""
    deadline = time.monotonic() + timeout
    while queue(url, demo)["depth"] < depth:
        assert time.monotonic() < deadline, f"{demo} never reached queue depth {depth}"
        time.sleep(0.05)


# -- a server with a small queue: --max-queue 2 in front of a demo that runs one call at a time ---------------


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `gallery run --max-queue 2 --max-wait 30` on the slow and word-stats fixture demos."""
    root = tmp_path_factory.mktemp("ops-server")
    server = start(root, ops_tree(root), "--max-queue", "2", "--max-wait", "30", "--rate-limit", "0",
                   env=ops_env())
    yield server
    if server.process.poll() is None:
        status = sigterm(server)
        assert status == 0, server.log_text()  # an idle server stops at once and cleanly


def test_healthz_and_readyz_answer_without_loading_anything(ops_server: Server) -> None:
    url = ops_server.url
    health = httpx.get(url + "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = httpx.get(url + "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"engine": "local", "demos": 2, "models": {"education/slow/sleeper": "not-loaded"}}
    head = httpx.head(url + "/healthz")
    assert head.status_code == 200 and head.content == b""
    post = httpx.post(url + "/readyz")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"


def test_flood_on_a_heavy_demo_is_refused_with_retry_after_while_a_light_demo_answers(ops_server: Server) -> None:
    url = ops_server.url
    httpx.post(f"{url}/api/demos/{SLOW}", json={"text": "warm", "seconds": 0.1}, timeout=60)  # loads its model
    done: dict[str, float] = {}
    seen_depth: list[int] = []

    def heavy(i: int) -> httpx.Response:
        # 3 s each: all 8 arrive while the first still runs, even on a machine busy with other work.
        response = httpx.post(f"{url}/api/demos/{SLOW}", json={"text": "flood", "seconds": 3.0}, timeout=60)
        done[f"heavy-{i}"] = time.monotonic()
        return response

    with ThreadPoolExecutor(8) as pool:
        flood = [pool.submit(heavy, i) for i in range(8)]
        wait_for_depth(url, SLOW, 2)
        light = httpx.post(f"{url}/api/demos/{LIGHT}", json={"text": "a b a"}, timeout=60)
        light_done = time.monotonic()
        seen_depth.append(queue(url, SLOW)["depth"])
        responses = [f.result() for f in flood]

    assert light.status_code == 200 and light.json()["words"] == 3
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 503]
    assert len(accepted) == 3 and len(refused) == 5, [r.status_code for r in responses]  # 1 running + 2 waiting
    for response in refused:
        body = response.json()
        assert int(response.headers["retry-after"]) >= 1
        assert body["demo"] == SLOW and body["retry_after"] == int(response.headers["retry-after"])
        assert "queue is full" in body["reason"] and body["detail"].startswith(f"demo {SLOW} is busy")
    # The light demo answered while the heavy demo's queue was still working through the flood.
    assert light_done < max(done.values())
    assert 1 <= max(seen_depth) <= 3
    state = queue(url, SLOW)
    assert state["max_queue"] == 2 and state["concurrency"] == 1 and state["depth"] == 0
    assert state["p50_ms"] is not None


def test_the_ui_path_refuses_a_busy_demo_with_a_clear_message(ops_server: Server) -> None:
    from gradio_client import Client

    url = ops_server.url
    client = Client(url + "/", verbose=False)
    with ThreadPoolExecutor(3) as pool:
        fill = [pool.submit(httpx.post, f"{url}/api/demos/{SLOW}", json={"text": "fill", "seconds": 2.0}, timeout=60)
                for _ in range(3)]
        wait_for_depth(url, SLOW, 3)  # 1 running + 2 waiting: full
        with pytest.raises(Exception) as refused:
            client.predict(text="ui", seconds=0.1, api_name="/education-slow")
        assert all(f.result().status_code == 200 for f in fill)
    message = str(refused.value)
    assert f"demo {SLOW} is busy: its queue is full" in message and "try again in" in message
    # The client sent no language (no om-lang cookie, no Accept-Language): the page's default, English only.
    assert "此演示正忙" not in message and "繁忙" not in message
    assert "Traceback" not in message
    assert client.predict(text="one two", top_n=1, api_name="/education-word-stats")["words"] == 2
    samples = metrics(url)
    assert requests_total(samples, SLOW, "ui", "busy") == 1
    assert requests_total(samples, LIGHT, "ui", "ok") >= 1


def test_metrics_count_requests_by_demo_front_end_and_outcome(ops_server: Server) -> None:
    url = ops_server.url
    before = metrics(url)
    for _ in range(3):
        assert httpx.post(f"{url}/api/demos/{LIGHT}", json={"text": "x y"}).status_code == 200
    assert httpx.post(f"{url}/api/demos/{LIGHT}", json={"top_n": 2}).status_code == 422
    assert httpx.post(f"{url}/api/demos/{SLOW}", json={"text": "m", "seconds": 0.05}).status_code == 200
    after = metrics(url)

    def grew(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert requests_total(after, LIGHT, "api", "ok") - requests_total(before, LIGHT, "api", "ok") == 3
    assert requests_total(after, LIGHT, "api", "invalid") - requests_total(before, LIGHT, "api", "invalid") == 1
    assert grew(("openmodels_request_seconds_count", (("demo", LIGHT),))) == 3  # refusals are not timed
    assert grew(("openmodels_request_seconds_count", (("demo", SLOW),))) == 1
    assert after[("openmodels_request_seconds_sum", (("demo", SLOW),))] > 0
    assert after[("openmodels_queue_depth", (("demo", SLOW),))] == 0
    assert after[("openmodels_queue_depth", (("demo", LIGHT),))] == 0
    assert after[("openmodels_models_loaded", ())] == 1
    assert ("openmodels_model_load_seconds", (("model", "education/slow/sleeper"), ("variant", "none"))) in after
    assert after[("openmodels_resident_memory_bytes", ())] > 10 * 2**20
    assert after[("process_resident_memory_bytes", ())] > 0


def test_probe_access_lines_are_debug_only() -> None:
    access = logging.getLogger("uvicorn.access")
    level = access.level

    def line(path: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                 ("127.0.0.1:1", "GET", path, "1.1", 200), None)

    try:
        access.setLevel(logging.INFO)
        assert not ProbeAccessFilter().filter(line("/healthz"))
        assert not ProbeAccessFilter().filter(line("/gallery/metrics"))  # behind --root-path
        assert ProbeAccessFilter().filter(kept := line("/api/demos")) and kept.levelno == logging.INFO
        access.setLevel(logging.DEBUG)
        assert ProbeAccessFilter().filter(shown := line("/readyz?x=1")) and shown.levelname == "DEBUG"
    finally:
        access.setLevel(level)


# -- auth around the endpoints: apps in this process, each with its own metrics registry ---------------------


@pytest.fixture(scope="module")
def ops_demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture demos, for in-process apps."""
    return ops_tree(tmp_path_factory.mktemp("ops-apps"))


def _app(demos: Path, **options: Any) -> Any:
    """Return a gallery app on the light demo only, with these ServeConfig options."""
    from gallery.server import ServeConfig, create_app

    root = demos.parent
    app, _ = create_app(ServeConfig(demos_dir=demos, cache_dir=root / "cache", data_dir=root / "data",
                                    rate_limit=None, select=[LIGHT], **options))
    return app


def _basic() -> dict[str, str]:
    """Return the HTTP Basic header of the test user."""
    return {"authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def test_probes_are_open_and_metrics_need_credentials_with_auth(ops_demos: Path) -> None:
    private = _app(ops_demos, auth=(USER, PASSWORD), api_token="probe-token-123")
    public = _app(ops_demos, auth=(USER, PASSWORD), metrics_public=True)
    with serve_app(private) as url, serve_app(public) as public_url:
        for path in ("/healthz", "/readyz"):
            assert httpx.get(url + path).status_code == 200
        assert httpx.get(url + "/api/demos").status_code == 401
        refused = httpx.get(url + "/metrics")
        assert refused.status_code == 401 and "openmodels" not in refused.text
        assert httpx.post(f"{url}/api/demos/{LIGHT}", json={"text": "a"}, headers=_basic()).status_code == 200
        with_basic = metrics(url, headers=_basic())
        with_token = metrics(url, headers={"authorization": "Bearer probe-token-123"})
        assert requests_total(with_basic, LIGHT, "api", "ok") == requests_total(with_token, LIGHT, "api", "ok") == 1
        # The other app counts on its own registry.
        assert requests_total(metrics(public_url), LIGHT, "api", "ok") == 0
        assert httpx.get(public_url + "/api/demos").status_code == 401


def test_no_metrics_means_no_metrics_endpoint(ops_demos: Path) -> None:
    with serve_app(_app(ops_demos, metrics=False)) as url:
        assert httpx.get(url + "/metrics").status_code == 404
        assert httpx.get(url + "/healthz").status_code == 200


def test_cli_rejects_bad_queue_and_wait_options(capsys: pytest.CaptureFixture[str]) -> None:
    for option, value in (("--max-queue", "-1"), ("--max-queue", "lots"), ("--max-wait", "0"),
                          ("--shutdown-timeout", "soon")):
        with pytest.raises(SystemExit) as stopped:
            main(["run", option, value])
        assert stopped.value.code == 2
        assert option in capsys.readouterr().err


# -- readiness during --preload, and a graceful stop ----------------------------------------------------------


def test_readyz_waits_for_preload_and_sigterm_lets_a_running_request_finish(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("ops-stop")
    server = start(root, ops_tree(root), "--preload", "--no-metrics", "--shutdown-timeout", "15", "--rate-limit", "0",
                   env=ops_env(load_seconds=4), verbose=True)
    try:
        first = httpx.get(server.url + "/readyz")
        assert first.status_code == 503, first.text
        assert first.json()["missing"] in (["model education/slow/sleeper is not-loaded"],
                                           ["model education/slow/sleeper is loading"])
        deadline = time.monotonic() + 60
        while (ready := httpx.get(server.url + "/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.2)
        assert ready.json()["models"] == {"education/slow/sleeper": "ready"}
        assert httpx.get(server.url + "/metrics").status_code == 404

        result: dict[str, Any] = {}

        def slow_call() -> None:
            result["response"] = httpx.post(f"{server.url}/api/demos/{SLOW}", json={"text": "x", "seconds": 3},
                                            timeout=60)
            result["answered"] = time.monotonic()

        def open_page_heartbeat() -> None:  # what an open browser tab holds: an endless event stream
            with httpx.stream("GET", f"{server.url}/gradio_api/heartbeat/ops-tab", timeout=60) as stream:
                result["heartbeat"] = stream.status_code
                for _ in stream.iter_bytes():
                    pass
            result["heartbeat_closed"] = time.monotonic()

        threads = [threading.Thread(target=open_page_heartbeat), threading.Thread(target=slow_call)]
        for thread in threads:
            thread.start()
        wait_for_depth(server.url, SLOW, 1)
        status = sigterm(server)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert status == 0, server.log_text()
    response = result["response"]
    assert response.status_code == 200 and response.json()["slept"] == 3
    # The tab's stream was closed at the stop, not left to hold it until --shutdown-timeout.
    assert result["heartbeat"] == 200 and result["heartbeat_closed"] < result["answered"]
    log = server.log_text()
    assert "feedback database closed" in log and "Traceback" not in log
