"""Server-rendered demo cards for the Home tab, in the page's language: icon, sector, languages, live facts."""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from gallery.discovery import DemoEntry
from gallery.languages import NO_LANGUAGE, language_name
from gallery.manifest import ICON_SUFFIXES, SECTOR_ICONS
from gallery.service import DemoStatus
from gallery.ui.i18n import STRINGS, task_name, text
from gallery.usage import DemoUsage

CSS = """
.om-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 300px), 1fr)); gap: 14px; }
.om-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 14px;
  background: var(--block-background-fill); display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.om-card-head { display: flex; gap: 12px; align-items: flex-start; }
.om-icon { flex: 0 0 auto; width: 46px; height: 46px; border-radius: 10px; display: flex; align-items: center;
  justify-content: center; font-size: 26px; line-height: 1; background: var(--background-fill-secondary);
  font-family: "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", sans-serif; object-fit: cover; }
.om-card-title { min-width: 0; flex: 1 1 auto; }
.om-card h3 { margin: 0 0 2px; font-size: 1.05rem; line-height: 1.3; font-weight: 600; }
.om-card h3 a { text-decoration: none; color: var(--body-text-color); padding: 0; margin: 0; }
.om-card h3 a:hover { text-decoration: underline; }
.om-meta { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.om-featured { color: #b45309; font-weight: 600; }
.om-card p.om-summary { margin: 0; color: var(--body-text-color-subdued); font-size: 0.88rem; line-height: 1.4; }
.om-chips { display: flex; flex-wrap: wrap; gap: 4px 6px; }
.om-chip { display: inline-block; border-radius: 999px; padding: 1px 8px; font-size: 0.75rem;
  border: 1px solid var(--border-color-primary); color: var(--body-text-color-subdued); white-space: nowrap; }
.om-facts { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; font-size: 0.8rem; }
.om-fact { color: var(--body-text-color); white-space: nowrap; }
.om-badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 0.75rem; font-weight: 600;
  white-space: nowrap; }
.om-status-ready { background: #d1fae5; color: #065f46; }
.om-status-loads-on-first-use, .om-status-loading { background: #e0e7ff; color: #3730a3; }
.om-status-unavailable { background: #fee2e2; color: #991b1b; }
.om-unavailable { border-color: #fca5a5; }
.om-more { font-size: 0.8rem; }
.om-more summary { cursor: pointer; color: var(--body-text-color-subdued); }
.om-card dl { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 2px 10px; margin: 4px 0 0; }
.om-card dt { color: var(--body-text-color-subdued); }
.om-card dd { margin: 0; overflow-wrap: anywhere; }
.om-reason { font-family: var(--font-mono); font-size: 0.78rem; white-space: pre-wrap; overflow-wrap: anywhere;
  color: #991b1b; }
.om-disclaimer { border-left: 4px solid #f59e0b; padding: 6px 12px; background: rgba(245, 158, 11, 0.08); }
.om-header h1 { margin-bottom: 0; }
"""
# A card names at most this many input languages; the rest are counted (the tooltip lists them all).
SHOWN_LANGUAGES = 3


@dataclass(frozen=True)
class LiveFacts:
    """What a card says about a demo's life since start: its usage and its visitors' ratings."""

    usage: DemoUsage = DemoUsage()
    up: int = 0
    down: int = 0


STATES = ("ready", "loads on first use", "loading", "unavailable")
# YAML folds a long Chinese summary's lines with spaces, which Chinese text does not have between characters.
_FOLD_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")


def _unfold(summary: str) -> str:
    return _FOLD_SPACE.sub("", summary)


def _t(key: str, lang: str, **values: object) -> str:
    return escape(text(key, lang).format(**values))


@functools.lru_cache(maxsize=256)
def _data_url(path: Path, mtime: float) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def icon_html(entry: DemoEntry) -> str:
    """Return the card's icon: the manifest's emoji or image (inline, so it needs no file route), else the sector's."""
    icon = entry.manifest.icon if entry.manifest else None
    if icon and icon.lower().endswith(ICON_SUFFIXES):
        path = entry.path / icon
        if path.is_file():  # load_manifest checked it; a file removed since start leaves the sector's emoji
            return f'<img class="om-icon" alt="" src="{_data_url(path, path.stat().st_mtime)}">'
        icon = None
    return f'<span class="om-icon" aria-hidden="true">{escape(icon or SECTOR_ICONS.get(entry.sector, "🧩"))}</span>'


def _status_badge(status: DemoStatus, has_models: bool, lang: str) -> str:
    css = "om-status-" + status.state.replace(" ", "-")
    # Warm: its models are loaded, the next run starts at once; cold: the first run loads them first. A demo with
    # several models (one per input language) may be partly warm.
    loaded = sum(1 for model in status.models.values() if model.get("state") == "ready")
    warm = {"ready": "warm", "loads on first use": "partial" if loaded else "cold",
            "loading": "loading"}.get(status.state, "")
    key = {"warm": "card.warm" if has_models else "status.ready", "partial": "card.partial", "cold": "card.cold",
           "loading": "status.loading", "": "status.unavailable"}[warm]
    label = _t(key, lang, k=loaded, n=len(status.models)) if status.state in STATES else escape(status.state)
    return f'<span class="om-badge {css}" data-status="{escape(status.state)}" data-warm="{warm}">{label}</span>'


