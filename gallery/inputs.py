"""Validate and decode a demo's raw inputs (from the UI or the JSON API) against its manifest.

Each value goes to its input type (`gallery/iotypes/`), which owns the rules and the messages."""

from __future__ import annotations

from typing import Any

from gallery.errors import InputError
from gallery.iotypes import input_type
from gallery.iotypes.files import file_bytes
from gallery.limits import LIMITS, Limits
from gallery.manifest import InputSpec, Manifest

__all__ = ["coerce_inputs", "coerce_one", "file_bytes"]


def coerce_one(spec: InputSpec, value: Any, limits: Limits = LIMITS, allow_paths: bool = False) -> Any:
    """Validate and decode one input value, raising InputError naming the input."""
    return input_type(spec.type).read(spec, value, limits, allow_paths)


def coerce_inputs(
    manifest: Manifest, raw: dict[str, Any], limits: Limits = LIMITS, allow_paths: bool = False
) -> dict[str, Any]:
    """Return the demo's inputs decoded and validated, in manifest order; reject unknown names."""
    if not isinstance(raw, dict):
        raise InputError("the request body must be a JSON object of inputs by name")
    known = {spec.name for spec in manifest.inputs}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"unknown input(s) {unknown}; this demo takes {sorted(known)}")
    return {spec.name: coerce_one(spec, raw.get(spec.name), limits, allow_paths) for spec in manifest.inputs}
