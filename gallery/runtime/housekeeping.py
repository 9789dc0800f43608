"""`gallery cache`: list the model cache's entries with their size and last use, and prune the unused ones.

Every entry (a converted source, an export, an int8 variant) is a folder `<cache>/<area>/<group>/<key>/`
with a `meta.json`. `cache.build_once` touches the entry's `.used` marker each time a model loads from it, so
the last use is known without a database. Entries that this installation can no longer reach, because a
tool version or the export layout changed their key, are never used again and age out; `prune` removes
what has not been used for a number of days (30 by default).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gallery.runtime import cache

AREAS = ("sources", "converted", "exports")
DEFAULT_UNUSED_DAYS = 30.0
DAY = 86400.0


@dataclass(frozen=True)
class CacheEntry:
    """One folder of the cache and what its meta.json says."""

    path: Path
    area: str  # sources, converted or exports
    group: str  # converter or export class, e.g. ORTModelForSpeechSeq2Seq
    key: str
    bytes: int
    built: float  # seconds since the epoch
    last_used: float
    source: str | None
    task: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def list_entries(cache_dir: Path) -> list[CacheEntry]:
    """Return every complete entry of the cache, least recently used first."""
    entries = []
    for area in AREAS:
        for meta_file in sorted((cache_dir / area).glob(f"*/*/{cache.META}")):
            folder = meta_file.parent
            if folder.name.startswith("."):  # a build in progress (renamed into place when done)
                continue
            meta = cache.read_meta(folder)
            if meta is None:  # unreadable: a build in progress or a damaged entry; left to build_once
                continue
            built = meta_file.stat().st_mtime
            entries.append(CacheEntry(
                path=folder, area=area, group=folder.parent.name, key=folder.name, bytes=cache.dir_size(folder),
                built=built, last_used=cache.last_used(folder) or built,
                source=meta.get("source") or _variant_of(folder.name, meta), task=meta.get("task")))
    return sorted(entries, key=lambda e: (e.last_used, str(e.path)))


def _variant_of(key: str, meta: dict[str, Any]) -> str | None:
    """Describe an int8 variant by its recipe and the export it was made from."""
    if "-int8-" not in key:
        return None
    return f"int8 ({meta.get('recipe', '?')}) of {key.split('-int8-', 1)[0]}"


def prune(cache_dir: Path, unused_days: float, dry_run: bool = False) -> list[CacheEntry]:
    """Remove the entries not used for `unused_days` days; return them (only list them with `dry_run`)."""
    cutoff = time.time() - unused_days * DAY
    removed = []
    for entry in list_entries(cache_dir):
        if entry.last_used >= cutoff:
            continue
        if not dry_run:
            # Under the entry's lock: a server or `gallery pull` building or reading it waits, then rebuilds.
            with cache.locked(entry.path):
                if (cache.last_used(entry.path) or 0) >= cutoff:  # used while we were listing
                    continue
                shutil.rmtree(entry.path)
            # The entry's .lock file stays: another process may be waiting on it right now.
        removed.append(entry)
    return removed


def human_size(count: float) -> str:
    """Return a byte count as B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _age(seconds: float) -> str:
    days = (time.time() - seconds) / DAY
    return "today" if days < 1 else f"{days:.0f} days ago"


def _table(entries: list[CacheEntry]) -> str:
    names = [f"{entry.area}/{entry.group}/{entry.key}" for entry in entries]
    width = max(len(name) for name in names)
    lines = [f"{'last used':<14}  {'size':>10}  {'entry':<{width}}  source"]
    for entry, name in zip(entries, names):
        lines.append(f"{_age(entry.last_used):<14}  {human_size(entry.bytes):>10}  {name:<{width}}  "
                     f"{entry.source or '-'}")
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `gallery cache [list|prune]` to the `gallery` command."""
    parser = sub.add_parser("cache", help="list the model cache (sizes, last use) or prune unused entries")
    actions = parser.add_subparsers(dest="cache_command")
    listing = actions.add_parser("list", help="every entry with its size and last use (the default)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    pruning = actions.add_parser("prune", help="remove the entries not used for a while")
    pruning.add_argument("--unused-days", type=float, default=DEFAULT_UNUSED_DAYS, metavar="N",
                         help=f"remove entries not used for N days (default {DEFAULT_UNUSED_DAYS:g}; 0: all)")
    pruning.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    pruning.add_argument("--json", action="store_true", help="print JSON")
    for each in (parser, listing, pruning):
        each.add_argument("--cache-dir", type=Path, default=argparse.SUPPRESS,
                          help="model/export cache (default $OPENMODELS_CACHE or ~/.cache/openmodels)")


def cmd_cache(args: argparse.Namespace) -> int:
    """Run `gallery cache list` or `gallery cache prune`."""
    from gallery.runtime.doctor import default_cache_dir

    cache_dir = getattr(args, "cache_dir", None) or default_cache_dir()
    if args.cache_command == "prune":
        if args.unused_days < 0:
            print("error: --unused-days must be 0 or more", file=sys.stderr)
            return 2
        entries = prune(cache_dir, args.unused_days, args.dry_run)
        if args.json:
            print(json.dumps([e.as_dict() for e in entries], indent=2))
            return 0
        verb = "would remove" if args.dry_run else "removed"
        if entries:
            print(_table(entries))
        total = human_size(sum(e.bytes for e in entries))
        print(f"{verb} {len(entries)} entries ({total}) not used for {args.unused_days:g} days from {cache_dir}")
        return 0
    entries = list_entries(cache_dir)
    if getattr(args, "json", False):
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    if entries:
        print(_table(entries))
    print(f"{len(entries)} entries, {human_size(sum(e.bytes for e in entries))} in {cache_dir}")
    return 0
