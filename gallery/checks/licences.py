"""Licences: the code's `license` and each model's `licence` are SPDX ids on the gallery's allow-list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gallery.checks.base import DemoFolder, Problem

ALLOW_LIST = Path(__file__).resolve().parent / "licences.yaml"


@dataclass(frozen=True)
class AllowList:
    """Accepted SPDX ids for code and for model weights, and known ids refused with a reason."""

    code: tuple[str, ...]
    models: tuple[str, ...]
    refused: dict[str, str]


@lru_cache(maxsize=4)
def load_allow_list(path: Path = ALLOW_LIST) -> AllowList:
    """Read the allow-list file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return AllowList(tuple(data["code"]), tuple(data["models"]), dict(data.get("refused") or {}))


def _key(value: str) -> str:
    """Return a spelling-insensitive key: `apache 2.0`, `Apache-2.0` and `APACHE_2.0` agree."""
    return re.sub(r"[\s_-]+", "", value).lower().removesuffix("license").removesuffix("licence")


def licence_message(value: Any, kind: str, allow: AllowList) -> str | None:
    """Return what is wrong with a licence id for `kind` ('code' or 'models'), or None when it is accepted."""
    accepted = allow.code if kind == "code" else allow.models
    other = allow.models if kind == "code" else allow.code
    what = "code" if kind == "code" else "model weights"
    if value is None:
        example = "Apache-2.0" if kind == "code" else "the licence on the model's card, e.g. Apache-2.0"
        return f"missing: give the SPDX id of the {what}' licence ({example})"
    if not isinstance(value, str) or not value.strip():
        return "must be an SPDX licence id (text such as Apache-2.0)"
    if value in accepted:
        return None
    by_key = {_key(v): v for v in (*accepted, *allow.refused)}
    if value not in allow.refused and _key(value) in by_key:
        return f"{value!r} is not spelled as SPDX does; write {by_key[_key(value)]!r}"
    if value in allow.refused:
        return f"{value!r} is not accepted: {allow.refused[value]}"
    if value in other:
        return (f"{value!r} is accepted for {'model weights' if kind == 'code' else 'code'} but not for "
                f"{what}; use one of {', '.join(accepted)}")
    return (f"{value!r} is not on the gallery's licence allow-list (gallery/checks/licences.yaml). Use the SPDX id "
            f"(https://spdx.org/licenses/) of one of: {', '.join(accepted)}; to propose another, ask in your PR")


def check(folder: DemoFolder) -> list[Problem]:
    """Report code and model licences that are missing, misspelt, refused or not on the allow-list."""
    if folder.data is None:
        return []
    allow = load_allow_list()
    path = folder.manifest_path
    problems = []
    message = licence_message(folder.get("license"), "code", allow)
    if message and folder.get("license") is None and "licence" in folder.data:
        message += " (at the top level the field is spelled `license`; `licence` is for models)"
    if message:
        problems.append(Problem(path, "license", message))
    for name, spec in folder.model_specs().items():
        message = licence_message(spec.get("licence"), "models", allow)
        if message:
            problems.append(Problem(path, f"models.{name}.licence", message))
    return problems
