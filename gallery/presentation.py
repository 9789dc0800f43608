"""A result for people, in one language: the demo's `present(result, inputs, lang)`, and its text for the JSON API."""

from __future__ import annotations

import logging
from typing import Any

from gallery.iotypes import output_type
from gallery.loader import DemoCode
from gallery.logconfig import log_failure
from gallery.manifest import Manifest

logger = logging.getLogger(__name__)

LANGS = ("en", "zh")


def language(value: str | None) -> str:
    """Return 'zh' for any Chinese tag or name ('zh', 'zh-CN', '中文'), else 'en'."""
    value = (value or "").strip().lower()
    return "zh" if value.startswith("zh") or value == "中文" else "en"


def accept_language(header: str | None) -> str | None:
    """Return 'en' or 'zh' from an Accept-Language header (the heavier of the two, the first on a tie), or None."""
    best: tuple[float, str] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag.startswith(("zh", "en")):
            continue
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if best is None or weight > best[0]:
            best = (weight, language(tag))
    return best[1] if best else None


def render(code: DemoCode, demo_id: str, manifest: Manifest, result: dict[str, Any], inputs: dict[str, Any],
           lang: str) -> dict[str, Any]:
    """Return `{output name: value}` for people in `lang`, through the demo's `present` when it has one."""
    if code.present is None:
        return result
    try:
        return code.present(result, inputs, language(lang))
    # A bug in a demo's renderer must not hide the result: fall back to the raw fields.
    except Exception as exc:  # noqa: BLE001
        log_failure(logger, demo_id, "present failed", exc)
        return result


def people_text(manifest: Manifest, views: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return the JSON API's `display` object: the language and each text view, as the page shows it."""
    # Views that hold text for people; plots and images are pictures, and `json` is the result itself.
    shown = {spec.name: output_type(spec.type).display_value(views.get(spec.name)) for spec in manifest.outputs
             if output_type(spec.type).text_view}
    return {"lang": language(lang), "views": shown}
