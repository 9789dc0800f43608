"""Home's cards, chips and order in Chromium; every page fits a phone (390x844); the screenshots in docs/screenshots/."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from gallery.discovery import discover
from tests.conftest import ROOT

SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
# One demo per sector, each quick on a laptop's CPU, showing a different kind of result.
SHOWCASE = {"healthcare": "healthcare/health-faq", "education": "education/image-explorer",
            "finance": "finance/banking-intent", "transport": "transport/ridership-forecast"}
# The demos run first, so Home's cards then show measured facts (runs, p50).
PAGES = [*SHOWCASE.values(), "home"]
CJK = re.compile(r"[\u4e00-\u9fff]")

# Content that sticks out past the right edge, except inside something that scrolls sideways on purpose (a table,
# a row of chips, the tab bar, whose tabs that do not fit wait in its "…" menu): Gradio's container hides horizontal overflow, so scrollWidth alone would not see it.
CLIPPED_JS = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (e) => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (['auto', 'scroll'].includes(style.overflowX) || a.getAttribute('role') === 'tablist'
          || a.classList.contains('tab-container')) return true; }
    return false; };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= width + 1 || !e.checkVisibility()) continue;
    if (getComputedStyle(e).visibility === 'hidden' || scrolls(e)) continue;
    out.push(`${e.tagName}.${String(e.className).slice(0, 40)} ends at ${Math.round(box.right)} px: ` +
             `"${(e.textContent || '').trim().slice(0, 40)}"`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def real_gallery_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the real demos only (no broken fixture demo), as a visitor sees the gallery: the screenshots' server."""
    import shutil

    from tests.serving import start_gallery, stop

    demos = tmp_path_factory.mktemp("real") / "demos"
    shutil.copytree(ROOT / "demos", demos, ignore=shutil.ignore_patterns("__pycache__", "_template"))
    process, url = start_gallery(demos)
    yield url
    stop(process)


