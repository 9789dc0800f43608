"""Schema and types: demo.yaml validated by the gallery's own pydantic models.

Some fields have a check of their own with a clearer message (identity, bilingual texts, disclaimer,
licences, model sources, examples). Those fields are replaced by valid stand-ins before validating, so
each mistake is reported once, by the check that explains it best, and the rest of the schema (including
the cross-field rules) is still validated in the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gallery.checks.base import DemoFolder, Problem, validation_problems
from gallery.manifest import SECTORS, SLUG_RE, Manifest, icon_file_problem
from gallery.model_refs import CATALOG_NAME, CatalogError, read_catalog
from gallery.runtime.spec import ModelSpec

_TEXT = {"en": "placeholder", "zh": "占位"}
_SOURCE = {"path": "."}


def _stand_ins(data: dict[str, Any], folder: DemoFolder) -> dict[str, Any]:
    """Return a copy of the manifest with the fields other checks own replaced by valid values."""
    copy = dict(data)
    sector = folder.sector if folder.sector in SECTORS else SECTORS[0]
    slug = folder.slug if SLUG_RE.match(folder.slug) else "placeholder"
    copy.update(id=f"{sector}/{slug}", sector=sector, title=_TEXT, summary=_TEXT, disclaimer=_TEXT,
                license="MIT", examples=[])
    models = copy.get("models")
    if isinstance(models, dict):
        copy["models"] = {
            name: {**spec, "source": _SOURCE, "licence": "MIT"} if isinstance(spec, dict) else spec
            for name, spec in models.items()
        }
    for key in ("inputs", "outputs"):
        items = copy.get(key)
        if isinstance(items, list):
            copy[key] = [{**item, "label": _TEXT} if isinstance(item, dict) else item for item in items]
    return copy


def check(folder: DemoFolder) -> list[Problem]:
    """Report an unreadable demo.yaml, unknown or mistyped fields, and broken cross-field rules."""
    if folder.data is None:
        return list(folder.read_problems)
    try:
        manifest = Manifest.model_validate(_stand_ins(folder.data, folder))
    except ValidationError as exc:
        return validation_problems(folder.manifest_path, exc)
    icon = icon_file_problem(folder.path, manifest.icon)
    return [Problem(folder.manifest_path, "icon", icon)] if icon else []


def check_catalog(root: Path, folders: list[DemoFolder]) -> list[Problem]:
    """Report an unreadable `demos/_models.yaml` and every entry that is not a valid model spec."""
    path = root / CATALOG_NAME
    try:
        catalog = read_catalog(path)
    except CatalogError as exc:
        return [Problem(p.path, p.field, p.message) for p in exc.problems]
    problems = []
    for name, spec in catalog.items():
        try:
            ModelSpec.model_validate(spec)
        except ValidationError as exc:
            problems += validation_problems(path, exc, prefix=str(name))
    return problems
