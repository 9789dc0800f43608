"""Safe decoding of uploaded images: format by content, size from the header before any pixel is decoded."""

from __future__ import annotations

import io
import logging
import struct

import numpy as np
from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)

from gallery.errors import InputError
from gallery.limits import LIMITS

logger = logging.getLogger(__name__)

ACCEPTED = "PNG, JPEG, WebP, GIF or BMP"
_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF", "BMP": "BMP"}
_WHITE = (255, 255, 255)

# Formats we refuse by name, so the message can say what the file is (checked after the accepted ones).
_KNOWN_OTHERS: tuple[tuple[bytes, int, str], ...] = (
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftypheix", 4, "a HEIC image"),
    (b"ftypmif1", 4, "a HEIF image"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"\x00\x00\x01\x00", 0, "an ICO icon"),
)

# Each accepted format's own Pillow plugin (JPEG's factory also recognises multi-picture MPO files).
_PLUGINS = {"PNG": PngImagePlugin.PngImageFile, "JPEG": JpegImagePlugin.jpeg_factory,
            "WEBP": WebPImagePlugin.WebPImageFile, "GIF": GifImagePlugin.GifImageFile, "BMP": BmpImagePlugin.BmpImageFile}
# Pillow's plugins raise any of these on malformed or truncated data; all of them mean "not readable".
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError,
                  ZeroDivisionError, KeyError, Image.DecompressionBombError)


def sniff_format(data: bytes) -> str | None:
    """Return the Pillow format name of an accepted image, judged by its first bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data.startswith(b"BM") and len(data) >= 26:
        return "BMP"
    return None


def _describe_other(data: bytes) -> str | None:
    """Return a short phrase saying what a refused file seems to be (for the error message), or None."""
    for magic, offset, name in _KNOWN_OTHERS:
        if data[offset:offset + len(magic)] == magic:
            return name
    head = data[:512]
    if b"<svg" in head.lower():
        return "an SVG drawing (vector images are not accepted)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text" if all(c.isprintable() or c.isspace() for c in text) else None


def _open_lazily(data: bytes, fmt: str) -> Image.Image:
    """Parse only the header with the format's own plugin; no pixel is decoded yet."""
    factory = _PLUGINS[fmt]
    # Calling the plugin directly skips Image.open's decompression-bomb check, which raises before the
    # size can be read; our own pixel limit (below Pillow's) is applied by the caller instead.
    return factory(io.BytesIO(data), None)


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB copy: alpha composited on white, palettes and grey levels expanded, 16-bit scaled."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit or float grey: Pillow's direct conversion clips at 255, so scale to 8 bits first.
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        grey = np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, _WHITE)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int | None = None) -> Image.Image:
    """Decode an uploaded image to RGB, refusing unknown formats, oversized images and corrupt files."""
    if not data:
        raise InputError("the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise InputError(f"is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    fmt = sniff_format(data)
    if fmt is None:
        what = _describe_other(data)
        raise InputError(f"is not a readable image ({ACCEPTED})" + (f"; the file looks like {what}" if what else ""))
    max_side = max_side or LIMITS.image_side
    name = _NAMES[fmt]
    try:
        image = _open_lazily(data, fmt)
    except _DECODE_ERRORS:
        raise InputError(f"is not a readable image ({ACCEPTED}): the {name} file is damaged "
                         "(its header cannot be read)") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InputError(f"is not a readable image: its {name} header gives a size of {width} x {height}")
    if width * height > max_pixels:
        raise InputError(f"is {width:,} x {height:,} = {width * height:,} pixels; the limit is {max_pixels:,}")
    if max(width, height) > max_side:
        raise InputError(f"is {width:,} x {height:,} pixels; the longest side may be at most {max_side:,}")
    try:
        image.seek(0)  # animated GIF/WebP: the first frame stands for the whole
        image.load()
    except _DECODE_ERRORS as exc:
        logger.debug("image decode failed (%s): %s", name, exc)
        raise InputError(f"is not a readable image ({ACCEPTED}): the {name} data is truncated or corrupt") from None
    return _flatten(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    """Return the image turned as its EXIF orientation says; unreadable EXIF leaves it as stored."""
    try:
        return ImageOps.exif_transpose(image) or image
    except _DECODE_ERRORS as exc:
        # The pixels are fine; only the metadata is broken, so show the image as stored.
        logger.debug("ignoring unreadable EXIF orientation: %s", exc)
        return image
