"""`gallery space export DIR`: write a ready Hugging Face Docker Space (card, Dockerfile, sources, demos)."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from gallery.discovery import DemoEntry, default_demos_dir, discover
from gallery.runtime.spec import HubSource, PathSource

# The checkout the image is built from: the package's parent folder (pyproject.toml beside gallery/).
SOURCE_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = Path("deploy") / "docker" / "Dockerfile"
# What the image build needs from the checkout (the Dockerfile copies from these); demos are added per selection.
SOURCE_ITEMS = ("pyproject.toml", "Makefile", "LICENSE", "gallery", "shared", "benchmarks", "deploy")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", "node_modules")
# The Hub's documented front matter (https://huggingface.co/docs/hub/spaces-config-reference).
COLOURS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
SHORT_DESCRIPTION_CHARS = 60  # the Hub refuses a longer short_description
# Task names of the gallery's own runtime, not the Hub's task vocabulary: no use as a Space tag.
INTERNAL_TASKS = {"custom", "torch-module", "onnx"}
APP_PORT = 7860
DOCKERIGNORE = """\
# Not part of the image: environments, caches and test output of whoever exported the Space.
.git
.venv*
**/__pycache__
**/*.pyc
test-artifacts
*.egg-info
"""


class SpaceExportError(ValueError):
    """The Space cannot be written; the message says why and what to do."""


def _short(text: str, limit: int = SHORT_DESCRIPTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,.;:") + "…"


def front_matter(entries: list[DemoEntry], title: str | None = None, emoji: str = "🌊") -> dict[str, Any]:
    """Return the Space card's YAML fields for these demos (models: only those that are Hub ids)."""
    manifests = [e.manifest for e in entries if e.manifest is not None]
    if len(manifests) == 1:
        only = manifests[0]
        title = title or f"{only.title.en} · OpenModels"
        short = only.summary.en
    else:
        title = title or "OpenModels Gallery"
        short = f"{len(manifests)} open AI demos that run on a CPU, in English and 中文"
    sectors = sorted({m.sector for m in manifests})
    tasks = sorted({spec.task for m in manifests for spec in m.models.values()} | {m.task for m in manifests})
    models = sorted({spec.source.hub for m in manifests for spec in m.models.values()
                     if isinstance(spec.source, HubSource)})
    tags = [t for t in tasks if t not in INTERNAL_TASKS and re.fullmatch(r"[a-z0-9-]+", t)]
    data: dict[str, Any] = {
        "title": title, "emoji": emoji, "colorFrom": "blue", "colorTo": "green", "sdk": "docker",
        "app_port": APP_PORT, "short_description": _short(short), "license": "apache-2.0", "pinned": False,
        "tags": ["openmodels", "onnxruntime", "gradio", *sectors, *tags],
    }
    if models:
        data["models"] = models
    return data


def card(entries: list[DemoEntry], data: dict[str, Any]) -> str:
    """Return the Space's README.md: the front matter, then what the Space serves and where feedback goes."""
    rows = "\n".join(f"| {e.manifest.sector} | {e.manifest.title.en} / {e.manifest.title.zh} | `{e.id}` |"
                     for e in entries if e.manifest is not None)
    head = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).strip()
    return f"""---
{head}
---

# {data['title']}

Real AI demos from the OpenModels community, served by the OpenModels Gallery.
Every model was converted, exported and checked when this Space was built, so the first visitor of each demo
gets a warm model. Each demo has its own page at `/demo/<sector>/<slug>/`, a JSON API (`/api/docs`) and an
MCP endpoint for AI agents (`/mcp`).

| sector | demo | id |
|---|---|---|
{rows}

## Where feedback goes

The "Was this useful?" ratings are kept in a database. A Space's disk is lost at every restart, so choose one:
- **An external PostgreSQL** (recommended; replicas can share it): in the Space's *Settings → Variables and
  secrets*, add a **secret** `OPENMODELS_DATABASE_URL` = `postgresql+psycopg://USER:PASSWORD@HOST:5432/DB`.
  The schema is created and upgraded when the Space starts.
- **The Space's persistent storage**: enable it in *Settings*; it is mounted at `/data`, where the image keeps
  its SQLite file (`OPENMODELS_DATA=/data`).
- Neither: feedback is kept until the Space restarts.

A secret `OPENMODELS_API_TOKEN` locks the Space behind `Authorization: Bearer <token>`.

This folder was written by `gallery space export`; to change it, change the gallery and export again.
"""


def selected_entries(demos_dir: Path, select: list[str]) -> list[DemoEntry]:
    """Return the demos to ship: the selection's, or every demo; raise if a selector matches nothing."""
    index = discover(demos_dir, select or None)
    unknown = [s for s in select if discover(demos_dir, [s]).entries == []]
    if unknown:
        raise SpaceExportError(f"no demo or sector matches {', '.join(unknown)} (see `gallery list`)")
    broken = [f"{e.id}: {e.error or 'invalid manifest'}" for e in index.entries if e.manifest is None]
    if broken:
        raise SpaceExportError("fix these demos first (`gallery check`): " + "; ".join(broken))
    return index.entries


def _outside_paths(entry: DemoEntry) -> list[str]:
    assert entry.manifest is not None
    found = []
    for name, spec in entry.manifest.models.items():
        if isinstance(spec.source, PathSource):
            path = (entry.path / spec.source.path).resolve()
            if not path.is_relative_to(entry.path.resolve()):
                found.append(f"{entry.id} model {name}: {spec.source.path} is outside the demo folder")
    return found


def export_space(target: Path, demos_dir: Path, select: list[str], title: str | None = None, emoji: str = "🌊",
                 force: bool = False, source_root: Path = SOURCE_ROOT) -> list[DemoEntry]:
    """Write the Space into `target`; return the demos it serves."""
    if not (source_root / "pyproject.toml").exists() or not (source_root / DOCKERFILE).exists():
        raise SpaceExportError(f"{source_root} is not a gallery checkout (no pyproject.toml or {DOCKERFILE}); "
                               "run `gallery space export` from a clone of the repository")
    if target.exists() and any(target.iterdir()) and not force:
        raise SpaceExportError(f"{target} is not empty; choose an empty folder or pass --force to replace it")
    entries = selected_entries(demos_dir, select)
    outside = [p for e in entries for p in _outside_paths(e)]
    if outside:
        raise SpaceExportError("a Space gets only the demo folders: " + "; ".join(outside))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for item in SOURCE_ITEMS:
        src = source_root / item
        if src.is_dir():
            shutil.copytree(src, target / item, ignore=IGNORED)
        elif src.is_file():
            shutil.copy2(src, target / item)
    (target / "demos").mkdir()
    for entry in entries:
        shutil.copytree(entry.path, target / "demos" / entry.sector / entry.slug, ignore=IGNORED)
    for shared_file in sorted(p for p in demos_dir.iterdir() if p.is_file()):  # e.g. shared model specs
        shutil.copy2(shared_file, target / "demos" / shared_file.name)
    # Spaces build the Dockerfile at the repository's root, with the root as the context.
    shutil.copy2(source_root / DOCKERFILE, target / "Dockerfile")
    (target / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
    data = front_matter(entries, title, emoji)
    (target / "README.md").write_text(card(entries, data), encoding="utf-8")
    return entries


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `space export` to the `gallery` command."""
    space = sub.add_parser("space", help="Hugging Face Spaces: write a ready Docker Space")
    actions = space.add_subparsers(dest="space_command", required=True)
    export = actions.add_parser("export", help="write a Docker Space (card, Dockerfile, sources, demos) into DIR")
    export.add_argument("target", type=Path, metavar="DIR")
    export.add_argument("--demo", action="append", default=[], help="only this demo <sector>/<slug> (repeatable)")
    export.add_argument("--sector", action="append", default=[], help="only this sector (repeatable)")
    export.add_argument("--title", help="the Space's title (default: the demo's, or OpenModels Gallery)")
    export.add_argument("--emoji", default="🌊", help="the Space's emoji (default 🌊)")
    export.add_argument("--demos-dir", type=Path, help="demos folder (default: this checkout's demos/)")
    export.add_argument("--force", action="store_true", help="replace DIR if it is not empty")


def cmd_space(args: argparse.Namespace) -> int:
    """Run `gallery space export`."""
    try:
        entries = export_space(args.target, args.demos_dir or default_demos_dir(), [*args.sector, *args.demo],
                               title=args.title, emoji=args.emoji, force=args.force)
    except SpaceExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote a Docker Space with {len(entries)} demo(s) to {args.target}\n"
          f"  next: hf repos create USER/NAME --type space --space-sdk docker\n"
          f"        hf upload USER/NAME {args.target} . --type space")
    return 0
