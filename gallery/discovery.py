"""Index demo folders from their manifests alone: a sorted walk, no imports, no side effects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from gallery.manifest import (
    MANIFEST_NAME,
    SECTORS,
    Manifest,
    ManifestError,
    ManifestProblem,
    load_manifest,
    read_manifest_data,
)

logger = logging.getLogger(__name__)

PACKAGE_DEMOS_DIR = Path(__file__).resolve().parent.parent / "demos"
PROJECT_NAME = 'name = "openmodels-gallery"'


def checkout_demos_dir(start: Path | None = None) -> Path | None:
    """Return the `demos/` of the OpenModels checkout that holds `start` (the working directory), if any.

    A contributor may have several checkouts (a fork, a review copy) and one installed `gallery` command: the
    checkout they stand in is the one they mean, not the one the command was installed from.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        project = folder / "pyproject.toml"
        try:
            if (folder / "demos").is_dir() and PROJECT_NAME in project.read_text(encoding="utf-8"):
                return folder / "demos"
        except OSError:
            continue
    return None


def default_demos_dir() -> Path:
    """Return the demos folder a command means by default: the working checkout's, else the installed one's."""
    return checkout_demos_dir() or PACKAGE_DEMOS_DIR


DEFAULT_DEMOS_DIR = PACKAGE_DEMOS_DIR  # the installed package's own demos (library callers, tests)


@dataclass
class DemoEntry:
    """One demo folder as found on disk: its manifest, or why it has none that is usable."""

    id: str
    path: Path
    manifest: Manifest | None = None
    stage: str | None = None  # where it failed: manifest, import, build
    error: str | None = None
    problems: list[ManifestProblem] = field(default_factory=list)

    @property
    def sector(self) -> str:
        """Return the sector folder name."""
        return self.id.split("/", 1)[0]

    @property
    def slug(self) -> str:
        """Return the demo folder name."""
        return self.id.split("/", 1)[1]

    @property
    def available(self) -> bool:
        """Return whether the demo can be served (valid manifest, not disabled, no failure)."""
        return self.manifest is not None and self.error is None and not self.manifest.disabled

    def fail(self, stage: str, error: str) -> None:
        """Mark the demo unavailable at `stage` with a reason."""
        self.stage = stage
        self.error = error
        logger.warning("demo %s unavailable (%s): %s [%s]", self.id, stage, error, self.path)


@dataclass
class DemoIndex:
    """All demos found under a root, in a stable order (sector order, then slug)."""

    root: Path
    entries: list[DemoEntry]

    def get(self, demo_id: str) -> DemoEntry | None:
        """Return the entry with `demo_id`, if any."""
        return next((e for e in self.entries if e.id == demo_id), None)

    def by_sector(self, sector: str) -> list[DemoEntry]:
        """Return the entries of one sector."""
        return [e for e in self.entries if e.sector == sector]

    @property
    def available(self) -> list[DemoEntry]:
        """Return the entries that can be served."""
        return [e for e in self.entries if e.available]

    @property
    def unavailable(self) -> list[DemoEntry]:
        """Return the entries that cannot be served, with their reasons."""
        return [e for e in self.entries if not e.available]


def _is_demo_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith((".", "_"))


def manifest_paths(root: Path) -> list[Path]:
    """Return every `<sector>/<slug>/demo.yaml` under root, sorted, skipping `_template`-like folders."""
    found = []
    for sector_dir in sorted(p for p in root.iterdir() if _is_demo_dir(p)) if root.is_dir() else []:
        for demo_dir in sorted(p for p in sector_dir.iterdir() if _is_demo_dir(p)):
            if (demo_dir / MANIFEST_NAME).is_file():
                found.append(demo_dir / MANIFEST_NAME)
    return found


def _sort_key(entry: DemoEntry) -> tuple[int, str]:
    sector_rank = SECTORS.index(entry.sector) if entry.sector in SECTORS else len(SECTORS)
    return sector_rank, entry.id


def discover(root: Path, select: list[str] | None = None) -> DemoIndex:
    """Index demos under `root`; `select` keeps only matching ids or whole sectors."""
    entries: list[DemoEntry] = []
    seen: dict[str, DemoEntry] = {}
    for manifest_path in manifest_paths(root):
        folder_id = f"{manifest_path.parent.parent.name}/{manifest_path.parent.name}"
        entry = DemoEntry(id=folder_id, path=manifest_path.parent)
        try:
            entry.manifest = load_manifest(manifest_path)
        except ManifestError as exc:
            entry.problems = exc.problems
            entry.fail("manifest", "; ".join(f"{p.field}: {p.message}" for p in exc.problems))
        declared = _declared_id(manifest_path) or folder_id
        if declared in seen:
            other = seen[declared]
            message = f"duplicate id {declared!r}: declared in {other.path} and {entry.path}"
            entry.fail("manifest", message)
            if other.error is None:
                other.fail("manifest", message)
        seen[declared] = entry
        entries.append(entry)
    if select:
        entries = [e for e in entries if _selected(e.id, select)]
    entries.sort(key=_sort_key)
    return DemoIndex(root=root, entries=entries)


def _declared_id(manifest_path: Path) -> str | None:
    """Return the `id` a manifest declares, even when the manifest is otherwise invalid."""
    try:
        value = read_manifest_data(manifest_path).get("id")
    except ManifestError:
        return None
    return value if isinstance(value, str) else None


def _selected(demo_id: str, select: list[str]) -> bool:
    return any(demo_id == s or demo_id.split("/", 1)[0] == s for s in select)
