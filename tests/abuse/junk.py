"""Hostile inputs for every demo: crafted files and hypothesis strategies built from each demo's manifest."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gallery.manifest import InputSpec, Manifest

ONE_MB_TEXT = "health " * (1_000_000 // 7)
TEXT_JUNK = [
    "",
    "   \n\t  \r\n ",
    ONE_MB_TEXT,
    "\x00\x01\x02\x07 bell \x1b[31mred\x1b[0m \x7f\ufeff",
    "Hello 你好 مرحبا Привет नमस्ते こんにちは 🙂🚌 ∑∫",
    "timestamp,value\n2024-01-01 00:00,abc\n2024-01-01 01:00,12\n2024-01-01 02:00,\n",
    "1, 2, three, 4, 5e999, -inf, NaN",
    "\u202e\u200b\u200d",
]


# A series as JSON arrays: too short, not numbers, too large for the model, nested, past the limit.
# (NaN and Infinity are not JSON: httpx refuses to send them; tests/core/test_iotypes.py covers them.)
SERIES_JUNK: list[Any] = [[], [1, 2, 3], [1.5] * 12 + ["x"], [True] * 12, [1e308] * 12, [[1, 2]] * 12,
                          list(range(200_000))]


def data_url(mime: str, data: bytes) -> str:
    """Return `data` as a base64 data URL."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


@lru_cache(maxsize=None)
def small_png() -> bytes:
    """Return a valid 64 x 48 RGB PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=None)
def giant_png() -> bytes:
    """Return a real, tiny (compressed) PNG whose header says 20,000 x 20,000 pixels: a decompression bomb."""
    width = height = 20_000
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * (width // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


@lru_cache(maxsize=None)
def hour_of_silence_flac() -> bytes:
    """Return one hour of silent 8 kHz mono audio as FLAC (small on disk, 28.8 M samples once decoded)."""
    import soundfile as sf

    buffer = io.BytesIO()
    block = np.zeros(8000 * 60, dtype=np.int16)
    with sf.SoundFile(buffer, "w", samplerate=8000, channels=1, format="FLAC", subtype="PCM_16") as handle:
        for _ in range(60):
            handle.write(block)
    return buffer.getvalue()


def bad_files() -> dict[str, tuple[str, bytes]]:
    """Return named hostile uploads as (mime type, bytes)."""
    png = small_png()
    return {
        "zero-byte file": ("application/octet-stream", b""),
        "truncated image": ("image/png", png[: len(png) // 2]),
        "text renamed .png": ("image/png", b"this is not an image, just text\n" * 10),
        "non-audio renamed .wav": ("audio/wav", b"RIFF????WAVEnot really audio" + bytes(range(256)) * 4),
        "1-hour silent audio": ("audio/flac", hour_of_silence_flac()),
        "20,000 x 20,000 image": ("image/png", giant_png()),
        "CSV where a file goes": ("text/csv", b"timestamp,value\n2024-01-01,abc\n"),
    }


WRONG_TYPES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def junk_for(spec: InputSpec) -> st.SearchStrategy[Any]:
    """Return a strategy of mostly invalid values for one input."""
    if spec.type == "text":
        return st.one_of(st.sampled_from(TEXT_JUNK), st.text(max_size=300), WRONG_TYPES)
    if spec.type in ("number", "integer"):
        return st.one_of(st.integers(min_value=-(10**12), max_value=10**12), st.floats(allow_nan=True),
                         st.sampled_from(["", "abc", "1e309", "NaN", "3.5"]), WRONG_TYPES)
    if spec.type == "choice":
        return st.one_of(st.sampled_from(spec.choices or ["x"]), st.text(max_size=12), WRONG_TYPES)
    if spec.type == "checkbox":
        return st.one_of(st.booleans(), st.sampled_from(["yes", "true", 1]), WRONG_TYPES)
    if spec.type == "series":  # text like a text input, or a JSON array of (mostly) numbers
        items = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                          st.none(), st.text(max_size=4))
        return st.one_of(st.sampled_from(TEXT_JUNK), st.text(max_size=300), st.lists(items, max_size=40),
                         st.sampled_from(SERIES_JUNK), WRONG_TYPES)
    files = [data_url(mime, data) for mime, data in bad_files().values()]
    return st.one_of(st.sampled_from(files), st.text(max_size=40), WRONG_TYPES,
                     st.sampled_from(["/etc/passwd", "../../etc/passwd", "file:///etc/passwd"]))


def example_value(manifest: Manifest, folder: Path, spec: InputSpec) -> Any:
    """Return the first example's value for `spec` in JSON-API form (files as data URLs), or None."""
    for example in manifest.examples:
        if spec.name in example:
            value = example[spec.name]
            if spec.type in ("image", "audio", "file") and isinstance(value, str):
                path = folder / value
                return data_url("application/octet-stream", path.read_bytes()) if path.is_file() else None
            return value
    return spec.default


def bodies(manifest: Manifest, folder: Path) -> st.SearchStrategy[Any]:
    """Return request bodies: per input a valid example value, junk, or nothing; sometimes not an object."""
    fields = {}
    for spec in manifest.inputs:
        valid = example_value(manifest, folder, spec)
        options = [junk_for(spec), st.just(valid)] if valid is not None else [junk_for(spec)]
        fields[spec.name] = st.one_of(*options)
    objects = st.fixed_dictionaries({}, optional=fields)
    with_extra = st.builds(lambda body, key: {**body, key: 1}, objects, st.sampled_from(["__proto__", "zz", ""]))
    return st.one_of(objects, objects, objects, with_extra, WRONG_TYPES, st.text(max_size=20))
