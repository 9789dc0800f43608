"""Podman for the image test: its own storage, a Debian base image made with debootstrap, an offline wheelhouse.

No image registry is reachable from the test machines, so the base image is built from Debian packages
(`debootstrap`, cached as a tarball) and pip inside the build installs from a host wheelhouse
(deploy/docker/wheelhouse.py, mounted at /wheelhouse). Everything is kept under `$OPENMODELS_DEPLOY_CACHE`
(default ~/.cache/openmodels-deploy), so a second run reuses the base image, the wheels and the build's layers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("OPENMODELS_DEPLOY_CACHE") or Path.home() / ".cache" / "openmodels-deploy")
SUITE = "bookworm"  # Debian 12's python3 is 3.11: the wheels of this machine's environments fit it
MIRROR = os.environ.get("OPENMODELS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# What the issue found to work in this sandbox: chroot isolation for builds, runc and modest ulimits for runs.
RUN_FLAGS = ("--runtime", "runc", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:1024")


def _wheelhouse_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "deploy" / "docker" / "wheelhouse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Podman:
    """podman with this test's own storage (so it neither fills nor disturbs anyone else's)."""

    root: Path = CACHE / "storage"
    runroot: Path = Path(tempfile.gettempdir()) / "openmodels-podman-run"
    # overlay works here; OPENMODELS_PODMAN_DRIVER=vfs where the kernel refuses it.
    driver: str = field(default_factory=lambda: os.environ.get("OPENMODELS_PODMAN_DRIVER", "overlay"))

    def command(self, *args: str) -> list[str]:
        """Return a podman command line with this storage."""
        executable = shutil.which("podman")
        assert executable, "podman is not installed"
        return [executable, "--root", str(self.root), "--runroot", str(self.runroot),
                "--storage-driver", self.driver, *args]

    def run(self, *args: str, timeout: float = 120, check: bool = True,
            input_file: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run podman; on failure raise with its output."""
        stdin = open(input_file, "rb") if input_file else subprocess.DEVNULL  # noqa: SIM115 (closed below)
        try:
            result = subprocess.run(self.command(*args), stdin=stdin, capture_output=True, timeout=timeout)
        finally:
            if input_file:
                stdin.close()  # type: ignore[union-attr]
        out = subprocess.CompletedProcess(result.args, result.returncode,
                                          result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace"))
        if check and out.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args[:3])} failed ({out.returncode}):\n{out.stdout[-4000:]}"
                               f"\n{out.stderr[-4000:]}")
        return out

    def image_exists(self, name: str) -> bool:
        """Return whether the image is in this storage."""
        return self.run("image", "exists", name, check=False).returncode == 0


def base_image(podman: Podman) -> tuple[str, dict[str, float]]:
    """Return a Debian base image with python3 (debootstrap once, then the cached tarball); and its timings."""
    key = hashlib.sha256(f"{SUITE} minbase {sorted(BASE_PACKAGES)} {MIRROR}".encode()).hexdigest()[:12]
    name = f"localhost/openmodels-base:{SUITE}-{key}"
    timings: dict[str, float] = {}
    if podman.image_exists(name):
        return name, timings
    tarball = CACHE / f"base-{SUITE}-{key}.tar"
    if not tarball.exists():
        debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
        assert Path(debootstrap).exists(), "debootstrap is not installed (make test-deploy installs it)"
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="openmodels-rootfs-", dir=CACHE) as tmp:
            rootfs = Path(tmp) / "rootfs"
            result = subprocess.run([debootstrap, "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE,
                                     str(rootfs), MIRROR], capture_output=True, text=True, timeout=1800)
            if result.returncode != 0:
                raise RuntimeError(f"debootstrap failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
            # apt's lists and downloaded packages are of no use in an image.
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for item in (rootfs / junk).glob("*"):
                    if item.is_file():
                        item.unlink()
            partial = tarball.with_suffix(".tar.tmp")
            subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], check=True,
                           timeout=600)
            os.replace(partial, tarball)
        timings["debootstrap_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    podman.run("import", "-", name, input_file=tarball, timeout=600)
    timings["base_import_s"] = round(time.monotonic() - started, 1)
    return name, timings


def wheelhouse() -> tuple[Path, float]:
    """Return a complete wheelhouse for this checkout's two environments (filled once per set of pins)."""
    started = time.monotonic()
    path: Path = _wheelhouse_module().fill(CACHE)
    return path, round(time.monotonic() - started, 1)


# A build writes about 10 GB of layers (two environments, every model's export) before old ones can go.
MIN_FREE_BYTES = 14 * 1024**3


def build(podman: Podman, tag: str, base: str, wheels: Path, log: Path) -> float:
    """Build deploy/docker/Dockerfile from the repository root, offline; return the seconds it took."""
    free = shutil.disk_usage(podman.root.parent if not podman.root.exists() else podman.root).free
    if free < MIN_FREE_BYTES:
        raise RuntimeError(f"only {free / 1024**3:.1f} GiB free where podman keeps its images ({podman.root}); "
                           f"a build needs about {MIN_FREE_BYTES // 1024**3} GiB")
    started = time.monotonic()
    args = ("build", "--isolation=chroot", "--format", "docker", "--layers", "-f", "deploy/docker/Dockerfile",
            "-t", tag, "--build-arg", f"BASE_IMAGE={base}", "--build-arg", "PIP_FIND_LINKS=/wheelhouse",
            "--build-arg", "PIP_NO_INDEX=1", "-v", f"{wheels}:/wheelhouse:ro", str(ROOT))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        # The build log goes to a file (it is long); its end is in the failure message.
        result = subprocess.run(podman.command(*args), stdout=out, stderr=subprocess.STDOUT, timeout=3600, cwd=ROOT)
    removed = prune_other_builds(podman, log, keep=[tag, base])
    logger.info("podman: removed %d image(s) of earlier builds", removed)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-6000:]
        raise RuntimeError(f"podman build failed ({result.returncode}); full log {log}:\n{tail}")
    return round(time.monotonic() - started, 1)


def prune_other_builds(podman: Podman, log: Path, keep: list[str]) -> int:
    """Remove every image that is neither a step of the build `log` records nor in `keep`; return how many.

    Each build leaves its steps' images behind as the layer cache of the next build (podman calls them
    dangling, so `image prune` would drop the cache too). Keeping only the last build's steps keeps the cache
    and bounds the storage to about one build.
    """
    steps = set(re.findall(r"^--> (?:Using cache )?([0-9a-f]{11,64})\s*$", log.read_text(errors="replace"), re.M))
    kept = {podman.run("image", "inspect", "--format", "{{.Id}}", ref, check=False).stdout.strip().removeprefix(
        "sha256:") for ref in keep}
    removed = 0
    for image in podman.run("images", "-a", "--no-trunc", "--format", "{{.ID}}").stdout.split():
        bare = image.removeprefix("sha256:")
        if bare in kept or any(bare.startswith(step) for step in steps):
            continue
        removed += podman.run("rmi", "-f", bare, check=False).returncode == 0
    return removed
