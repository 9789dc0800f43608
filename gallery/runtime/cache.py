"""The persistent export cache: converted sources and ONNX exports, keyed by everything that shapes them."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the layout of an entry changes
META = "meta.json"
USED = ".used"  # touched each time an entry is used; `gallery cache prune` reads its time
# Serving-side tools that shape what the serving process exports itself (`torch-module` specs); Optimum exports
# are keyed by the exporter environment's versions instead (exporter.client.tool_versions).
TOOL_DISTRIBUTIONS = ("onnx", "onnxruntime", "onnxruntime-gpu", "torch", "openvino")


def tool_versions(distributions: tuple[str, ...] = TOOL_DISTRIBUTIONS) -> dict[str, str]:
    """Return the installed versions of the tools whose change can change an export (this environment's)."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cache_key(fields: dict[str, Any]) -> str:
    """Return a short stable hash of the key fields."""
    blob = json.dumps({"format": CACHE_FORMAT, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` across threads and processes (a server and `gallery pull` may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(str(path), threading.Lock())
    with tlock, open(path.with_name(path.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_meta(entry: Path) -> dict[str, Any] | None:
    """Return an entry's metadata, or None when the entry is missing or incomplete."""
    try:
        return json.loads((entry / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_meta(entry: Path, meta: dict[str, Any]) -> None:
    """Write an entry's metadata atomically."""
    tmp = entry / f".{META}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, entry / META)


def build_once(entry: Path, build: Callable[[Path], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Return the entry's metadata, building it first if absent; returns (meta, built_now).

    `build(tmp_dir)` writes the files into a temporary folder and returns the metadata; the folder is then
    renamed into place, so a crash or a concurrent reader never sees a half-written entry.
    """
    meta = read_meta(entry)
    if meta is not None:
        mark_used(entry)
        return meta, False
    with locked(entry):
        meta = read_meta(entry)  # another thread or process may have built it while we waited
        if meta is not None:
            mark_used(entry)
            return meta, False
        tmp = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir(parents=True)
        try:
            meta = build(tmp)
            write_meta(tmp, meta)
            if entry.exists():  # an incomplete leftover without meta.json
                shutil.rmtree(entry)
            os.replace(tmp, entry)
            mark_used(entry)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return meta, True


def mark_used(entry: Path) -> None:
    """Record that an entry was used now (for `gallery cache prune`)."""
    try:
        (entry / USED).touch()
    except OSError as exc:  # a read-only cache still serves; it just cannot be pruned by last use
        logger.debug("cannot mark %s as used: %s", entry, exc)


def last_used(entry: Path) -> float | None:
    """Return when an entry was last used (seconds since the epoch), or None when that was never recorded."""
    try:
        return (entry / USED).stat().st_mtime
    except OSError:
        return None


def dir_size(path: Path) -> int:
    """Return the total size in bytes of the files below `path`."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
