"""Nothing from a request reaches the logs beyond demo id, sizes and timings, unless the operator asks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from gallery.logconfig import (
    AccessLogQueryFilter,
    install_access_log_filter,
    log_inputs_enabled,
    set_log_inputs,
)
from tests.robustness.conftest import Server, make_tree, serve_app
from tests.serving import free_port

MARKER = "ZQX-secret-marker-4242"
URL = "/api/demos/education/echo"
CLIENT_LOGGERS = ("httpx", "httpcore", "gradio_client")


def _send_marked_requests(client: httpx.Client, base_url: str) -> None:
    """Carry MARKER in every part of a request that could be logged, through every front end."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    assert client.post(URL, json={"text": f"hello {MARKER}"}).status_code == 200
    assert client.post(URL, json={"text": f"fail: {MARKER}"}).status_code == 500  # the demo quotes its input
    assert client.post(URL, json={"text": MARKER * 100}).status_code == 422  # too long
    assert client.post(URL, json={"text": "x", MARKER: 1}).status_code == 422  # unknown field
    assert client.post(URL, content=f"{{{MARKER}".encode(), headers={"content-type": "application/json"}).status_code == 400
    assert client.post(URL, data={"text": MARKER}, files={"doc": (f"{MARKER}.txt", MARKER.encode())}).status_code == 200
    assert client.get(f"/api/demos?q={MARKER}", headers={"user-agent": MARKER}).status_code == 200
    assert client.get(f"/?demo={MARKER}").status_code == 200
    feedback = {"rating": "up", "comment": MARKER, "include_io": True, "input": {"text": MARKER}}
    assert client.post(URL + "/feedback", json=feedback).status_code == 201
    assert client.post(URL + "/feedback", json={"rating": MARKER}).status_code == 422
    gradio = Client(base_url + "/", verbose=False, headers={"x-forwarded-for": "10.0.4.9"})
    try:
        assert gradio.predict(text=f"via gradio {MARKER}", doc=None, api_name="/education-echo")["summary"]["words"] == 3
        with pytest.raises(AppError, match="RuntimeError"):
            gradio.predict(text=f"fail: {MARKER}", doc=None, api_name="/education-echo")
    finally:
        gradio.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> object:
    from gallery.server import ServeConfig, create_app

    root = tmp_path_factory.mktemp("logging")
    app, _ = create_app(ServeConfig(demos_dir=make_tree(root), cache_dir=root / "cache", data_dir=root / "data",
                                    rate_limit=None, select=["education/echo"], standalone_pages=False))
    return app


@pytest.fixture()
def content_logging_off() -> Iterator[None]:
    before = log_inputs_enabled()
    set_log_inputs(False)
    yield
    set_log_inputs(before)


def test_server_log_of_gallery_run_has_no_request_content(echo_server: Server) -> None:
    with echo_server.client("10.0.4.1") as client:
        _send_marked_requests(client, echo_server.url)
    time.sleep(0.5)  # let the server's last log lines reach the file
    log = echo_server.log_text()
    # The log is there and says what happened (ids, sizes, timings, failure type and place)...
    assert "demo education/echo: API request" in log and " ms" in log
    assert "demo education/echo: predict failed: RuntimeError; message hidden" in log
    assert "feedback" in log and "stored (up)" in log
    # ...but nothing the requests carried.
    assert MARKER not in log


def test_in_process_logs_have_no_request_content(app: object, caplog: pytest.LogCaptureFixture,
                                                 content_logging_off: None) -> None:
    caplog.set_level(logging.DEBUG)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        _send_marked_requests(client, url)
    # The test's own HTTP clients log the URLs they fetch; only what the server side logs counts.
    server_side = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    text = "\n".join(caplog.handler.format(r) for r in server_side)
    assert "demo education/echo: predict failed: RuntimeError" in text
    assert MARKER not in text


def test_log_inputs_turns_content_logging_on(app: object, caplog: pytest.LogCaptureFixture,
                                             content_logging_off: None) -> None:
    set_log_inputs(True)
    caplog.set_level(logging.INFO)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post(URL, json={"text": f"logged {MARKER}"}).status_code == 200
        assert client.post(URL, json={"text": f"fail: {MARKER}"}).status_code == 500
    assert f"demo education/echo: inputs text='logged {MARKER}'" in caplog.text
    assert f"cannot handle 'fail: {MARKER}'" in caplog.text  # the failure's message, with --log-inputs


def test_cli_has_log_inputs_switch() -> None:
    from gallery.cli import build_parser

    assert build_parser().parse_args(["run", "--log-inputs"]).log_inputs is True
    assert build_parser().parse_args(["run"]).log_inputs is None  # then OPENMODELS_LOG_INPUTS decides


def test_access_log_hides_query_strings(app: object, caplog: pytest.LogCaptureFixture,
                                        content_logging_off: None) -> None:
    install_access_log_filter()
    port = free_port()
    # Building the config applies uvicorn's logging setup (as `gallery run` does); the filter must survive it.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True))
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, AccessLogQueryFilter) for f in access.filters)
    access.addHandler(caplog.handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/api/demos?token={MARKER}").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/?demo={MARKER}").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(caplog.handler)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any('"GET /api/demos?<query hidden> HTTP/1.1" 200' in line for line in lines), lines
    assert not any(MARKER in line for line in lines)


def test_access_log_filter_leaves_other_records_alone() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/config", "1.1", 200), None)
    assert AccessLogQueryFilter().filter(record) and record.getMessage() == '127.0.0.1:1 - "GET /config HTTP/1.1" 200'
    other = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("a?b",), None)
    assert AccessLogQueryFilter().filter(other) and other.getMessage() == "plain a?b"
