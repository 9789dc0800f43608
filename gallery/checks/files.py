"""Folder contents: small files only, and no model weights (they come from packages or the Hub)."""

from __future__ import annotations

from pathlib import Path

from gallery.checks.base import DemoFolder, Problem
from gallery.checks.examples import example_files

FILE_LIMIT = 1024 * 1024
FOLDER_LIMIT = 5 * 1024 * 1024
WEIGHT_SUFFIXES = (".onnx", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".tflite", ".pb",
                   ".msgpack", ".joblib", ".pkl", ".pickle")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(folder).parts))


def check(folder: DemoFolder) -> list[Problem]:
    """Report model weights or pickles in the folder, files over 1 MiB, and a folder over 5 MiB."""
    if not folder.path.is_dir():
        return []
    examples = set(example_files(folder))  # their size is the examples check's to report
    problems = []
    total = 0
    for path in _files(folder.path):
        size = path.stat().st_size
        total += size
        if path.suffix.lower() in WEIGHT_SUFFIXES:
            problems.append(Problem(path, "(file)", "model weights and pickles do not belong in the repository: ship the "
                                                    "model in a pip package or pin a Hub revision in demo.yaml"))
        elif size > FILE_LIMIT and path.resolve() not in examples:
            problems.append(Problem(path, "(file)", f"is {size:,} bytes; files in a demo folder must be at most "
                                                    f"{FILE_LIMIT:,} bytes"))
    if total > FOLDER_LIMIT:
        problems.append(Problem(folder.path, "(folder)",
                                f"holds {total:,} bytes; a demo folder must stay under {FOLDER_LIMIT:,} bytes"))
    return problems
