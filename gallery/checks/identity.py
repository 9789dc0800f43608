"""Identity: the folder sits at `<sector>/<slug>`, `id` and `sector` agree with it, owners are GitHub handles."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from gallery.checks.base import DemoFolder, Problem
from gallery.manifest import SECTORS, SLUG_RE

# A GitHub user (@name) or team (@org/team); CODEOWNERS accepts nothing else but e-mail addresses.
OWNER_RE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _folder_problems(folder: DemoFolder) -> list[Problem]:
    problems = []
    if folder.sector not in SECTORS:
        problems.append(Problem(folder.path, "(folder)",
                                f"sector folder {folder.sector!r} is not one of {', '.join(SECTORS)}"))
    if not SLUG_RE.match(folder.slug):
        problems.append(Problem(folder.path, "(folder)",
                                f"folder name {folder.slug!r} must be kebab-case: lower-case letters, digits and "
                                "single hyphens, e.g. 'bus-delay-forecast'"))
    return problems


def check(folder: DemoFolder) -> list[Problem]:
    """Report a misplaced folder, an `id`/`sector` that disagrees with it, and owners that are not handles."""
    problems = _folder_problems(folder)
    if folder.data is None:
        return problems
    path = folder.manifest_path
    folder_ok = not problems
    demo_id, sector = folder.get("id"), folder.get("sector")
    if demo_id is None:
        problems.append(Problem(path, "id", f"missing: set it to {folder.id!r} (<sector>/<folder name>)"))
    elif not isinstance(demo_id, str):
        problems.append(Problem(path, "id", f"must be text, e.g. {folder.id!r}"))
    elif demo_id != folder.id and folder_ok:
        problems.append(Problem(path, "id", f"is {demo_id!r} but the folder is {folder.id!r}; they must be equal"))
    if sector is None:
        problems.append(Problem(path, "sector", f"missing: set it to {folder.sector!r} (the parent folder)"))
    elif sector != folder.sector and folder.sector in SECTORS:
        problems.append(Problem(path, "sector",
                                f"is {sector!r} but the parent folder is {folder.sector!r}; they must be equal"))
    owners = folder.get("owners")
    if isinstance(owners, list):
        for index, owner in enumerate(owners):
            if isinstance(owner, str) and not (OWNER_RE.match(owner) or EMAIL_RE.match(owner)):
                hint = f"'@{owner}'" if OWNER_RE.match(f"@{owner}") else "'@user' or '@org/team'"
                problems.append(Problem(path, f"owners[{index}]",
                                        f"{owner!r} is not a GitHub handle; write {hint} (CODEOWNERS needs it)"))
    return problems


def check_repo(root: Path, folders: list[DemoFolder]) -> list[Problem]:
    """Report slugs used in two sectors: demo tests (`tests/demos/test_<slug>.py`) would collide."""
    by_slug: dict[str, list[DemoFolder]] = defaultdict(list)
    for folder in folders:
        by_slug[folder.slug].append(folder)
    problems = []
    for slug, same in sorted(by_slug.items()):
        for folder in same[1:]:
            problems.append(Problem(folder.path, "(folder)",
                                    f"slug {slug!r} is also used by {same[0].id}; slugs must be unique across "
                                    f"sectors (demo tests are named tests/demos/test_<slug>.py)"))
    return problems
