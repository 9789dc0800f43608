"""What every check shares: the Problem record and a demo folder read once for all checks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gallery.manifest import (
    MANIFEST_NAME,
    SECTORS,
    Manifest,
    ManifestError,
    problems_from_validation,
    read_manifest_data,
)

README_NAME = "README.md"
APP_NAME = "app.py"
REQUIREMENTS_NAME = "requirements.txt"
# Pydantic's own wording, and what a contributor should read instead.
_FRIENDLY = {
    "Field required": "missing (required)",
    "Extra inputs are not permitted": "unknown field (a typo? every field is listed in CONTRIBUTING.md)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a demo folder or a generated file: which file, which field, what to do."""

    path: Path
    field: str
    message: str
    check: str = ""

    def __str__(self) -> str:
        return f"{display_path(self.path)}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """Return the problem as a JSON-ready mapping."""
        return {"path": display_path(self.path), "field": self.field, "message": self.message, "check": self.check}


def display_path(path: Path) -> str:
    """Return `path` relative to the working directory when it lies below it, else as given."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except (OSError, ValueError):
        return str(path)


def validation_problems(path: Path, error: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn a pydantic error into problems, fields prefixed with `prefix` (the dotted path of the part)."""
    problems = []
    for item in problems_from_validation(path, error):
        field = item.field
        if prefix:
            field = prefix if field == "(top level)" else f"{prefix}.{field}"
        problems.append(Problem(path, field, _FRIENDLY.get(item.message, item.message)))
    return problems


def slug_module(slug: str) -> str:
    """Return a demo slug as a Python identifier part (`bus-delay` -> `bus_delay`)."""
    return slug.replace("-", "_")


@dataclass
class DemoFolder:
    """A folder `demos/<sector>/<slug>/` as the checks see it: paths, raw manifest data, the parsed manifest."""

    path: Path
    root: Path

    @property
    def sector(self) -> str:
        """Return the parent folder's name (the sector the folder is filed under)."""
        return self.path.parent.name

    @property
    def slug(self) -> str:
        """Return the folder's own name."""
        return self.path.name

    @property
    def id(self) -> str:
        """Return `<sector>/<slug>` as given by the folders."""
        return f"{self.sector}/{self.slug}"

    @property
    def manifest_path(self) -> Path:
        """Return the path of the folder's demo.yaml."""
        return self.path / MANIFEST_NAME

    @property
    def test_file(self) -> Path:
        """Return where the demo's tests live: `<repo>/tests/demos/test_<slug>.py`."""
        return self.root.parent / "tests" / "demos" / f"test_{slug_module(self.slug)}.py"

    @cached_property
    def _loaded(self) -> tuple[dict[str, Any] | None, list[Problem]]:
        if not self.manifest_path.is_file():
            message = "missing: every demo folder needs a demo.yaml (run `gallery new` to start from the template)"
            if (self.path / "demo.yml").is_file():
                message = "missing: the manifest must be named demo.yaml (not demo.yml)"
            return None, [Problem(self.manifest_path, "(file)", message)]
        try:
            return read_manifest_data(self.manifest_path), []
        except ManifestError as exc:
            mark = getattr(exc.__cause__, "problem_mark", None)
            if mark is not None:
                # One line per problem: where the YAML breaks and why, not the parser's multi-line report.
                cause = exc.__cause__
                message = f"invalid YAML at column {mark.column + 1}: {getattr(cause, 'problem', None) or 'cannot parse'}"
                context, context_mark = getattr(cause, "context", None), getattr(cause, "context_mark", None)
                if context and context_mark is not None:
                    message += f" ({context} started on line {context_mark.line + 1})"
                return None, [Problem(self.manifest_path, f"line {mark.line + 1}", message)]
            return None, [Problem(p.path, p.field, " ".join(p.message.split())) for p in exc.problems]

    @property
    def data(self) -> dict[str, Any] | None:
        """Return the manifest's raw YAML mapping, or None when it cannot be read."""
        return self._loaded[0]

    @property
    def read_problems(self) -> list[Problem]:
        """Return why the manifest could not be read (empty when it could)."""
        return self._loaded[1]

    @cached_property
    def manifest(self) -> Manifest | None:
        """Return the validated manifest when it is entirely valid and matches its folder, else None."""
        if self.data is None:
            return None
        try:
            manifest = Manifest.model_validate(self.data)
        except ValidationError:
            return None
        return manifest if manifest.id == self.id else None

    def get(self, key: str) -> Any:
        """Return a top-level manifest value from the raw data (None when absent or unreadable)."""
        return self.data.get(key) if self.data is not None else None

    def input_names(self) -> list[str] | None:
        """Return the input names in manifest order, or None when `inputs` is not a list of named mappings."""
        inputs = self.get("inputs")
        if not isinstance(inputs, list):
            return None
        names = [item.get("name") for item in inputs if isinstance(item, dict)]
        if len(names) != len(inputs) or not all(isinstance(n, str) for n in names):
            return None
        return names  # type: ignore[return-value]

    def model_specs(self) -> dict[str, dict[str, Any]]:
        """Return the raw `models` mapping's entries that are mappings (others are the schema check's)."""
        models = self.get("models")
        if not isinstance(models, dict):
            return {}
        return {str(name): spec for name, spec in models.items() if isinstance(spec, dict)}


def _visible_dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) if path.is_dir() else []


def all_folders(root: Path) -> list[DemoFolder]:
    """Return every `<sector>/<slug>` folder under root (skipping `_template`-like names), in sector order."""
    rank = {sector: index for index, sector in enumerate(SECTORS)}
    sectors = sorted(_visible_dirs(root), key=lambda p: (rank.get(p.name, len(SECTORS)), p.name))
    return [DemoFolder(demo, root) for sector in sectors for demo in _visible_dirs(sector)]
