"""The gallery page: header, language switch, Home cards with search, one tab per sector."""

from __future__ import annotations

import json
import logging
from typing import Any

import gradio as gr

from gallery.discovery import DemoEntry
from gallery.manifest import SECTORS
from gallery.service import GalleryService
from gallery.snippets import Endpoints, fill_base_js
from gallery.ui.cards import CSS
from gallery.ui.form import FORM_CSS, request_language
from gallery.ui.home import HOME_CSS, HomeQuery, build_home, home_html
from gallery.ui.i18n import LANGUAGES, build_i18n, demo_key
from gallery.ui.panel import GALLERY_URL_JS, PanelHandles, build_panel

logger = logging.getLogger(__name__)

# Gradio translates I18n keys in the browser, starting from navigator.language; the language switch stores
# the choice and reloads, and gallery/ui/bootstrap.py makes Gradio start from the stored choice.
HEAD_JS = """
<script>
window.omLang = function () {
  const nav = (navigator.language || 'en').toLowerCase();
  return localStorage.getItem('om-lang') || (nav.startsWith('zh') ? 'zh' : 'en');
};
window.omMark = function (lang) {
  document.documentElement.classList.toggle('om-lang-zh', lang === 'zh');
  document.documentElement.classList.toggle('om-lang-en', lang !== 'zh');
};
window.omSetLang = function (lang) {
  localStorage.setItem('om-lang', lang);
  window.location.reload();
};
window.omMark(window.omLang());
</script>
"""

def _tab_id(entry: DemoEntry) -> str:
    return "demo-" + entry.id.replace("/", "-")


def _header(i18n: gr.I18n) -> gr.Radio:
    with gr.Row(elem_classes=["om-header"]):
        with gr.Column(scale=5):
            gr.Markdown(f"# {i18n('app.title')}")
            gr.Markdown(i18n("app.tagline"))
        with gr.Column(scale=1, min_width=180):
            lang = gr.Radio(list(LANGUAGES.values()), label=i18n("lang.label"), elem_id="om-lang", value=None)
    lang.input(fn=None, inputs=lang, outputs=None, api_visibility="private",
               js="(v) => { window.omSetLang(v === '中文' ? 'zh' : 'en'); }")
    return lang


# Uploads through the UI land in Gradio's temp folder; sweep every 10 minutes for files older than an hour,
# long enough for a person to re-run a demo on the same upload.
UPLOAD_RETENTION = (600, 3600)


def _on_load(blocks: gr.Blocks, service: GalleryService, lang: gr.Radio, panels: dict[str, PanelHandles]) -> None:
    """On page load, show the current language in the switch, fill each demo's absolute deep link, and put the
    address the browser used into the API snippets (the server cannot know a proxy's or share link's)."""
    links = [p.link for p in panels.values()]
    codes = [(demo_id, code) for demo_id, p in panels.items() for code in p.snippets]
    outputs = [lang, *links, *(code for _, code in codes)]
    guess = (service.endpoints or Endpoints()).base_url
    # The inputs come first among the arguments (Gradio may append the outputs' values too).
    js = (f"(...values) => {{ {GALLERY_URL_JS} {fill_base_js(guess)} const lang = window.omLang(); window.omMark(lang);"
          f" const ids = {json.dumps(list(panels))}; const codeIds = {json.dumps([i for i, _ in codes])};"
          " const codes = values.slice(1 + ids.length, 1 + ids.length + codeIds.length);"
          " return [lang === 'zh' ? '中文' : 'English', ...ids.map(galleryUrl),"
          " ...codes.map((code, i) => fillBase(code, apiBase(codeIds[i])))]; }")
    # The values are computed in the browser (it alone knows the public URL); the Python side passes
    # them through, because Gradio does not run js-only load events on every page.
    blocks.load(lambda *values: values if len(values) > 1 else values[0], inputs=outputs, outputs=outputs,
                js=js, api_visibility="private", queue=False)


