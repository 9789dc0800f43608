"""Map the paths a pull request changes to the demo test files CI must run.

A change inside `demos/<sector>/<slug>/` runs `tests/demos/test_<slug>.py`; a change to a demo test runs
that test; a change to shared code (`gallery/`, `shared/`, the project's dependencies, the demo test
helpers) runs every demo test. Anything else (docs, generated files, the template) runs none.

Usage: git diff --name-only BASE...HEAD | python .github/scripts/changed_demo_tests.py [--root DIR]
Prints one test path per line (nothing when no demo test is affected).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_TESTS = "tests/demos"
# Paths whose change can break any demo.
RUN_ALL = re.compile(
    r"^(gallery/|shared/|pyproject\.toml$|deploy/install_requirements\.py$|tests/conftest\.py$"
    r"|tests/demos/(conftest|__init__)\.py$|\.github/scripts/changed_demo_tests\.py$)"
)
# Only well-formed names: the output is used on a shell command line.
DEMO_PATH = re.compile(r"^demos/(?P<sector>[a-z]+)/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)/")
DEMO_TEST = re.compile(r"^tests/demos/test_[a-z0-9_]+\.py$")


def demo_test(slug: str) -> str:
    """Return the test file of a demo slug."""
    return f"{DEMO_TESTS}/test_{slug.replace('-', '_')}.py"


def tests_for(changed: list[str], root: Path = ROOT) -> list[str]:
    """Return the demo test files (that exist under root) affected by the changed paths, sorted."""
    paths = [p.strip().removeprefix("./") for p in changed if p.strip()]
    if any(RUN_ALL.match(p) for p in paths):
        return sorted(str(p.relative_to(root)) for p in (root / DEMO_TESTS).glob("test_*.py"))
    selected = set()
    for path in paths:
        match = DEMO_PATH.match(path)
        if match:
            selected.add(demo_test(match["slug"]))
        elif DEMO_TEST.match(path):
            selected.add(path)
    # A removed demo takes its test with it; only files that exist can run.
    return sorted(p for p in selected if (root / p).is_file())


def main(argv: list[str] | None = None) -> int:
    """Read changed paths (arguments, else stdin) and print the demo tests to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="changed paths (default: read from stdin, one per line)")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    changed = args.paths or sys.stdin.read().splitlines()
    for test in tests_for(changed, args.root):
        print(test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
