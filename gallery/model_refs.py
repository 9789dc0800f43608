"""Named model specs: `demos/_models.yaml` defines a model once; a demo's `models:` entry names it.

A demo writes `encoder: minilm-l6` (the whole spec) or `encoder: {use: minilm-l6, max_concurrency: 4}` (the spec
with some fields of its own). References are replaced by the named spec when the manifest is read, so everything
after reading (validation, the checks, the runtime, cache keys) sees the same full spec as an inline one. A name
the demos tree's own catalog lacks is looked up in the gallery's (so a demo folder copied to another tree, or
made by `gallery new` in an empty one, still finds `minilm-l6`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATALOG_NAME = "_models.yaml"
# The gallery's own catalog, beside the demos it ships (discovery.PACKAGE_DEMOS_DIR).
GALLERY_CATALOG = Path(__file__).resolve().parent.parent / "demos" / CATALOG_NAME
USE_KEY = "use"


@dataclass(frozen=True)
class RefProblem:
    """One unresolved reference or unreadable catalog: which file, which field, what is wrong."""

    path: Path
    field: str
    message: str


class CatalogError(Exception):
    """The catalog or a reference to it is wrong; carries every problem found."""

    def __init__(self, problems: list[RefProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.field}: {p.message}" for p in problems))


def catalog_path(manifest_path: Path) -> Path:
    """Return the catalog of the demos tree that holds `<root>/<sector>/<slug>/demo.yaml`."""
    return manifest_path.parent.parent.parent / CATALOG_NAME


# Read once per file version: discovery and the checks read it for every demo.
_CACHE: dict[Path, tuple[float, dict[str, Any]]] = {}


def read_catalog(path: Path) -> dict[str, Any]:
    """Return the catalog's `{name: spec mapping}`; an absent catalog is empty."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    cached = _CACHE.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError([RefProblem(path, "(file)", f"cannot be read: {' '.join(str(exc).split())}")]) from exc
    if not isinstance(data, dict) or not all(isinstance(spec, dict) for spec in data.values()):
        raise CatalogError([RefProblem(path, "(file)", "must map each model name to a model spec (a mapping)")])
    _CACHE[path] = (mtime, data)
    return data


def resolve_model_refs(data: dict[str, Any], manifest_path: Path) -> dict[str, Any]:
    """Return the manifest data with every named model replaced by its spec from the catalog."""
    models = data.get("models")
    if not isinstance(models, dict) or not any(_is_ref(spec) for spec in models.values()):
        return data
    path = catalog_path(manifest_path)
    catalog = {**read_catalog(GALLERY_CATALOG), **read_catalog(path)}  # the tree's own names win
    resolved: dict[str, Any] = {}
    problems = []
    for key, spec in models.items():
        if not _is_ref(spec):
            resolved[key] = spec
            continue
        name = spec if isinstance(spec, str) else spec[USE_KEY]
        if name not in catalog:
            known = ", ".join(sorted(catalog)) or f"none: {path} is missing or empty"
            problems.append(RefProblem(manifest_path, f"models.{key}", f"names model {name!r}, which {path.name} "
                                                                        f"does not define (defined: {known})"))
            continue
        overrides = {} if isinstance(spec, str) else {k: v for k, v in spec.items() if k != USE_KEY}
        resolved[key] = {**copy.deepcopy(catalog[name]), **overrides}
    if problems:
        raise CatalogError(problems)
    return {**data, "models": resolved}


def _is_ref(spec: Any) -> bool:
    return isinstance(spec, str) or (isinstance(spec, dict) and isinstance(spec.get(USE_KEY), str))
