"""A real gallery server (subprocess) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS, ROOT
from tests.serving import start_gallery, stop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ARTIFACTS / "screenshots"
BROKEN_FIXTURE = ROOT / "tests" / "core" / "fixtures" / "demos" / "finance" / "import-error"


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
        # Parametrized ids hold demo ids ("finance/x"): keep the file name flat.
        name = re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    finally:
        context.close()

# A page that is still loading on a busy machine (CI, two cores shared by Ray, Chromium and the gallery) is not a
# failure: assertions wait up to 20 s for the page to get there, instead of Playwright's 5 s.
expect.set_options(timeout=20_000)
