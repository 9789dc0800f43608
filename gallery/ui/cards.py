"""Server-rendered demo cards for the Home tab, in both languages at once (CSS shows one)."""

from __future__ import annotations

from html import escape
from typing import Iterable

from gallery.discovery import DemoEntry
from gallery.service import DemoStatus, GalleryService
from gallery.ui.i18n import STRINGS, text

CSS = """
.om-lang-zh .om-en, .om-lang-en .om-zh, html:not(.om-lang-zh) .om-zh { display: none !important; }
.om-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 14px; }
.om-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 14px;
  background: var(--block-background-fill); display: flex; flex-direction: column; gap: 6px; }
.om-card h3 { margin: 0; font-size: 1.05rem; }
.om-card h3 a { text-decoration: none; color: var(--body-text-color); }
.om-card p.om-summary { margin: 0; color: var(--body-text-color-subdued); font-size: 0.9rem; }
.om-card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 4px 0 0; font-size: 0.82rem; }
.om-card dt { color: var(--body-text-color-subdued); }
.om-card dd { margin: 0; overflow-wrap: anywhere; }
.om-badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 0.78rem; font-weight: 600; }
.om-status-ready { background: #d1fae5; color: #065f46; }
.om-status-loads-on-first-use, .om-status-loading { background: #e0e7ff; color: #3730a3; }
.om-status-unavailable { background: #fee2e2; color: #991b1b; }
.om-unavailable { border-color: #fca5a5; }
.om-reason { font-family: var(--font-mono); font-size: 0.78rem; white-space: pre-wrap; color: #991b1b; }
.om-disclaimer { border-left: 4px solid #f59e0b; padding: 6px 12px; background: rgba(245, 158, 11, 0.08); }
.om-header h1 { margin-bottom: 0; }
"""


def both(key: str) -> str:
    """Return an interface string as two spans, one per language."""
    return f'<span class="om-en">{escape(text(key, "en"))}</span><span class="om-zh">{escape(text(key, "zh"))}</span>'


def _bilingual(en: str, zh: str) -> str:
    return f'<span class="om-en">{escape(en)}</span><span class="om-zh">{escape(zh)}</span>'


def _status_badge(status: DemoStatus) -> str:
    css = "om-status-" + status.state.replace(" ", "-")
    key = f"status.{status.state}"
    label = both(key) if key in STRINGS else escape(status.state)
    return f'<span class="om-badge {css}" data-status="{escape(status.state)}">{label}</span>'


def searchable_text(entry: DemoEntry) -> str:
    """Return the lower-cased text a search query is matched against."""
    manifest = entry.manifest
    if manifest is None:
        return entry.id.lower()
    parts = [manifest.id, manifest.task, manifest.title.en, manifest.title.zh, manifest.summary.en,
             manifest.summary.zh, text(f"sector.{manifest.sector}", "en"), text(f"sector.{manifest.sector}", "zh"),
             *manifest.tags, manifest.license]
    for spec in manifest.models.values():
        parts += [spec.task, spec.licence, getattr(spec.source, "package", ""), getattr(spec.source, "hub", "")]
    return " ".join(p for p in parts if p).lower()


def matches(entry: DemoEntry, query: str) -> bool:
    """Return whether every word of the query occurs in the demo's searchable text."""
    haystack = searchable_text(entry)
    return all(word in haystack for word in query.lower().split())


def model_names(entry: DemoEntry) -> str:
    """Return a short description of the demo's models' sources."""
    if entry.manifest is None:
        return "-"
    names = []
    for spec in entry.manifest.models.values():
        source = spec.source
        names.append(getattr(source, "package", None) or getattr(source, "hub", None) or getattr(source, "path", "?"))
    return ", ".join(names) or "-"


def int8_check_html(status: DemoStatus) -> str | None:
    """Return the int8 accuracy check of the demo's models (verdict and figures), None when none ran."""
    parts = []
    for model in status.models.values():
        check = model.get("quant_check") or {}
        if "metric" not in check:
            continue
        verdict = both("card.int8.passed" if check.get("passed") else "card.int8.failed")
        figures = escape(f"{check['metric']} {check.get('value')}, limit {check.get('threshold')}")
        parts.append(f"{verdict} ({figures})")
    return "; ".join(parts) or None


def card_html(entry: DemoEntry, status: DemoStatus) -> str:
    """Return one demo's card."""
    manifest = entry.manifest
    link = f"?demo={escape(entry.id)}"
    if manifest is None:
        title, summary, sector, task, licence = _bilingual(entry.id, entry.id), "", entry.sector, "-", "-"
    else:
        title = _bilingual(manifest.title.en, manifest.title.zh)
        summary = _bilingual(manifest.summary.en, manifest.summary.zh)
        sector = both(f"sector.{manifest.sector}") if f"sector.{manifest.sector}" in STRINGS else manifest.sector
        task = escape(manifest.task)
        licences = sorted({manifest.license, *(s.licence for s in manifest.models.values())})
        licence = escape(", ".join(licences))
    backend = escape(" / ".join(p for p in (status.backend, status.variant) if p) or "-")
    unavailable = status.state == "unavailable"
    reason = f'<div class="om-reason">{escape(status.reason or "")}</div>' if unavailable else ""
    rows = [("card.sector", sector), ("card.task", task), ("card.model", escape(model_names(entry))),
            ("card.licence", licence), ("card.backend", backend), ("card.status", _status_badge(status))]
    check = int8_check_html(status)
    if check:
        rows.insert(5, ("card.int8", check))
    dl = "".join(f"<dt>{both(k)}</dt><dd>{v}</dd>" for k, v in rows)
    heading = title if unavailable else f'<a href="{link}">{title}</a>'
    classes = "om-card om-unavailable" if unavailable else "om-card"
    return (f'<div class="{classes}" data-demo="{escape(entry.id)}"><h3>{heading}</h3>'
            f'<p class="om-summary">{summary}</p><dl>{dl}</dl>{reason}</div>')


def cards_html(entries: Iterable[tuple[DemoEntry, DemoStatus]], query: str = "") -> str:
    """Return the grid of cards for the entries matching the query."""
    chosen = [(e, st) for e, st in entries if matches(e, query or "")]
    if not chosen:
        return f'<div class="om-cards-empty">{both("card.none")}</div>'
    return '<div class="om-cards">' + "".join(card_html(e, st) for e, st in chosen) + "</div>"


def home_html(service: GalleryService, query: str = "") -> str:
    """Return the Home tab's cards: available demos first, then an Unavailable section."""
    statuses = [(e, service.status(e.id)) for e in service.index.entries]
    available = [(e, st) for e, st in statuses if st.state != "unavailable"]
    unavailable = [(e, st) for e, st in statuses if st.state == "unavailable" and matches(e, query or "")]
    html = cards_html(available, query) if available else ""
    if unavailable:
        html += f'<h2 class="om-unavailable-heading">{both("home.unavailable")}</h2>'
        html += cards_html(unavailable)
    return html
