"""Each demo's "Use via API" accordion in a real browser: every client's tab, with the address the page was opened
at (the server only knows its own; the page fills in the browser's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from gallery.discovery import discover
from gallery.manifest import SECTORS
from tests.conftest import ROOT

# One demo per sector: the first one with examples (the snippets send the first example).
DEMOS = [next(e.id for e in discover(ROOT / "demos").by_sector(sector) if e.manifest and e.manifest.examples)
         for sector in SECTORS]
TABS = ["curl", "Python (requests)", "Python (gradio_client)", "JavaScript (fetch)", "MCP (AI agents)"]


def other_host(gallery_url: str) -> str:
    """Return the gallery's address with localhost for 127.0.0.1, which the server never writes itself."""
    return gallery_url.replace("127.0.0.1", "localhost")


def expected_in(tab: str, base: str, demo_id: str) -> list[str]:
    """Return what each tab's code must contain for this page's address."""
    sector = demo_id.split("/")[0]
    return {"curl": [f"curl -s {base}/api/demos/{demo_id}"],
            "Python (requests)": [f"url = '{base}/api/demos/{demo_id}'"],
            "Python (gradio_client)": [f"Client('{base}/')", f"api_name='/{demo_id.replace('/', '-')}'"],
            "JavaScript (fetch)": [f'fetch("{base}/api/demos/{demo_id}"'],
            "MCP (AI agents)": [f'"url": "{base}/mcp/{sector}"', f'"{base}/mcp/{sector}"', '"command": "gallery"']}[tab]


def check_accordion(page: Page, scope: Locator, base: str, demo_id: str) -> None:
    """Open the accordion, then every tab, and check each shows code for `base`."""
    accordion = scope.locator(".om-api")
    accordion.get_by_text("Use via API", exact=True).click()
    for tab in TABS:
        accordion.get_by_role("tab", name=tab, exact=True).click()
        code = accordion.locator(".om-snippet").filter(visible=True)
        expect(code.first).to_be_visible()
        text = "\n".join(code.nth(i).inner_text() for i in range(code.count()))
        for fragment in expected_in(tab, base, demo_id):
            assert fragment in text, f"{demo_id} {tab}: {fragment!r} not in\n{text}"
        assert "127.0.0.1" not in text, f"{demo_id} {tab}: the server's own address was left in"
    expect(accordion.get_by_text(demo_id.replace("/", "_").replace("-", "_")).first).to_be_visible()


@pytest.mark.parametrize("demo_id", DEMOS)
def test_gallery_page_shows_snippets_for_its_address(page: Page, gallery_url: str, demo_id: str) -> None:
    base = other_host(gallery_url)
    page.goto(f"{base}/?demo={demo_id}")
    panel = page.locator(f"#om-tab-{demo_id.replace('/', '-')}")
    expect(panel.locator(".om-deeplink textarea, .om-deeplink input").first).to_have_value(f"{base}/?demo={demo_id}")
    check_accordion(page, panel, base, demo_id)


def test_standalone_page_shows_snippets_for_the_gallery_address(page: Page, gallery_url: str,
                                                                gallery_demos: Path) -> None:
    demo_id = DEMOS[2]
    base = other_host(gallery_url)
    page.goto(f"{base}/demo/{demo_id}/")
    expect(page.locator(".om-deeplink textarea, .om-deeplink input").first).to_have_value(f"{base}/?demo={demo_id}")
    check_accordion(page, page.locator("body"), base, demo_id)


def test_accordion_title_and_tabs_in_chinese(page: Page, gallery_url: str) -> None:
    demo_id = DEMOS[0]
    page.goto(f"{gallery_url}/?demo={demo_id}")
    page.evaluate("localStorage.setItem('om-lang', 'zh')")
    page.goto(f"{gallery_url}/?demo={demo_id}")
    accordion = page.locator(f"#om-tab-{demo_id.replace('/', '-')} .om-api")
    accordion.get_by_text("通过 API 使用", exact=True).click()
    expect(accordion.get_by_role("tab", name="MCP（AI 智能体）", exact=True)).to_be_visible()
