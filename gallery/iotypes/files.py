"""Uploads: `file` (bytes), `image` (a decoded RGB image) and `audio` (a decoded mono clip).

A JSON request carries a file as a base64 data URL; a multipart form as a file part; the UI as a path in
Gradio's own upload folder. A URL is never fetched, and only the UI (and MCP over stdio) may name local files.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gallery.errors import InputError
from gallery.iotypes.base import InputType, JsonSchema, upper_limit
from gallery.limits import Limits

if TYPE_CHECKING:
    from gallery.manifest import InputSpec

# scheme://... (http, https, ftp, file, s3, ...): the gallery never fetches a URL it is given (no SSRF).
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.S)


def byte_limit(spec: InputSpec, limits: Limits) -> int:
    """Return the upload size limit: the manifest's `max_bytes`, never above the gallery's."""
    return upper_limit(spec.max_bytes, limits.upload_bytes)


def file_bytes(spec: InputSpec, value: Any, limits: Limits, allow_paths: bool = False) -> bytes:
    """Return the bytes of an upload given as bytes or a data URL; local paths only when `allow_paths`."""
    limit = byte_limit(spec, limits)
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


class FileInput(InputType):
    """Any file, as its bytes; `accept` lists the extensions the UI offers."""

    receives = "`bytes`"
    is_file = True
    what: ClassVar[str] = "A file"  # the start of the schema's description
    sample: ClassVar[str] = "document.txt"  # the file a snippet names when the manifest has no example

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
        return file_bytes(spec, value, limits, allow_paths)

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        accepted = f" ({', '.join(spec.accept)})" if spec.accept else ""
        how = "a base64 data URL (data:<mime>;base64,...)" + (" or the path of a local file" if local_paths else "")
        return {"type": "string", "description": f"{self.what}{accepted} as {how}; at most "
                                                 f"{byte_limit(spec, limits):,} bytes. URLs are not fetched."}

    def form_schema(self, spec: InputSpec, limits: Limits) -> JsonSchema:
        return {"type": "string", "format": "binary"}

    def placeholder(self, spec: InputSpec) -> Any:
        return spec.default if spec.default is not None else self.sample

    def example_request(self, spec: InputSpec, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        mime = mimetypes.guess_type(value)[0] or "application/octet-stream"
        return f"data:{mime};base64,<the base64 of {Path(value).name}>"

    def for_present(self, spec: InputSpec, value: Any) -> Any:
        return None  # an upload from the API is no path that present() could open


class ImageInput(FileInput):
    """An image (PNG, JPEG, WebP, ...), identified by content and refused above `max_pixels` before decoding."""

    receives = "RGB `PIL.Image.Image`"
    what = "An image"
    sample = "photo.jpg"

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
        from gallery.media.images import decode_image  # deferred: the decoders load when an image comes

        data = file_bytes(spec, value, limits, allow_paths)
        try:
            return decode_image(data, max_bytes=len(data), max_pixels=upper_limit(spec.max_pixels, limits.image_pixels))
        except InputError as exc:
            raise InputError(str(exc), spec.name) from None


class AudioInput(FileInput):
    """A recording, decoded to mono float32 at 16 kHz; refused above `max_seconds` from its header."""

    receives = "`gallery.media.audio.AudioClip` (mono float32, 16 kHz)"
    what = "An audio recording"
    sample = "recording.mp3"

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
        from gallery.media.audio import decode_audio  # deferred: the decoders load when audio comes

        if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], int):
            source: Any = value  # Gradio's (sample_rate, ndarray) form
        else:
            source = file_bytes(spec, value, limits, allow_paths)
        try:
            return decode_audio(source, max_seconds=upper_limit(spec.max_seconds, limits.audio_seconds),
                                max_bytes=limits.upload_bytes)
        except InputError as exc:
            raise InputError(str(exc), spec.name) from None
