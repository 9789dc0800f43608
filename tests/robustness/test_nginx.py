"""The nginx block of docs/DEPLOY.md, run for real in front of `gallery run --root-path /gallery`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.robustness.conftest import Server, make_tree, start, stop
from tests.serving import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"
BLOCK = re.compile(r"```nginx\n(.*?)```", re.S)


def documented_block() -> str:
    """Return the one nginx block of docs/DEPLOY.md."""
    blocks = BLOCK.findall(DEPLOY.read_text(encoding="utf-8"))
    assert len(blocks) == 1, "docs/DEPLOY.md should hold exactly one ```nginx block"
    return str(blocks[0])


def nginx_conf(root: Path, listen: int, upstream: int) -> str:
    """Wrap the documented block in a minimal nginx.conf whose files all live under `root`."""
    block = documented_block()
    assert "listen 8080;" in block and "server 127.0.0.1:7860;" in block
    block = block.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    block = block.replace("server 127.0.0.1:7860;", f"server 127.0.0.1:{upstream};")
    temp = "\n".join(f"    {kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers would run as nobody, who cannot read root's folders
    return (f"{user}daemon off;\npid {root / 'nginx.pid'};\nerror_log {root / 'error.log'} info;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {root / 'access.log'};\n{temp}\n{block}\n}}\n")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    """Start a gallery under /gallery and nginx in front of it with the documented block; yield nginx's URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: `make install-test` installs Debian's nginx package")
    root = tmp_path_factory.mktemp("nginx")
    server = start(root, make_tree(root), "--root-path", "/gallery", "--demo", "education/echo")
    conf_dir = root / "nginx"
    conf_dir.mkdir()
    port = free_port()
    (conf_dir / "nginx.conf").write_text(nginx_conf(conf_dir, port, int(server.url.rsplit(":", 1)[1])))
    process = subprocess.Popen([nginx, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(base + "/gallery/healthz", timeout=2)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                stop(server)
                pytest.fail(f"nginx did not start: {output}\n{(conf_dir / 'error.log').read_text(errors='replace')}")
            time.sleep(0.1)
    yield base, server
    process.terminate()
    process.wait(timeout=10)
    stop(server)


def test_pages_api_and_probes_answer_through_the_proxy(proxied: tuple[str, Server]) -> None:
    base, _ = proxied
    with httpx.Client(base_url=base, timeout=30) as client:
        moved = client.get("/gallery", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"].endswith("/gallery/")
        page = client.get("/gallery/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        # Gradio tells the browser its public root: nginx's host and port, under the prefix.
        assert client.get("/gallery/config").json()["root"] == f"{base}/gallery"
        assert client.get("/gallery/demo/education/echo/config").json()["root"] == f"{base}/gallery/demo/education/echo"
        assert client.get("/gallery/readyz").status_code == 200
        result = client.post("/gallery/api/demos/education/echo", json={"text": "one two three"})
        assert result.status_code == 200 and result.json()["summary"]["words"] == 3
        refused = client.post("/gallery/api/demos/education/echo", json={"text": ""})
        assert refused.status_code == 422 and "text" in refused.json()["detail"]
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        mcp = client.post("/gallery/mcp/education", json=initialize,
                          headers={"accept": "application/json, text/event-stream"})
        assert mcp.status_code == 200


def test_a_queued_gradio_call_streams_through_the_proxy(proxied: tuple[str, Server]) -> None:
    from gradio_client import Client

    base, _ = proxied
    gradio = Client(f"{base}/gallery/demo/education/echo/", verbose=False)
    try:
        assert gradio.predict(text="through nginx", doc=None, api_name="/education-echo")["summary"]["words"] == 2
    finally:
        gradio.close()
