"""The "Use via API" snippets run as written (curl, requests, gradio_client, Node's fetch) against a live
`gallery run`, and return what `GalleryService` returns for the same example."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gallery.discovery import discover
from gallery.server import ServeConfig, default_cache_dir
from gallery.service import GalleryService
from gallery.snippets import Endpoints, Snippet, demo_snippets, example_files, fill_base_js
from tests.conftest import ROOT
from tests.serving import start_gallery, stop

FIXTURES = [(ROOT / "tests/core/fixtures/demos", "education/word-stats"),  # text and a number: JSON
            (ROOT / "tests/robustness/fixtures/demos", "education/echo"),  # text and a file: multipart, data URL
            (ROOT / "demos", "education/image-explorer")]  # a real model on an image
DEMOS = [demo_id for _, demo_id in FIXTURES]


@dataclass
class Live:
    """A running gallery, its demos folder, and a GalleryService on the same folder (the reference)."""

    url: str
    demos: Path
    service: GalleryService

    def snippets(self, demo_id: str) -> list[Snippet]:
        """Return the demo's snippets for this server's address."""
        manifest = self.service.entry(demo_id).manifest
        assert manifest is not None
        return demo_snippets(manifest, Endpoints(self.url))

    def code(self, demo_id: str, tab: str) -> str:
        """Return the one snippet of a tab."""
        [snippet] = [s for s in self.snippets(demo_id) if s.tab == tab]
        return snippet.code

    def expected(self, demo_id: str) -> dict[str, Any]:
        """Return what GalleryService gives for the demo's first example."""
        return self.service.run(demo_id, self.service.example_inputs(demo_id), allow_paths=True)

    def workdir(self, demo_id: str, where: Path) -> Path:
        """Return a folder holding the example files under the names the snippets use."""
        entry = self.service.entry(demo_id)
        assert entry.manifest is not None
        for name, source in example_files(entry.manifest, entry.path).items():
            shutil.copy(source, where / name)
        return where


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serve two fixture demos and one real one; build the reference service on the same folder."""
    root = tmp_path_factory.mktemp("snippets")
    demos = root / "demos"
    for source, demo_id in FIXTURES:
        shutil.copytree(source / demo_id, demos / demo_id, ignore=shutil.ignore_patterns("__pycache__"))
    process, url = start_gallery(demos, "--data-dir", str(root / "data"))
    cache = default_cache_dir()
    yield Live(url, demos, GalleryService.open(demos, cache))
    stop(process)


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("demo_id", DEMOS)
def test_curl_snippet_returns_the_service_result(live: Live, demo_id: str, tmp_path: Path) -> None:
    code = live.code(demo_id, "curl")
    blocks = [b for b in code.split("\n\n") if b.strip()]  # a file demo has a multipart and a JSON command
    assert len(blocks) == (2 if demo_id != "education/word-stats" else 1)
    for block in blocks:
        output = _run(["bash", "-o", "pipefail", "-c", block], live.workdir(demo_id, tmp_path))
        assert json.loads(output) == live.expected(demo_id), block


@pytest.mark.parametrize("demo_id", DEMOS)
@pytest.mark.parametrize("tab", ["requests", "gradio_client"])
def test_python_snippets_return_the_service_result(live: Live, demo_id: str, tab: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(live.workdir(demo_id, tmp_path))
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(None):
        exec(compile(live.code(demo_id, tab), f"<{tab} snippet>", "exec"), namespace)  # noqa: S102
    assert namespace["result"] == live.expected(demo_id)


@pytest.mark.parametrize("demo_id", DEMOS)
def test_fetch_snippet_runs_in_node(live: Live, demo_id: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    workdir = live.workdir(demo_id, tmp_path)
    (workdir / "call.mjs").write_text(live.code(demo_id, "fetch"))
    assert json.loads(_run([node, "call.mjs"], workdir)) == live.expected(demo_id)


def test_pages_show_the_same_snippets(live: Live) -> None:
    for demo_id in DEMOS:
        config = httpx.get(f"{live.url}/demo/{demo_id}/config", timeout=60).json()
        shown = [c["props"]["value"] for c in config["components"]
                 if "om-snippet" in (c["props"].get("elem_classes") or [])]
        assert shown == [s.code for s in live.snippets(demo_id)]  # the server's own address is the live one here
    mcp = live.snippets("education/echo")[-3:]
    assert [s.title for s in mcp] == ["api.mcp.vscode", "api.mcp.claude", "api.mcp.stdio"]
    assert json.loads(mcp[0].code) == {"servers": {"openmodels-education": {"type": "http",
                                                                           "url": f"{live.url}/mcp/education"}}}


def test_snippets_follow_the_server_settings() -> None:
    manifest = discover(ROOT / "demos", ["finance/banking-intent"]).entries[0].manifest
    assert manifest is not None
    assert ServeConfig(host="0.0.0.0", port=8000, root_path="/gallery").base_url() == "http://127.0.0.1:8000/gallery"
    secured: dict[str, str] = {}
    for snippet in demo_snippets(manifest, Endpoints("https://x.example/g", auth="bearer")):
        secured[snippet.tab] = secured.get(snippet.tab, "") + snippet.code
    assert "-H 'Authorization: Bearer TOKEN'" in secured["curl"] and "https://x.example/g/api/demos/" in secured["curl"]
    assert "headers={'Authorization': 'Bearer TOKEN'}" in secured["gradio_client"]
    assert '"Authorization": "Bearer TOKEN"' in secured["mcp"]
    off = demo_snippets(manifest, Endpoints(mcp=False))
    assert [s.title for s in off if s.tab == "mcp"] == ["api.mcp.stdio"]  # --no-mcp: only the local stdio server


@pytest.mark.parametrize(("href", "demo_id", "base"), [
    ("http://127.0.0.1:7860/?demo=finance/banking-intent", "finance/banking-intent", None),
    ("https://abc.gradio.live/?demo=finance/banking-intent#x", "finance/banking-intent", "https://abc.gradio.live"),
    ("https://school.example.org/gallery/demo/finance/banking-intent/", "finance/banking-intent",
     "https://school.example.org/gallery"),
    ("http://localhost:7860/gallery/", "finance/banking-intent", "http://localhost:7860/gallery"),
])
def test_page_script_fills_in_the_browser_address(href: str, demo_id: str, base: str | None, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    code = "curl -s http://127.0.0.1:7860/api/demos/finance/banking-intent\n'http://127.0.0.1:7860/'"
    script = (f"const window = {{ location: {{ href: {json.dumps(href)} }} }};\n"
              f"{fill_base_js('http://127.0.0.1:7860')}\n"
              f"const once = fillBase({json.dumps(code)}, apiBase({json.dumps(demo_id)}));\n"
              f"console.log(JSON.stringify([once, fillBase(once, apiBase({json.dumps(demo_id)}))]));")
    (tmp_path / "fill.js").write_text(script)
    once, twice = json.loads(_run([node, "fill.js"], tmp_path))
    assert once == twice == (code if base is None else code.replace("http://127.0.0.1:7860", base))


REAL_DEMOS = sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in (ROOT / "demos").glob("*/*/demo.yaml")
                    if not p.parent.parent.name.startswith("_"))


@pytest.fixture(scope="module")
def gallery_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serve the gallery's own demos, as a visitor meets them; the reference service runs the same folder."""
    root = tmp_path_factory.mktemp("snippets-gallery")
    demos = ROOT / "demos"
    process, url = start_gallery(demos, "--data-dir", str(root / "data"), timeout=240)
    cache = default_cache_dir()
    yield Live(url, demos, GalleryService.open(demos, cache))
    stop(process)


@pytest.mark.slow
@pytest.mark.parametrize("demo_id", REAL_DEMOS)
def test_every_demo_page_snippet_runs_as_printed(gallery_live: Live, demo_id: str, tmp_path: Path) -> None:
    """The curl and requests snippets of every demo in the gallery return what predict returns."""
    expected = gallery_live.expected(demo_id)
    workdir = gallery_live.workdir(demo_id, tmp_path)
    for block in [b for b in gallery_live.code(demo_id, "curl").split("\n\n") if b.strip()]:
        assert json.loads(_run(["bash", "-o", "pipefail", "-c", block], workdir)) == expected, block
    namespace: dict[str, Any] = {}
    with contextlib.chdir(workdir), contextlib.redirect_stdout(None):
        exec(compile(gallery_live.code(demo_id, "requests"), "<requests snippet>", "exec"), namespace)  # noqa: S102
    assert namespace["result"] == expected
