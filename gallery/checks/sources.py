"""Model sources: every model is pinned, a package listed with `==` in requirements.txt or a Hub commit sha."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from pydantic import ValidationError

from gallery.checks.base import REQUIREMENTS_NAME, DemoFolder, Problem, validation_problems
from gallery.checks.requirements import pinned_versions
from gallery.runtime.spec import HubSource, PackageSource, PathSource

_EXAMPLE = "{package: <pip name>, loader: 'module:function'} or {hub: org/name, revision: <40-character commit sha>}"


def _package_problems(folder: DemoFolder, field: str, package: str) -> list[Problem]:
    requirements = folder.path / REQUIREMENTS_NAME
    if not requirements.is_file():
        return []  # the requirements check reports the missing file
    try:
        pins = pinned_versions(requirements)
    except (OSError, UnicodeDecodeError):
        return []
    name = canonicalize_name(package)
    if name not in pins:
        return [Problem(folder.manifest_path, f"{field}.package",
                        f"{package!r} is not in requirements.txt; add {package}==<version> there so the model is "
                        "installed with the demo and pinned")]
    if pins[name] is None:
        return [Problem(requirements, package,
                        f"pin the model package exactly ({package}==<version>): its version decides which weights run")]
    return []


def _path_problems(folder: DemoFolder, field: str, value: str) -> list[Problem]:
    path = Path(value)
    if path.is_absolute() or value.startswith("~"):
        return [Problem(folder.manifest_path, f"{field}.path",
                        "an absolute path only exists on your machine; ship the model in a pip package or pin a Hub "
                        "revision")]
    resolved = (folder.path / path).resolve()
    if not resolved.is_relative_to(folder.path.resolve()):
        return [Problem(folder.manifest_path, f"{field}.path", "must stay inside the demo folder")]
    if not resolved.exists():
        return [Problem(folder.manifest_path, f"{field}.path", f"{value!r} does not exist in the demo folder")]
    return []


def source_problems(folder: DemoFolder, field: str, source: Any) -> list[Problem]:
    """Return the problems of one model's `source` mapping."""
    path = folder.manifest_path
    if source is None:
        return [Problem(path, field, f"missing: say where the model comes from: {_EXAMPLE}")]
    if not isinstance(source, dict):
        return [Problem(path, field, f"must be a mapping: {_EXAMPLE}")]
    kind: type[PackageSource] | type[HubSource] | type[PathSource]
    if "hub" in source:
        kind = HubSource
        if "revision" not in source:
            return [Problem(path, f"{field}.revision",
                            "missing: pin the Hub model to one commit (the full 40-character sha from the model's "
                            "'Files and versions' page); a branch such as main can change under you")]
    elif "package" in source:
        kind = PackageSource
    elif "path" in source:
        kind = PathSource
    else:
        return [Problem(path, field, f"unknown kind of source; use {_EXAMPLE}")]
    try:
        kind.model_validate(source)
    except ValidationError as exc:
        return validation_problems(path, exc, prefix=field)
    if kind is PackageSource:
        return _package_problems(folder, field, source["package"])
    if kind is PathSource:
        return _path_problems(folder, field, source["path"])
    return []


def check(folder: DemoFolder) -> list[Problem]:
    """Report model sources that are missing, malformed or not pinned."""
    problems = []
    for name, spec in folder.model_specs().items():
        problems += source_problems(folder, f"models.{name}.source", spec.get("source"))
    return problems
