"""Demo tests: every demo has `tests/demos/test_<slug>.py`, the file CI runs when the demo changes."""

from __future__ import annotations

from gallery.checks.base import DemoFolder, Problem


def check(folder: DemoFolder) -> list[Problem]:
    """Report a demo without its test file."""
    if folder.test_file.is_file():
        return []
    return [Problem(folder.test_file, "(file)",
                    f"missing: the tests of {folder.id} (`gallery new` starts one; CI runs it when the demo changes)")]
