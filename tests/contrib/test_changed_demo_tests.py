"""The CI script that picks which demo tests a pull request runs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "changed_demo_tests.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """Import the script as a module."""
    spec = importlib.util.spec_from_file_location("changed_demo_tests", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """Return a repository root with three demo tests."""
    tests = tmp_path / "tests" / "demos"
    tests.mkdir(parents=True)
    for name in ("test_bus_delay.py", "test_health_faq.py", "test_news_sentiment.py", "__init__.py"):
        (tests / name).write_text("", encoding="utf-8")
    return tmp_path


ALL = ["tests/demos/test_bus_delay.py", "tests/demos/test_health_faq.py", "tests/demos/test_news_sentiment.py"]


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["demos/transport/bus-delay/app.py"], ["tests/demos/test_bus_delay.py"]),
        (["demos/transport/bus-delay/data/stops.csv", "demos/healthcare/health-faq/README.md"],
         ["tests/demos/test_bus_delay.py", "tests/demos/test_health_faq.py"]),
        (["tests/demos/test_news_sentiment.py"], ["tests/demos/test_news_sentiment.py"]),
        (["gallery/runtime/registry.py"], ALL),
        (["shared/fewshot.py", "README.md"], ALL),
        (["pyproject.toml"], ALL),
        (["tests/demos/conftest.py"], ALL),
        (["README.md", "CONTRIBUTING.md", "demos/INDEX.md", "CODEOWNERS", "tests/core/test_api.py"], []),
        (["demos/_template/app.py"], []),
        (["demos/education/removed-demo/app.py"], []),  # its test is gone with it
        ([], []),
    ],
)
def test_changed_paths_map_to_demo_tests(script: ModuleType, repo: Path, changed: list[str], expected: list[str]) -> None:
    assert script.tests_for(changed, repo) == expected


def test_command_line_reads_stdin(repo: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--root", str(repo)], input="demos/finance/news-sentiment/app.py\n",
                         capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["tests/demos/test_news_sentiment.py"]


def test_every_real_demo_has_the_test_the_script_would_run(script: ModuleType) -> None:
    for manifest in sorted((ROOT / "demos").glob("*/*/demo.yaml")):
        if manifest.parent.name.startswith("_"):
            continue
        changed = [str(manifest.relative_to(ROOT))]
        assert script.tests_for(changed, ROOT) == [script.demo_test(manifest.parent.name)], manifest