@pytest.fixture()
def new_page(browser: Browser) -> Iterator[object]:
    """Return a function opening a page at a viewport in a language; close them all at the end."""
    contexts = []

    def make(viewport: dict[str, int], lang: str) -> Page:
        context = browser.new_context(locale=LOCALES[lang], viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


def run_through_the_api(gallery_url: str, demo_id: str) -> None:
    """Run a demo's first example once through the JSON API (it then counts on Home, and its model is warm)."""
    import httpx

    from gallery.describe import request_example

    manifest = discover(ROOT / "demos", [demo_id]).entries[0].manifest
    assert manifest is not None
    response = httpx.post(f"{gallery_url}/api/demos/{demo_id}", json=request_example(manifest), timeout=240)
    assert response.status_code == 200, response.text


def open_page(page: Page, gallery_url: str, name: str, lang: str) -> None:
    """Open Home, or a demo with its first example run, in `lang`."""
    page.goto(f"{gallery_url}/?demo={name}&lang={lang}" if name != "home" else f"{gallery_url}/?lang={lang}")
    # The page has loaded once its language switch shows the language (Home's cards are rendered in it then).
    expect(page.locator("#om-lang input:checked")).to_have_value("中文" if lang == "zh" else "English", timeout=60_000)
    if name == "home":
        expect(page.locator(f'.om-home[data-lang="{lang}"] .om-card').first).to_be_visible()
        return
    panel = page.locator(f"#om-tab-{name.replace('/', '-')}")
    expect(panel.locator(".om-run")).to_be_visible()
    panel.locator(".om-run").click()
    expect(panel.locator(".om-ran").first).to_contain_text(" ms", timeout=240_000)  # the result and what ran
    expect(page.locator(".toast-body")).to_have_count(0)
    page.wait_for_timeout(1500)  # Gradio fades the views in as they update: a screenshot shows them in full


def save_screenshot(page: Page, path: Path) -> None:
    """Save the viewport as a small PNG (a 128-colour palette: a tenth of the size, the text still crisp)."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def shot_name(name: str, lang: str, device: str) -> str:
    return f"{name.split('/')[0] if name != 'home' else 'home'}-{lang}-{device}.png"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_without_sideways_scrolling(new_page, real_gallery_url: str, name: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(PHONE, lang)
    open_page(page, real_gallery_url, name, lang)
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{name} ({lang}) scrolls sideways on a phone: {width} > {client}"
    clipped = page.evaluate(CLIPPED_JS)
    assert clipped == [], "\n".join(clipped)
    save_screenshot(page, SCREENSHOTS / shot_name(name, lang, "mobile"))
    # The check sees content cut off by the page's hidden overflow (so it can fail).
    page.evaluate("document.querySelector('.gradio-container').insertAdjacentHTML('beforeend', "
                  "'<p id=om-wide style=\"width: 900px\">too wide</p>')")
    assert any("too wide" in line for line in page.evaluate(CLIPPED_JS))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", PAGES)
def test_desktop_screenshot(new_page, real_gallery_url: str, name: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(DESKTOP, lang)
    if name == "home":
        run_through_the_api(real_gallery_url, SHOWCASE["healthcare"])
    open_page(page, real_gallery_url, name, lang)
    if name == "home":
        # The demo ran: its card says how fast it was, measured on this server, and that its model is loaded.
        card = page.locator(f'.om-card[data-demo="{SHOWCASE["healthcare"]}"]')
        expect(card.locator('[data-fact="p50"]')).to_contain_text(re.compile(r"\d+(\.\d)? ms"))
        # Its English model is loaded now (a Chinese question would load its multilingual one).
        expect(card.locator('[data-warm="warm"], [data-warm="partial"]')).to_have_count(1)
    save_screenshot(page, SCREENSHOTS / shot_name(name, lang, "desktop"))


def test_screenshots_stay_small() -> None:
    files = sorted(SCREENSHOTS.glob("*.png"))
    assert len(files) >= 4 * len(PAGES), [f.name for f in files]  # two languages, two devices
    assert sum(f.stat().st_size for f in files) < 3_000_000


def test_cards_speak_one_language(new_page, gallery_url: str) -> None:  # type: ignore[no-untyped-def]
    for lang in ("en", "zh"):
        page = new_page(DESKTOP, lang)
        open_page(page, gallery_url, "home", lang)
        # What the gallery says on the cards (a summary may quote Chinese: the pinyin tutor's 多音字).
        said = page.locator(".om-card :is(h3, .om-meta, .om-langs, .om-facts, .om-more summary)").all_inner_texts()
        assert said and all(bool(CJK.search(text)) == (lang == "zh") for text in said), said
        card = page.locator(f'.om-card[data-demo="{SHOWCASE["healthcare"]}"]')
        expect(card.locator(".om-icon")).to_be_visible()
        expect(card.locator(".om-lang-badge")).to_have_text(["English", "Chinese"] if lang == "en" else ["英文", "中文"])
        expect(card.locator(".om-meta")).to_contain_text("Healthcare" if lang == "en" else "医疗健康")


def test_card_titles_are_drawn_in_one_font(new_page, gallery_url: str) -> None:  # type: ignore[no-untyped-def]
    """Each title in one font: Gradio's semibold face alone had a few glyphs, mixed letter by letter with another."""
    page = new_page(DESKTOP, "en")
    open_page(page, gallery_url, "home", "en")
    page.evaluate("document.fonts.ready")
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    titles = session.send("DOM.querySelectorAll", {"nodeId": root, "selector": ".om-card h3 a"})["nodeIds"]
    assert titles
    for node in titles:
        fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        assert len(fonts) == 1, fonts


def test_chips_filter_and_the_order_follows_use(new_page, gallery_url: str, gallery_demos: Path) -> None:  # type: ignore[no-untyped-def]
    run_through_the_api(gallery_url, "finance/banking-intent")
    page = new_page(DESKTOP, "en")
    open_page(page, gallery_url, "home", "en")
    finance = {e.id for e in discover(gallery_demos).by_sector("finance") if e.id != "finance/import-error"}
    available = page.locator(".om-card:not(.om-unavailable)")
    page.locator("#om-filter-sector").get_by_text("Finance", exact=True).click()
    expect(available).to_have_count(len(finance))
    assert {available.nth(i).get_attribute("data-demo") for i in range(available.count())} == finance
    page.locator("#om-filter-sector").get_by_text("Finance", exact=True).click()  # off again: every demo
    page.locator("#om-filter-language").get_by_text("Chinese", exact=True).click()
    expect(page.locator('.om-card[data-demo="finance/news-sentiment"]')).to_have_count(0)  # English only
    expect(page.locator('.om-card[data-demo="finance/banking-intent"]')).to_have_count(1)  # English and Chinese
    expect(page.locator('.om-card[data-demo="finance/receipt-scanner"]')).to_have_count(1)
    expect(page.locator('.om-card[data-demo="transport/vehicle-recognizer"]')).to_have_count(1)  # a photo: any
    page.locator("#om-filter-language").get_by_text("Chinese", exact=True).click()
    expect(page.locator('.om-card[data-demo="finance/news-sentiment"]')).to_have_count(1)
    featured = [available.nth(i).get_attribute("data-featured") for i in range(available.count())]
    assert featured == sorted(featured, reverse=True)  # "featured first" is the order a page opens with
    page.locator("#om-order").get_by_text("Most used", exact=True).click()
    expect(available.first).not_to_have_attribute("data-requests", "0")
    used = [int(available.nth(i).get_attribute("data-requests") or 0) for i in range(available.count())]
    assert used == sorted(used, reverse=True) and used[0] >= 1, used
    expect(available.first.locator('[data-fact="requests"]')).to_contain_text("runs")
