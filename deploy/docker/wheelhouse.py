"""Fill a wheelhouse for an offline image build: every wheel both environments need, pinned as installed here.

The image build installs from it with `PIP_FIND_LINKS=/wheelhouse PIP_NO_INDEX=1` (see the Dockerfile) where pip
inside the build cannot reach an index. Versions are those of this checkout's `.venv` and `.venv-export`, so the
image serves exactly what the tests here ran against.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
EXPORTER_REQUIREMENTS = ROOT / "deploy" / "exporter" / "requirements.txt"
# What pip needs inside the image to build the gallery itself (pyproject's build-system) and to upgrade itself.
BUILD_TOOLS = ("pip", "setuptools>=68", "wheel")
DONE = ".complete"


def _installer() -> ModuleType:
    """Import deploy/install_requirements.py (a script, not a package) for its requirement collection."""
    spec = importlib.util.spec_from_file_location("install_requirements", ROOT / "deploy" / "install_requirements.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project_dependencies() -> list[str]:
    """Return the gallery's own runtime requirements (pyproject.toml, no extras)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def freeze(python: Path) -> list[str]:
    """Return `pip freeze` of an environment, without editable installs (the gallery itself)."""
    out = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"], check=True,
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line and not line.startswith(("#", "-e "))]


def plan(serving: Path, exporter: Path) -> dict[str, list[str]]:
    """Return the requirement and constraint lines of both environments."""
    installer = _installer()
    with_deps, without = installer.split(installer.collect(ROOT / "demos"))
    exporter_lines = [line.split("#", 1)[0].strip()
                      for line in EXPORTER_REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    return {
        "serving": [*BUILD_TOOLS, *project_dependencies(), *with_deps],
        "serving-no-deps": without,
        "serving-pins": freeze(serving),
        "exporter": [line for line in exporter_lines if line],
        "exporter-pins": freeze(exporter),
    }


def key(lines: dict[str, list[str]]) -> str:
    """Return a short hash of everything that decides the wheelhouse's content."""
    blob = "\n".join(f"[{name}]\n" + "\n".join(sorted(group)) for name, group in sorted(lines.items()))
    return hashlib.sha256(f"{sys.version_info[:2]}\n{blob}".encode()).hexdigest()[:16]


def _wheel(python: Path, target: Path, requirements: list[str], pins: list[str], work: Path, name: str,
           no_deps: bool = False) -> None:
    """Put the wheels of these requirements (and, unless no_deps, their dependencies) into target."""
    if not requirements:
        return
    req_file, pin_file = work / f"{name}.txt", work / f"{name}-pins.txt"
    req_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    pin_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
    # `pip wheel` rather than `pip download`: a requirement published only as an sdist is built here, once, so the
    # image needs no compiler.
    command = [str(python), "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target), "-r", str(req_file),
               "-c", str(pin_file)]
    if no_deps:
        command.append("--no-deps")
    logger.info("+ %s", " ".join(command))
    subprocess.run(command, check=True)


def fill(target_root: Path, serving: Path = ROOT / ".venv" / "bin" / "python",
         exporter: Path = ROOT / ".venv-export" / "bin" / "python") -> Path:
    """Return a complete wheelhouse under target_root for this checkout's environments (built once per key)."""
    lines = plan(serving, exporter)
    target = target_root / f"wheelhouse-{key(lines)}"
    if (target / DONE).exists():
        logger.info("wheelhouse %s is complete already", target)
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / ".work").mkdir(parents=True)
    work = tmp / ".work"
    _wheel(serving, tmp, lines["serving"], lines["serving-pins"], work, "serving")
    _wheel(serving, tmp, lines["serving-no-deps"], lines["serving-pins"], work, "serving-no-deps", no_deps=True)
    _wheel(exporter, tmp, lines["exporter"], lines["exporter-pins"], work, "exporter")
    shutil.rmtree(work)
    (tmp / DONE).write_text(f"{len(list(tmp.glob('*.whl')))} wheels\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    # Older wheelhouses (other pins) are near a gigabyte each and no longer match either environment.
    for old in target_root.glob("wheelhouse-*"):
        if old != target and old.is_dir():
            logger.info("removing the outdated %s", old)
            shutil.rmtree(old, ignore_errors=True)
    return target


def main() -> int:
    """Fill the wheelhouse and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target_root", type=Path, help="folder that holds wheelhouse-<key>/ folders")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(fill(args.target_root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
