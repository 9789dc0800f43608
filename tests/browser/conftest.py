"""A real gallery server (subprocess) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.serving import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ARTIFACTS / "screenshots"
BROKEN_FIXTURE = ROOT / "tests" / "core" / "fixtures" / "demos" / "finance" / "import-error"


def start_gallery(demos_dir: Path, *extra: str, timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """Start `gallery run` on a free port and wait until it answers."""
    port = free_port()
    log = open(ARTIFACTS / f"server-{port}.log", "w")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "gallery", "run", "--demos-dir", str(demos_dir), "--port", str(port), *extra],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gallery exited with {process.returncode}; see {log.name}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.25)
    process.kill()
    raise RuntimeError(f"gallery did not answer on {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by start_gallery."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def gallery_demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a demos tree: every real demo plus one broken fixture demo."""
    root = tmp_path_factory.mktemp("browser") / "demos"
    shutil.copytree(ROOT / "demos", root, ignore=shutil.ignore_patterns("__pycache__", "_template"))
    shutil.copytree(BROKEN_FIXTURE, root / "finance" / "import-error")
    return root


@pytest.fixture(scope="session")
def gallery_url(gallery_demos: Path) -> Iterator[str]:
    """Serve the gallery for the whole browser session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    process, url = start_gallery(gallery_demos)
    yield url
    stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Launch headless Debian Chromium once per session."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, request) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Open a fresh English page; save a screenshot named after the test when it ends."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=False)
    finally:
        context.close()
