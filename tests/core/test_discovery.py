"""Discovery: manifests only, stable order, duplicates and broken demos isolated."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from gallery.discovery import discover


def test_order_is_by_sector_then_slug_and_skips_private_folders(demo_tree: Path) -> None:
    (demo_tree / "education" / "_template").mkdir()
    shutil.copy(demo_tree / "education" / "word-stats" / "demo.yaml", demo_tree / "education" / "_template")
    ids = [e.id for e in discover(demo_tree).entries]
    assert ids == [
        "healthcare/build-error",
        "education/bad-manifest",
        "education/word-stats",
        "finance/import-error",
        "transport/word-stats-b",
    ]
    assert ids == [e.id for e in discover(demo_tree).entries]  # deterministic


def test_discovery_imports_no_demo_code(demo_tree: Path) -> None:
    before = set(sys.modules)
    discover(demo_tree)
    assert not any(name.startswith("openmodels_demos") for name in set(sys.modules) - before)


def test_bad_manifest_is_unavailable_with_file_and_field(demo_tree: Path) -> None:
    entry = discover(demo_tree).get("education/bad-manifest")
    assert entry is not None and not entry.available
    assert entry.stage == "manifest"
    fields = {p.field for p in entry.problems}
    assert {"title.zh", "inputs"} <= fields
    assert all(p.path == demo_tree / "education" / "bad-manifest" / "demo.yaml" for p in entry.problems)


def test_duplicate_ids_name_both_folders(demo_tree: Path) -> None:
    copy = demo_tree / "education" / "word-stats-copy"
    shutil.copytree(demo_tree / "education" / "word-stats", copy)
    index = discover(demo_tree)
    original, duplicate = index.get("education/word-stats"), index.get("education/word-stats-copy")
    assert original is not None and duplicate is not None
    for entry in (original, duplicate):
        assert not entry.available
        assert "duplicate id 'education/word-stats'" in (entry.error or "")
        assert str(original.path) in (entry.error or "") and str(copy) in (entry.error or "")
    assert index.get("transport/word-stats-b").available  # type: ignore[union-attr]


def test_select_by_sector_and_id(demo_tree: Path) -> None:
    assert [e.id for e in discover(demo_tree, ["transport"]).entries] == ["transport/word-stats-b"]
    assert [e.id for e in discover(demo_tree, ["education/word-stats"]).entries] == ["education/word-stats"]
