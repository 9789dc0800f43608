"""The Home tab: search, filter chips (sector, input language, task), the order, and the cards they choose."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Any, Callable

import gradio as gr

from gallery.discovery import DemoEntry
from gallery.feedback.store import FeedbackStoreError
from gallery.languages import NO_LANGUAGE, language_name
from gallery.manifest import SECTORS
from gallery.service import DemoStatus, GalleryService
from gallery.ui.cards import LiveFacts, accepts_language, card_html
from gallery.ui.form import request_language
from gallery.ui.i18n import text

logger = logging.getLogger(__name__)

ORDERS = ("featured", "used")
# A language gets a filter chip once this many demos take it; rarer ones are found by typing them in the search.
CHIP_MIN_DEMOS = 2
HOME_CSS = """
/* The page is built in English; a Chinese page shows its cards once its load has rendered them in Chinese. */
html.om-lang-zh .om-home[data-lang="en"] { visibility: hidden; }
#om-home-controls { align-items: flex-end; gap: 8px 16px; }
#om-filters { gap: 4px 16px; }
#om-filters .wrap { gap: 4px 6px; }
#om-filters label { padding: 2px 10px !important; border-radius: 999px !important; font-size: 0.82rem; }
/* On a phone each chip group is one line that scrolls sideways, so the cards start within the first screen. */
@media (max-width: 640px) {
  #om-filters .wrap { flex-wrap: nowrap !important; overflow-x: auto; scrollbar-width: none; }
  #om-filters label { flex: 0 0 auto; white-space: nowrap; }
}
"""


@dataclass(frozen=True)
class HomeQuery:
    """What the visitor chose on Home: search words, chips (empty: no filter) and the order."""

    text: str = ""
    sectors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    order: str = "featured"


@dataclass
class HomeControls:
    """The Home tab's components, in the order the render function takes them."""

    search: gr.Textbox
    sectors: gr.CheckboxGroup
    languages: gr.CheckboxGroup
    tasks: gr.CheckboxGroup
    order: gr.Radio
    cards: gr.HTML
    render: Callable[..., str]

    @property
    def inputs(self) -> list[gr.components.Component]:
        """Return the controls the cards depend on, in the order `render` takes them."""
        return [self.search, self.sectors, self.languages, self.tasks, self.order]


def searchable_text(entry: DemoEntry) -> str:
    """Return the lower-cased text a search query is matched against (both languages, so either finds it)."""
    manifest = entry.manifest
    if manifest is None:
        return entry.id.lower()
    parts = [manifest.id, manifest.task, manifest.title.en, manifest.title.zh, manifest.summary.en,
             manifest.summary.zh, text(f"sector.{manifest.sector}", "en"), text(f"sector.{manifest.sector}", "zh"),
             *manifest.tags, manifest.license, *manifest.languages,
             *(language_name(code, lang) for code in manifest.languages for lang in ("en", "zh"))]
    for spec in manifest.models.values():
        parts += [spec.task, spec.licence, getattr(spec.source, "package", ""), getattr(spec.source, "hub", "")]
    return " ".join(p for p in parts if p).lower()


def matches(entry: DemoEntry, query: HomeQuery | str) -> bool:
    """Return whether the demo passes the search (every word) and each chip group (any chip of it)."""
    query = HomeQuery(query) if isinstance(query, str) else query
    haystack = searchable_text(entry)
    if not all(word in haystack for word in query.text.lower().split()):
        return False
    if query.sectors and entry.sector not in query.sectors:
        return False
    manifest = entry.manifest
    if query.tasks and (manifest is None or manifest.task not in query.tasks):
        return False
    return not query.languages or any(accepts_language(entry, code) for code in query.languages)


def ordered(service: GalleryService, entries: list[DemoEntry], order: str) -> list[DemoEntry]:
    """Return the entries featured first, or most used (requests since start) first; ties keep the index order."""
    if order == "used":
        return sorted(entries, key=lambda e: -service.usage.get(e.id).requests)
    return sorted(entries, key=lambda e: not (e.manifest is not None and e.manifest.featured))


def ratings(service: GalleryService) -> dict[str, tuple[int, int]]:
    """Return each demo's (👍, 👎) counts; none when feedback is off or its database cannot be read now."""
    if service.feedback is None:
        return {}
    try:
        return {row["demo_id"]: (int(row["up"]), int(row["down"])) for row in service.feedback.stats()}
    except FeedbackStoreError as exc:  # the cards still show; the ratio comes back with the database
        logger.warning("home: feedback ratings not shown: %s", exc)
        return {}


