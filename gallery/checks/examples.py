"""Examples: at least one, naming only real inputs, files that exist and are small, values the gallery accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gallery.checks.base import DemoFolder, Problem
from gallery.errors import InputError
from gallery.inputs import coerce_inputs
from gallery.iotypes import FILE_TYPES
from gallery.manifest import EXAMPLE_LABEL

# Example files are committed to the repository and downloaded by every visitor who clicks them.
EXAMPLE_FILE_LIMIT = 1024 * 1024


def _file_inputs(folder: DemoFolder) -> set[str]:
    inputs = folder.get("inputs")
    return {item["name"] for item in inputs if isinstance(item, dict) and item.get("type") in FILE_TYPES
            and isinstance(item.get("name"), str)} if isinstance(inputs, list) else set()


def example_files(folder: DemoFolder) -> list[Path]:
    """Return the files (resolved) that the manifest's examples point at, existing or not."""
    examples = folder.get("examples")
    names = _file_inputs(folder)
    found = []
    for example in examples if isinstance(examples, list) else []:
        if isinstance(example, dict):
            found += [(folder.path / v).resolve() for k, v in example.items() if k in names and isinstance(v, str)]
    return found


def _file_problem(folder: DemoFolder, value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a file path relative to the demo folder, e.g. examples/bus.jpg"
    path = (folder.path / value).resolve()
    if Path(value).is_absolute() or not path.is_relative_to(folder.path.resolve()):
        return f"{value!r} must be a path inside the demo folder (relative to it)"
    if not path.is_file():
        return f"{value!r} does not exist in the demo folder"
    size = path.stat().st_size
    if size > EXAMPLE_FILE_LIMIT:
        return (f"{value!r} is {size:,} bytes; example files must be at most {EXAMPLE_FILE_LIMIT:,} bytes "
                "(shrink or shorten it)")
    return None


def check(folder: DemoFolder) -> list[Problem]:
    """Report missing or malformed examples, unknown or bad input values, and missing or large example files."""
    if folder.data is None:
        return []
    path = folder.manifest_path
    examples = folder.get("examples")
    if not examples:
        return [Problem(path, "examples", "missing: give at least one example (the UI offers it as a one-click "
                                          "input and the demo's test runs it)")]
    if not isinstance(examples, list):
        return [Problem(path, "examples", "must be a list of {input name: value} mappings")]
    names = folder.input_names()
    file_inputs = _file_inputs(folder)
    problems = []
    for index, example in enumerate(examples):
        field = f"examples[{index}]"
        if not isinstance(example, dict):
            problems.append(Problem(path, field, "must be a mapping of input name to value"))
            continue
        if names is not None:
            unknown = [key for key in example if key not in names and key != EXAMPLE_LABEL]
            if unknown:
                problems.append(Problem(path, field, f"unknown input(s) {unknown}; the inputs are {names}"))
                continue
        bad_files = [(key, _file_problem(folder, value)) for key, value in example.items() if key in file_inputs]
        bad_files = [(key, message) for key, message in bad_files if message]
        problems += [Problem(path, f"{field}.{key}", message) for key, message in bad_files]
        if bad_files or folder.manifest is None:
            continue  # values are checked against the inputs only once the manifest is valid
        raw = {key: str((folder.path / value).resolve()) if key in file_inputs else value
               for key, value in example.items() if key != EXAMPLE_LABEL}
        try:
            coerce_inputs(folder.manifest, raw, allow_paths=True)
        except InputError as exc:
            problems.append(Problem(path, f"{field}.{exc.field}" if exc.field else field, str(exc)))
    return problems
