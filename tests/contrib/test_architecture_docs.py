"""The guides stay true to the code: every module is placed in ARCHITECTURE's layer table, and every task,
backend and front end a newcomer can add to is named where they will look for it."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from gallery.frontends import FRONT_ENDS
from gallery.runtime.spec import Backend, ModelTask
from tests.conftest import ROOT

GUIDES = ["CONTRIBUTING.md", "CONTRIBUTING.zh.md"]
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def layer_rows() -> list[str]:
    """Return the rows of the table under ARCHITECTURE.md's "Layers" heading."""
    section = ARCHITECTURE.split("## Layers", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]


def placed(module: str, rows: list[str]) -> bool:
    """Return whether a row names the module's path, or its folder and its file name, or a folder above it whole."""
    path = ROOT / module
    for row in rows:
        if f"`{module}`" in row:
            return True
        folder = str(path.parent.relative_to(ROOT)) + "/"
        if f"`{folder}`" in row and f"`{path.name}`" in row:
            return True
        # A folder whose row lists none of its files covers what is in it (`gallery/feedback/migrations/`).
        for parent in path.relative_to(ROOT).parents:
            listed = [f for f in (ROOT / parent).glob("*.py") if f.name != "__init__.py" and f"`{f.name}`" in row]
            if str(parent) != "." and f"`{parent}/`" in row and not listed:
                return True
    return False


def test_every_module_under_gallery_is_in_the_layer_table() -> None:
    rows = layer_rows()
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "gallery").rglob("*.py")
                     if p.name != "__init__.py" and "migrations" not in p.parts)
    missing = [m for m in modules if not placed(m, rows)]
    assert not missing, f"ARCHITECTURE.md's layer table does not place: {', '.join(missing)}"


def test_the_layer_table_names_no_module_that_is_gone() -> None:
    named = {m for row in layer_rows() for m in re.findall(r"`(gallery/[\w/]+\.py)`", row)}
    gone = sorted(m for m in named if not (ROOT / m).is_file())
    assert not gone, f"ARCHITECTURE.md names modules that do not exist: {', '.join(gone)}"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_task_and_backend_is_in_the_guide(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    missing = [name for name in (*get_args(ModelTask), *get_args(Backend)) if f"`{name}`" not in text]
    assert not missing, f"{guide} does not name: {', '.join(missing)}"


def test_every_front_end_is_in_the_architecture() -> None:
    missing = [mount.__name__ for mount in FRONT_ENDS if f"`{mount.__name__}`" not in ARCHITECTURE]
    assert not missing, f"ARCHITECTURE.md does not name the front ends {', '.join(missing)}"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_model_option_is_in_the_guide(guide: str) -> None:
    from gallery.runtime.task_table import TASKS

    text = (ROOT / guide).read_text(encoding="utf-8")
    options = sorted({name for entry in TASKS.values() for name in entry.options.model_fields})
    missing = [name for name in options if f"`{name}`" not in text]
    assert not missing, f"{guide} does not document the model options {', '.join(missing)}"