def _grid(cards: list[str], lang: str) -> str:
    if not cards:
        return f'<div class="om-cards-empty">{escape(text("card.none", lang))}</div>'
    return '<div class="om-cards">' + "".join(cards) + "</div>"


def home_html(service: GalleryService, query: HomeQuery | str = "", lang: str = "en") -> str:
    """Return the Home tab's cards in `lang`: the available demos chosen by the query, then an Unavailable section."""
    query = HomeQuery(query) if isinstance(query, str) else query
    rated = ratings(service)
    statuses: dict[str, DemoStatus] = {e.id: service.status(e.id) for e in service.index.entries}

    def card(entry: DemoEntry) -> str:
        up, down = rated.get(entry.id, (0, 0))
        return card_html(entry, statuses[entry.id], lang, LiveFacts(service.usage.get(entry.id), up, down))

    chosen = [e for e in service.index.entries if matches(e, query)]
    available = ordered(service, [e for e in chosen if statuses[e.id].state != "unavailable"], query.order)
    unavailable = [e for e in chosen if statuses[e.id].state == "unavailable"]
    html = _grid([card(e) for e in available], lang) if available or not unavailable else ""
    if unavailable:
        html += f'<h2 class="om-unavailable-heading">{escape(text("home.unavailable", lang))}</h2>'
        html += _grid([card(e) for e in unavailable], lang)
    return f'<div class="om-home" data-lang="{escape(lang)}">{html}</div>'



def filter_choices(service: GalleryService, i18n: gr.I18n) -> tuple[list[Any], list[Any], list[Any]]:
    """Return the chips (label, value): sectors with demos, languages enough demos take, tasks by how common."""
    # Demos that cannot run (their code failed to import) offer nothing to filter for.
    manifests = [e.manifest for e in service.index.entries if e.manifest is not None and e.id in service.code]
    sectors = [(i18n(f"sector.{s}"), s) for s in SECTORS if any(m.sector == s for m in manifests)]
    counts = Counter(code for m in manifests for code in m.languages if code != NO_LANGUAGE)
    languages = [(i18n(f"lang.{code}") if f"lang.{code}" in i18n.translations.get("en", {}) else code.upper(), code)
                 for code, n in counts.most_common() if n >= CHIP_MIN_DEMOS]
    tasks = Counter(m.task for m in manifests)
    task_chips = [(i18n(f"task.{t}") if f"task.{t}" in i18n.translations.get("en", {}) else t, t)
                  for t, _ in sorted(tasks.items(), key=lambda item: (-item[1], item[0]))]
    return sectors, languages, task_chips


def build_home(service: GalleryService, i18n: gr.I18n) -> HomeControls:
    """Lay out the Home tab's controls and cards (rendered on page load, in the page's language)."""
    sectors, languages, tasks = filter_choices(service, i18n)
    with gr.Row(elem_id="om-home-controls"):
        search = gr.Textbox(label=i18n("search.label"), placeholder=i18n("search.placeholder"), elem_id="om-search",
                            scale=3, min_width=220)
        order = gr.Radio([(i18n(f"order.{o}"), o) for o in ORDERS], value="featured", label=i18n("order.label"),
                         elem_id="om-order", scale=1, min_width=220)
    with gr.Row(elem_id="om-filters"):
        sector_chips = gr.CheckboxGroup(sectors, label=i18n("filter.sector"), elem_id="om-filter-sector",
                                        min_width=220)
        language_chips = gr.CheckboxGroup(languages, label=i18n("filter.language"), elem_id="om-filter-language",
                                          min_width=160)
        task_chips = gr.CheckboxGroup(tasks, label=i18n("filter.task"), elem_id="om-filter-task", min_width=220)
    # Rendered again on load, in the page's language (the request's om-lang cookie says which).
    cards = gr.HTML(home_html(service), elem_id="om-cards")

    def render(words: str, chosen_sectors: list[str], chosen_languages: list[str], chosen_tasks: list[str],
               chosen_order: str, request: gr.Request) -> str:
        query = HomeQuery(words or "", tuple(chosen_sectors or ()), tuple(chosen_languages or ()),
                          tuple(chosen_tasks or ()), chosen_order or "featured")
        return home_html(service, query, request_language(request))

    controls = HomeControls(search, sector_chips, language_chips, task_chips, order, cards, render)
    for component in controls.inputs:
        component.change(render, inputs=controls.inputs, outputs=cards, api_visibility="private", queue=False)
    return controls