def build_gallery(service: GalleryService) -> tuple[gr.Blocks, gr.I18n]:
    """Build the full gallery Blocks (cards, search, sector tabs, deep links)."""
    i18n = build_i18n(service.index)
    with gr.Blocks(title="OpenModels Gallery", delete_cache=UPLOAD_RETENTION) as blocks:
        lang = _header(i18n)
        sector_tabs: dict[str, gr.Tabs] = {}
        panels: dict[str, PanelHandles] = {}
        with gr.Tabs(selected="home", elem_id="om-top-tabs") as top_tabs:
            with gr.Tab(i18n("tab.home"), id="home", elem_id="om-home"):
                home = build_home(service, i18n)
            for sector in SECTORS:
                entries = service.index.by_sector(sector)
                with gr.Tab(i18n(f"sector.{sector}"), id=f"sector-{sector}", elem_id=f"om-sector-{sector}"):
                    if not entries:
                        gr.Markdown("—")
                        continue
                    with gr.Tabs(selected=_tab_id(entries[0])) as tabs:
                        sector_tabs[sector] = tabs
                        for entry in entries:
                            title = i18n(demo_key(entry.id, "title")) if entry.manifest else entry.slug
                            with gr.Tab(title, id=_tab_id(entry), elem_id=f"om-tab-{entry.id.replace('/', '-')}"):
                                handles = build_panel(service, entry, i18n, lang)
                                if handles is not None:
                                    panels[entry.id] = handles

        def select_from_query(request: gr.Request) -> list[Any]:
            demo_id = request.query_params.get("demo", "") if request else ""
            entry = service.index.get(demo_id)
            cards = home_html(service, HomeQuery(), request_language(request))  # in the page's language
            if entry is None:
                return [gr.Tabs(), cards, *[gr.Tabs() for _ in sector_tabs]]
            updates = [gr.Tabs(selected=_tab_id(entry)) if s == entry.sector else gr.Tabs() for s in sector_tabs]
            return [gr.Tabs(selected=f"sector-{entry.sector}"), cards, *updates]

        blocks.load(select_from_query, inputs=None, outputs=[top_tabs, home.cards, *sector_tabs.values()],
                    api_visibility="private", queue=False)
        _on_load(blocks, service, lang, panels)
    return blocks, i18n


def build_single(service: GalleryService, entry: DemoEntry) -> tuple[gr.Blocks, gr.I18n]:
    """Build a Blocks serving one demo alone (for its own URL and for iframes)."""
    i18n = build_i18n(service.index)
    title = entry.manifest.title.en if entry.manifest else entry.id
    with gr.Blocks(title=f"{title} · OpenModels Gallery", delete_cache=UPLOAD_RETENTION) as blocks:
        lang = _header(i18n)
        if entry.manifest is not None:
            gr.Markdown(f"## {i18n(demo_key(entry.id, 'title'))}")
        handles = build_panel(service, entry, i18n, lang)
        _on_load(blocks, service, lang, {entry.id: handles} if handles is not None else {})
    return blocks, i18n


# Gradio's bundled Source Sans Pro SemiBold (weight 600: titles, tabs, labels) is a subset of a few glyphs, so a
# title mixed it with a fallback font letter by letter (odd capitals). One family with complete faces replaces it:
# its Regular for 400, its Bold for the semibold and bold weights. The URLs are Gradio's, as its theme writes them.
FONT_CSS = """
@font-face { font-family: 'OM Sans'; src: url('static/fonts/SourceSansPro/SourceSansPro-Regular.woff2')
  format('woff2'); font-weight: 100 499; font-style: normal; }
@font-face { font-family: 'OM Sans'; src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2')
  format('woff2'); font-weight: 500 900; font-style: normal; }
:root, .dark { --font: 'OM Sans', ui-sans-serif, system-ui, sans-serif; }
"""
# A phone's 390 px are too few for Gradio's 32 px page margins. Gradio scopes the rules inside a custom @media
# block to its `.contain` element, below the page margins' element, so the switch at 640 px is made by clamp():
# below 640 px the middle term is negative (10 px), above it very large (32 px, Gradio's own).
MOBILE_CSS = """
.main.app { padding-left: clamp(10px, (100vw - 640px) * 1000, 32px) !important;
  padding-right: clamp(10px, (100vw - 640px) * 1000, 32px) !important; }
"""
APP_CSS = FONT_CSS + CSS + HOME_CSS + FORM_CSS + MOBILE_CSS
