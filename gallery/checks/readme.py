"""Model card: README.md has the required `##` sections, each with some text."""

from __future__ import annotations

import re
from pathlib import Path

from gallery.checks.base import README_NAME, DemoFolder, Problem
from gallery.manifest import SECTORS_NEEDING_DISCLAIMER

REQUIRED_SECTIONS = ("What it does", "Model", "Intended use", "Limitations")
DISCLAIMER_SECTION = "Disclaimer"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def read_sections(path: Path) -> dict[str, str] | None:
    """Return the card's `##` sections as {heading text: body}, or None when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            if current is not None:
                sections.setdefault(current, "\n".join(lines).strip())
            current = match.group(2) if len(match.group(1)) == 2 else None
            lines = []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections.setdefault(current, "\n".join(lines).strip())
    return sections


def section(sections: dict[str, str], name: str) -> str | None:
    """Return the body of the section called `name` (also `## Name (anything)`), or None when absent."""
    pattern = re.compile(rf"^{re.escape(name)}(?:$|[^\w])", re.I)
    return next((body for heading, body in sections.items() if pattern.match(heading)), None)


def required_sections(sector: str) -> tuple[str, ...]:
    """Return the sections a card needs in this sector."""
    extra = (DISCLAIMER_SECTION,) if sector in SECTORS_NEEDING_DISCLAIMER else ()
    return REQUIRED_SECTIONS + extra


def check(folder: DemoFolder) -> list[Problem]:
    """Report a missing README.md, missing sections and empty ones."""
    path = folder.path / README_NAME
    needed = required_sections(folder.sector)
    listing = ", ".join(f"## {name}" for name in needed)
    if not path.is_file():
        return [Problem(path, "(file)", f"missing: every demo needs a model card with {listing}")]
    sections = read_sections(path)
    if sections is None:
        return [Problem(path, "(file)", "cannot be read as UTF-8 text")]
    problems = []
    for name in needed:
        body = section(sections, name)
        if body is None:
            why = " (healthcare and finance demos)" if name == DISCLAIMER_SECTION else ""
            problems.append(Problem(path, f"## {name}", f"missing section{why}; the card needs {listing}"))
        elif not body:
            problems.append(Problem(path, f"## {name}", "is empty; write a few sentences"))
    return problems
