"""`gallery run --root-path /gallery` behind a proxy that strips the prefix: the gallery and every standalone page
answer at the stripped paths, and both tell the browser their public URLs under the prefix."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.serving import start_gallery, stop


def test_gallery_and_standalone_pages_work_behind_a_prefix_stripping_proxy(demo_tree: Path, tmp_path: Path) -> None:
    process, url = start_gallery(demo_tree, "--root-path", "/gallery", "--cache-dir", str(tmp_path / "cache"),
                                 "--data-dir", str(tmp_path / "data"))
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/").status_code == 200
            assert client.get("/config").json()["root"].endswith("/gallery")
            demos = [d["id"] for d in client.get("/api/demos").json() if d.get("status") != "unavailable"]
            assert "education/word-stats" in demos
            page = client.get("/demo/education/word-stats/")
            assert page.status_code == 200 and "<html" in page.text.lower()
            config = client.get("/demo/education/word-stats/config")
            assert config.status_code == 200
            assert config.json()["root"].endswith("/gallery/demo/education/word-stats")
            assert client.get("/demo/education/word-stats/gradio_api/info").status_code == 200
            moved = client.get("/demo/education/word-stats", follow_redirects=False)
            assert moved.status_code in (301, 307, 308)
            assert moved.headers["location"].endswith("/gallery/demo/education/word-stats/")
            assert client.get("/demo/no/such-demo/").status_code == 404
            # The MCP endpoint answers at the stripped path too.
            initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
            mcp = client.post("/mcp/education", json=initialize,
                              headers={"accept": "application/json, text/event-stream"})
            assert mcp.status_code == 200 and mcp.json()["result"]["serverInfo"]["name"] == "openmodels-gallery-education"
    finally:
        stop(process)
