"""Every demo through `gallery run --engine ray` (make test-deploy): its first example through the JSON API and in
Chromium, as on one machine. Ray, its replicas and the gallery are started by the test and stopped after it."""

from __future__ import annotations

import base64
import mimetypes
import shutil
import time
from typing import Any, Iterator

import httpx
import pytest

from gallery.discovery import discover
from gallery.iotypes import FILE_TYPES
from gallery.manifest import Manifest
from tests.conftest import ARTIFACTS, ROOT
from tests.serving import launch_gallery, stop

ENTRIES = [e for e in discover(ROOT / "demos").entries if e.manifest is not None and e.manifest.examples]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def api_body(manifest: Manifest, folder: Any) -> dict[str, Any]:
    """Return the first example as a JSON API body, files as data URLs."""
    body = manifest.example_values(0)
    for spec in manifest.inputs:
        value = body.get(spec.name)
        if spec.type in FILE_TYPES and isinstance(value, str):
            path = folder / value
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            body[spec.name] = f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return body


@pytest.fixture(scope="module")
def ray_gallery() -> Iterator[str]:
    """Serve every demo on a local Ray (a deployment per heavy demo, the light pool); wait for /readyz."""
    process, url = launch_gallery(ROOT / "demos", "--engine", "ray", log=ARTIFACTS / f"ray-gallery-{time.time_ns()}.log",
                                  ready_path="/readyz", timeout=900)
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Launch headless Debian Chromium for this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def test_readyz_reports_the_ray_engine_and_its_deployments(ray_gallery: str) -> None:
    ready = httpx.get(f"{ray_gallery}/readyz", timeout=30).json()
    assert ready["engine"] == "ray" and ready["demos"] == len(discover(ROOT / "demos").available)
    assert {"light-demos", "demo-healthcare--clinical-dictation"} <= set(ready["deployments"])


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_the_demo_answers_through_ray_in_the_api_and_in_chromium(ray_gallery: str, browser: Any, entry: Any) -> None:
    from playwright.sync_api import expect

    manifest = entry.manifest
    response = httpx.post(f"{ray_gallery}/api/demos/{entry.id}", json=api_body(manifest, entry.path), timeout=600)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), dict) and response.json()
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(60_000)
        page.goto(f"{ray_gallery}/demo/{entry.id}/")
        page.locator(".om-run").first.click()  # the form opens with the first example
        expect(page.locator(".om-ran").first).to_contain_text(" ms", timeout=300_000)
        expect(page.locator(".toast-body")).to_have_count(0)
    finally:
        page.close()
