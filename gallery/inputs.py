"""Validate and decode a demo's raw inputs (from the UI or the JSON API) against its manifest."""

from __future__ import annotations

import base64
import binascii
import math
import re
from pathlib import Path
from typing import Any

from gallery.errors import InputError
from gallery.limits import LIMITS, Limits
from gallery.manifest import InputSpec, Manifest

# scheme://... (http, https, ftp, file, s3, ...): the gallery never fetches a URL it is given (no SSRF).
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.S)
# Control characters other than tab and newlines make no sense in demo text and break some tokenizers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(spec: InputSpec, value: Any, limits: Limits) -> str:
    if not isinstance(value, str):
        raise InputError(f"must be text, got {type(value).__name__}", spec.name)
    limit = min(spec.max_chars or limits.text_chars, limits.text_chars)
    if len(value) > limit:
        raise InputError(f"is {len(value):,} characters long; the limit is {limit:,}", spec.name)
    value = _CONTROL.sub(" ", value)
    if spec.required and not value.strip():
        raise InputError("is empty; please enter some text", spec.name)
    return value


def _number(spec: InputSpec, value: Any, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"must be a number, got {type(value).__name__}", spec.name)
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"must be a number, got {str(value)[:40]!r}", spec.name) from None
    if not math.isfinite(number):
        raise InputError("must be a finite number", spec.name)
    if integer:
        if number != int(number):
            raise InputError(f"must be a whole number, got {number}", spec.name)
        number = int(number)
    if spec.minimum is not None and number < spec.minimum:
        raise InputError(f"must be at least {spec.minimum:g}, got {number:g}", spec.name)
    if spec.maximum is not None and number > spec.maximum:
        raise InputError(f"must be at most {spec.maximum:g}, got {number:g}", spec.name)
    return number


def _choice(spec: InputSpec, value: Any) -> str:
    assert spec.choices is not None
    if not isinstance(value, str) or value not in spec.choices:
        raise InputError(f"must be one of {', '.join(spec.choices)}; got {str(value)[:40]!r}", spec.name)
    return value


def _checkbox(spec: InputSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {type(value).__name__}", spec.name)
    return value


def file_bytes(spec: InputSpec, value: Any, limits: Limits, allow_paths: bool = False) -> bytes:
    """Return the bytes of an upload given as bytes or a data URL; local paths only when `allow_paths`."""
    limit = min(spec.max_bytes or limits.upload_bytes, limits.upload_bytes)
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif allow_paths and isinstance(value, (str, Path)) and Path(value).is_absolute():
        # Only the UI passes local paths (Gradio's own upload folder); API callers must never name server files.
        path = Path(value)
        try:
            size = path.stat().st_size
        except OSError:
            raise InputError("the uploaded file could not be read", spec.name) from None
        if size > limit:
            raise InputError(f"is {size:,} bytes; the upload limit is {limit:,} bytes", spec.name)
        data = path.read_bytes()
    elif isinstance(value, str):
        if _URL.match(value.strip()):
            raise InputError("is a URL; the gallery never fetches URLs: send the file itself as a base64 data URL "
                             "(data:<type>;base64,...)", spec.name)
        match = _DATA_URL.match(value.strip())
        payload = match.group("data") if match else value.strip()
        if len(payload) * 3 // 4 > limit:
            raise InputError(f"is larger than the upload limit of {limit:,} bytes", spec.name)
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("must be a base64 data URL (data:<type>;base64,...) or multipart upload", spec.name) from None
    elif isinstance(value, dict) and isinstance(value.get("path"), str):
        if not allow_paths:
            raise InputError("must be a base64 data URL or multipart upload", spec.name)
        return file_bytes(spec, value["path"], limits, allow_paths)  # Gradio FileData from the UI
    else:
        raise InputError(f"must be a file (data URL or upload), got {type(value).__name__}", spec.name)
    if not data:
        raise InputError("the file is empty (0 bytes)", spec.name)
    if len(data) > limit:
        raise InputError(f"is {len(data):,} bytes; the upload limit is {limit:,} bytes", spec.name)
    return data


def _image(spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
    from gallery.media.images import decode_image

    data = file_bytes(spec, value, limits, allow_paths)
    max_pixels = min(spec.max_pixels or limits.image_pixels, limits.image_pixels)
    try:
        return decode_image(data, max_bytes=len(data), max_pixels=max_pixels)
    except InputError as exc:
        raise InputError(str(exc), spec.name) from None


def _audio(spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
    from gallery.media.audio import decode_audio

    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], int):
        source: Any = value  # Gradio's (sample_rate, ndarray) form
    else:
        source = file_bytes(spec, value, limits, allow_paths)
    max_seconds = min(spec.max_seconds or limits.audio_seconds, limits.audio_seconds)
    try:
        return decode_audio(source, max_seconds=max_seconds, max_bytes=limits.upload_bytes)
    except InputError as exc:
        raise InputError(str(exc), spec.name) from None


def coerce_one(spec: InputSpec, value: Any, limits: Limits = LIMITS, allow_paths: bool = False) -> Any:
    """Validate and decode one input value, raising InputError naming the input."""
    if value is None or (isinstance(value, str) and spec.type not in ("text",) and value == ""):
        if spec.default is not None:
            value = spec.default
        elif spec.required:
            raise InputError("is required", spec.name)
        else:
            return None
    if spec.type == "text":
        return _text(spec, value, limits)
    if spec.type in ("number", "integer"):
        return _number(spec, value, integer=spec.type == "integer")
    if spec.type == "choice":
        return _choice(spec, value)
    if spec.type == "checkbox":
        return _checkbox(spec, value)
    if spec.type == "image":
        return _image(spec, value, limits, allow_paths)
    if spec.type == "audio":
        return _audio(spec, value, limits, allow_paths)
    return file_bytes(spec, value, limits, allow_paths)


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
