"""`gallery check`: the gallery's rules for demo folders, one module per rule, problems collected not raised.

Each folder check is `check(folder: DemoFolder) -> list[Problem]`; repo checks look at the whole demos tree.
A problem reads `path: field: message`. Every check runs inside its own boundary, so a crash in one is
reported as a problem and the others still run.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Callable

from gallery.checks import (
    app_code,
    bilingual,
    demo_tests,
    disclaimer,
    examples,
    files,
    generated,
    identity,
    licences,
    readme,
    requirements,
    schema,
    sources,
)
from gallery.checks.base import DemoFolder, Problem, all_folders, display_path
from gallery.manifest import MANIFEST_NAME

logger = logging.getLogger(__name__)

FolderCheck = Callable[[DemoFolder], list[Problem]]
RepoCheck = Callable[[Path, list[DemoFolder]], list[Problem]]

FOLDER_CHECKS: dict[str, FolderCheck] = {
    "schema": schema.check,
    "identity": identity.check,
    "bilingual": bilingual.check,
    "disclaimer": disclaimer.check,
    "licences": licences.check,
    "sources": sources.check,
    "requirements": requirements.check,
    "examples": examples.check,
    "files": files.check,
    "app_code": app_code.check,
    "readme": readme.check,
    "demo_tests": demo_tests.check,
}
REPO_CHECKS: dict[str, RepoCheck] = {
    "model_catalog": schema.check_catalog,
    "identity": identity.check_repo,
    "generated": lambda root, folders: generated.check(root),
}

__all__ = ["FOLDER_CHECKS", "REPO_CHECKS", "DemoFolder", "Problem", "check_folder", "run_check_command",
           "run_checks", "select_folders"]


def _guarded(name: str, where: Path, run: Callable[[], list[Problem]]) -> list[Problem]:
    try:
        return [Problem(p.path, p.field, p.message, p.check or name) for p in run()]
    # A bug in one check, or a folder it did not foresee, must not hide what the other checks find.
    except Exception as exc:  # noqa: BLE001
        logger.exception("check %s crashed on %s", name, where)
        return [Problem(where, f"(check {name})",
                        f"the check crashed ({type(exc).__name__}: {exc}); this is a bug in gallery check, "
                        "please report it", name)]


def check_folder(folder: DemoFolder, only: list[str] | None = None) -> list[Problem]:
    """Run the folder checks (all, or those named in `only`) on one demo folder."""
    problems = []
    for name, check in FOLDER_CHECKS.items():
        if only is None or name in only:
            problems += _guarded(name, folder.path, lambda check=check: check(folder))  # type: ignore[misc]
    return problems


def select_folders(root: Path, paths: list[Path]) -> tuple[list[DemoFolder], list[Problem]]:
    """Resolve command-line paths (demo folders, demo.yaml files, sector folders, the root) to demo folders."""
    if not paths:
        return all_folders(root), []
    chosen: dict[Path, DemoFolder] = {}
    problems = []
    resolved_root = root.resolve()
    for given in paths:
        path = given.resolve()
        if path.is_file() and path.name == MANIFEST_NAME:
            path = path.parent
        if not path.exists():
            problems.append(Problem(given, "(path)", "does not exist"))
        elif path == resolved_root:
            chosen.update((f.path.resolve(), f) for f in all_folders(root))
        elif path.is_dir() and ((path / MANIFEST_NAME).exists() or path.parent.parent == resolved_root):
            chosen.setdefault(path, DemoFolder(path, path.parent.parent))
        elif path.is_dir() and path.parent == resolved_root:
            chosen.update((f.path.resolve(), f) for f in all_folders(root) if f.sector == path.name)
        else:
            problems.append(Problem(given, "(path)", "is not a demo folder (no demo.yaml), a sector folder or "
                                                     "the demos folder"))
    return list(chosen.values()), problems


def run_checks(root: Path, paths: list[Path] | None = None) -> tuple[list[Problem], int]:
    """Check the chosen folders (default: all) and, when they lie in `root`, the repo-wide rules."""
    folders, problems = select_folders(root, list(paths or []))
    for folder in folders:
        problems += check_folder(folder)
    resolved_root = root.resolve()
    if not paths or any(f.path.resolve().is_relative_to(resolved_root) for f in folders):
        everything = all_folders(root)
        for name, check in REPO_CHECKS.items():
            problems += _guarded(name, root, lambda check=check: check(root, everything))  # type: ignore[misc]
    return problems, len(folders)


def fix_generated(root: Path) -> list[Path]:
    """Rewrite demos/INDEX.md and CODEOWNERS from the manifests; return what changed."""
    return generated.fix(root)


def run_check_command(demos_dir: Path, paths: list[Path], fix: bool, as_json: bool) -> int:
    """Run `gallery check`: print problems (text or JSON), return 1 when there is any, else 0."""
    if fix:
        for path in fix_generated(demos_dir):
            print(f"updated {display_path(path)}", file=sys.stderr)
    problems, count = run_checks(demos_dir, paths)
    if as_json:
        print(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            print(problem)
        folders = f"{count} demo folder{'s' if count != 1 else ''}"
        if problems:
            print(f"gallery check: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {folders}",
                  file=sys.stderr)
        else:
            print(f"gallery check: {folders}, no problems", file=sys.stderr)
    return 1 if problems else 0