def languages_html(languages: list[str], lang: str) -> str:
    """Return the input-language badges: a few names, the rest counted, every one in the tooltip."""
    names = [language_name(code, lang) for code in languages]
    chips = [f'<span class="om-chip om-lang-badge" data-lang="{escape(code)}">{escape(name)}</span>'
             for code, name in zip(languages[:SHOWN_LANGUAGES], names)]
    if len(languages) > SHOWN_LANGUAGES:
        chips.append(f'<span class="om-chip">{_t("card.more_languages", lang, n=len(languages) - SHOWN_LANGUAGES)}</span>')
    sep, colon = ("、", "：") if lang == "zh" else (", ", ": ")
    title = escape(text("card.languages", lang) + colon + sep.join(names))
    return f'<div class="om-chips om-langs" title="{title}">{"".join(chips)}</div>'


def facts_html(status: DemoStatus, has_models: bool, facts: LiveFacts, lang: str) -> str:
    """Return the live facts: warm or cold, runs and their measured median time, the visitors' 👍 ratio."""
    parts = [_status_badge(status, has_models, lang)]
    usage = facts.usage
    if usage.p50_ms is not None:  # measured on this server since start; nothing at all before the first run
        ms = f"{usage.p50_ms:.0f} ms" if usage.p50_ms >= 10 else f"{usage.p50_ms:.1f} ms"
        tip = _t("card.p50.title", lang, n=usage.runs)
        parts.append(f'<span class="om-fact" data-fact="p50" title="{tip}">{_t("card.p50", lang, ms=ms)}</span>')
    if usage.requests:
        parts.append(f'<span class="om-fact" data-fact="requests">{_t("card.requests", lang, n=usage.requests)}</span>')
    rated = facts.up + facts.down
    if rated:
        pct = round(100 * facts.up / rated)
        parts.append(f'<span class="om-fact" data-fact="feedback" title="{_t("card.feedback.title", lang)}">'
                     f'{_t("card.feedback", lang, pct=pct, n=rated)}</span>')
    return f'<div class="om-facts">{"".join(parts)}</div>'


def model_names(entry: DemoEntry) -> str:
    """Return a short description of the demo's models' sources."""
    if entry.manifest is None:
        return "-"
    names = []
    for spec in entry.manifest.models.values():
        source = spec.source
        names.append(getattr(source, "package", None) or getattr(source, "hub", None) or getattr(source, "path", "?"))
    return ", ".join(names) or "-"


def int8_check_html(status: DemoStatus, lang: str = "en") -> str | None:
    """Return the int8 accuracy check of the demo's models (verdict and figures), None when none ran."""
    parts = []
    for model in status.models.values():
        check = model.get("quant_check") or {}
        if "metric" not in check:
            continue
        verdict = _t("card.int8.passed" if check.get("passed") else "card.int8.failed", lang)
        figures = escape(f"{check['metric']} {check.get('value')}, limit {check.get('threshold')}")
        parts.append(f"{verdict} ({figures})")
    return "; ".join(parts) or None


def _details(entry: DemoEntry, status: DemoStatus, lang: str) -> str:
    manifest = entry.manifest
    licences = sorted({manifest.license, *(s.licence for s in manifest.models.values())}) if manifest else []
    backend = " / ".join(p for p in (status.backend, status.variant) if p) or "-"
    rows = [("card.model", escape(model_names(entry))), ("card.licence", escape(", ".join(licences) or "-")),
            ("card.backend", escape(backend))]
    check = int8_check_html(status, lang)
    if check:
        rows.append(("card.int8", check))
    dl = "".join(f"<dt>{_t(k, lang)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<details class="om-more"><summary>{_t("card.details", lang)}</summary><dl>{dl}</dl></details>'


def card_html(entry: DemoEntry, status: DemoStatus, lang: str = "en", facts: LiveFacts | None = None) -> str:
    """Return one demo's card in `lang`."""
    manifest = entry.manifest
    sector = _t(f"sector.{entry.sector}", lang) if f"sector.{entry.sector}" in STRINGS else escape(entry.sector)
    unavailable = status.state == "unavailable"
    attrs = f'data-demo="{escape(entry.id)}" data-sector="{escape(entry.sector)}"'
    if manifest is None:
        title, summary, meta, langs = escape(entry.id), "", sector, ""
    else:
        title, summary = escape(manifest.title.get(lang)), escape(_unfold(manifest.summary.get(lang)))
        meta = f'{sector} · <span class="om-task">{escape(task_name(manifest.task, lang))}</span>'
        if manifest.featured:
            meta += f' · <span class="om-featured">★ {_t("card.featured", lang)}</span>'
        langs = languages_html(manifest.languages, lang)
        attrs += (f' data-languages="{escape(" ".join(manifest.languages))}" data-task="{escape(manifest.task)}"'
                  f' data-featured="{str(manifest.featured).lower()}"')
    attrs += f' data-requests="{(facts or LiveFacts()).usage.requests}"'
    heading = title if unavailable else f'<a href="?demo={escape(entry.id)}">{title}</a>'
    has_models = bool(status.models) or bool(manifest and manifest.models)
    reason = f'<div class="om-reason">{escape(status.reason or "")}</div>' if unavailable else ""
    return (f'<div class="{"om-card om-unavailable" if unavailable else "om-card"}" {attrs}>'
            f'<div class="om-card-head">{icon_html(entry)}<div class="om-card-title"><h3>{heading}</h3>'
            f'<div class="om-meta">{meta}</div></div></div>'
            f'<p class="om-summary">{summary}</p>{langs}{facts_html(status, has_models, facts or LiveFacts(), lang)}'
            f'{_details(entry, status, lang)}{reason}</div>')


def accepts_language(entry: DemoEntry, code: str) -> bool:
    """Return whether a visitor can use the demo in input language `code` (an input with no language: always)."""
    languages = entry.manifest.languages if entry.manifest else []
    return code in languages or NO_LANGUAGE in languages
