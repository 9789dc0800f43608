"""Fixtures for the core tests: a copy of the fixture demo tree and a built app on it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "demos"


@pytest.fixture()
def demo_tree(tmp_path: Path) -> Path:
    """Return a writable copy of the fixture demos."""
    target = tmp_path / "demos"
    shutil.copytree(FIXTURES, target)
    return target


@pytest.fixture(scope="module")
def fixture_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, object]]:
    """Build the app on the fixture demos once per module."""
    from gallery.server import ServeConfig, create_app

    root = tmp_path_factory.mktemp("app")
    demos = root / "demos"
    shutil.copytree(FIXTURES, demos)
    app, service = create_app(ServeConfig(demos_dir=demos, cache_dir=root / "cache"))
    yield app, service
