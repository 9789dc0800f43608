"""Fixtures for the contribution-workflow tests: writable demo trees built from tests/contrib/fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

# The fixture folders hold demo code and test stubs that pytest must not collect.
collect_ignore = ["fixtures"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
GOOD_ID = "finance/good-demo"


def demo_test_path(root: Path, slug: str) -> Path:
    """Return where a demo's test lives in a tree whose demos folder is `root`."""
    return root.parent / "tests" / "demos" / f"test_{slug.replace('-', '_')}.py"


def make_tree(base: Path, place: str = GOOD_ID, with_test: bool = True) -> tuple[Path, Path]:
    """Copy the good fixture demo to `<base>/demos/<place>`; return (demos root, demo folder)."""
    root = base / "demos"
    folder = root / place
    shutil.copytree(GOOD / GOOD_ID, folder)
    if with_test:
        test_file = demo_test_path(root, folder.name)
        test_file.parent.mkdir(parents=True, exist_ok=True)
        test_file.write_text('"""Tests of the fixture demo."""\n', encoding="utf-8")
    return root, folder


def broken_cases() -> list[str]:
    """Return the names of the broken fixtures."""
    return sorted(p.name for p in BROKEN.iterdir() if (p / "expect.yaml").is_file())


def expectation(name: str) -> dict[str, Any]:
    """Return what a broken fixture must produce."""
    return yaml.safe_load((BROKEN / name / "expect.yaml").read_text(encoding="utf-8"))


def apply_broken(base: Path, name: str) -> tuple[Path, Path, dict[str, Any]]:
    """Build a tree with the good demo changed by the broken fixture `name`; return (root, folder, expectation)."""
    expect = expectation(name)
    root, folder = make_tree(base, expect.get("place", GOOD_ID), with_test=not expect.get("no_test_file"))
    for source in (BROKEN / name).iterdir():
        if source.name != "expect.yaml":
            shutil.copy(source, folder / source.name)
    for file in expect.get("delete", []):
        (folder / file).unlink()
    # Files the repository's .gitignore keeps out (model weights) are written here rather than committed.
    for file, size in expect.get("add", {}).items():
        (folder / file).write_bytes(b"\x08\x07" * (size // 2))
    for file, size in expect.get("grow", {}).items():
        with (folder / file).open("a", encoding="utf-8") as handle:
            handle.write("1,2\n" * (size // 4))
    return root, folder, expect


@pytest.fixture()
def good_tree(tmp_path: Path) -> tuple[Path, Path]:
    """Return (demos root, demo folder) of a tree holding only the good fixture demo."""
    return make_tree(tmp_path)
