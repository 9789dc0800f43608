"""gallery.media.images (format by content, size checked before decoding, corrupt files, EXIF, alpha, frames) and
shared.images (CNN input tensors)."""

from __future__ import annotations

import io
import resource
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gallery.errors import InputError
from gallery.media.images import decode_image, sniff_format
from shared.images import center_crop_tensor

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 40_000_000}


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Return the image saved in `fmt`."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """Return one PNG chunk with a correct CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_header(width: int, height: int) -> bytes:
    """Return a valid-looking PNG whose IHDR claims width x height but whose data is one tiny row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00\x00\x00" * 4)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def solid(color: tuple[int, ...], size: tuple[int, int] = (32, 24), mode: str = "RGB") -> Image.Image:
    """Return an image of one colour."""
    return Image.new(mode, size, color)


@pytest.mark.parametrize(
    ("fmt", "sniffed"),
    [("PNG", "PNG"), ("JPEG", "JPEG"), ("WEBP", "WEBP"), ("GIF", "GIF"), ("BMP", "BMP")],
)
def test_each_accepted_format_decodes_to_rgb(fmt: str, sniffed: str) -> None:
    data = encode(solid((200, 30, 40)), fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    assert sniff_format(data) == sniffed
    image = decode_image(data, **LIMITS)
    assert image.mode == "RGB" and image.size == (32, 24)
    assert np.abs(np.asarray(image)[12, 16].astype(int) - (200, 30, 40)).max() <= 12


def test_format_is_judged_by_content_not_name() -> None:
    # The file name never reaches decode_image: a GIF called bus.png decodes as the GIF it is.
    gif = encode(solid((0, 0, 255)), "GIF")
    assert decode_image(gif, **LIMITS).getpixel((1, 1)) == (0, 0, 255)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some notes, saved as holiday.png\n", "the file looks like text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "looks like a PDF document"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG drawing"),
        (b"II*\x00" + b"\x00" * 64, "looks like a TIFF image"),
        (bytes(range(256)) * 4, "is not a readable image (PNG, JPEG, WebP, GIF or BMP)"),
    ],
)
def test_other_files_are_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as info:
        decode_image(data, **LIMITS)
    assert message in str(info.value)
    assert "is not a readable image (PNG, JPEG, WebP, GIF or BMP)" in str(info.value)


def test_huge_header_is_refused_before_decoding_fast_and_without_allocating() -> None:
    data = png_with_header(20_000, 20_000)  # 400 M pixels: 1.2 GB of RGB if it were decoded
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError) as info:
        decode_image(data, **LIMITS)
    assert str(info.value) == "is 20,000 x 20,000 = 400,000,000 pixels; the limit is 40,000,000"
    # Refused from the header, shown by memory rather than time (a timing bound would depend on the machine).
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50_000, f"peak memory grew by {grown_kib} KiB"


def test_huge_jpeg_header_is_refused() -> None:
    data = bytearray(encode(solid((10, 20, 30), (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")  # baseline SOF0: length(2) precision(1) height(2) width(2)
    data[sof + 5:sof + 9] = struct.pack(">HH", 30_000, 30_000)
    with pytest.raises(InputError, match=r"30,000 x 30,000 = 900,000,000 pixels; the limit is 40,000,000"):
        decode_image(bytes(data), **LIMITS)


def test_pixel_limit_of_the_input_applies_and_long_thin_images_are_refused() -> None:
    data = encode(solid((1, 2, 3), (300, 200)), "PNG")
    with pytest.raises(InputError, match=r"is 300 x 200 = 60,000 pixels; the limit is 50,000"):
        decode_image(data, max_bytes=10**6, max_pixels=50_000)
    with pytest.raises(InputError, match=r"longest side may be at most 12,000"):
        decode_image(png_with_header(13_000, 10), **LIMITS)


def test_byte_limit_and_empty_file() -> None:
    data = encode(solid((1, 2, 3)), "PNG")
    with pytest.raises(InputError, match=rf"is {len(data):,} bytes; the limit is 10 bytes"):
        decode_image(data, max_bytes=10, max_pixels=10**6)
    with pytest.raises(InputError, match="empty"):
        decode_image(b"", **LIMITS)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_truncated_image_is_refused(fmt: str) -> None:
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))  # noise does not compress
    data = encode(noisy, fmt)
    with pytest.raises(InputError) as info:
        decode_image(data[: len(data) // 2], **LIMITS)
    assert "is not a readable image" in str(info.value)


def test_corrupt_png_chunk_is_refused() -> None:
    data = bytearray(encode(solid((9, 9, 9)), "PNG"))
    data[40] ^= 0xFF  # inside the IDAT payload: its CRC no longer matches
    with pytest.raises(InputError, match="PNG (data is truncated or corrupt|file is damaged)"):
        decode_image(bytes(data), **LIMITS)


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    upright = decode_image(encode(image, "JPEG", quality=95, exif=exif.tobytes()), **LIMITS)
    assert upright.size == (20, 40)
    top, bottom = np.asarray(upright)[5, 10], np.asarray(upright)[35, 10]
    assert top[0] > 200 and top[2] < 60, "the left (red) side must end up on top"
    assert bottom[2] > 200 and bottom[0] < 60


def test_alpha_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    image.putpixel((5, 5), (255, 0, 0, 255))
    image.putpixel((6, 6), (0, 0, 0, 128))
    decoded = decode_image(encode(image, "PNG"), **LIMITS)
    assert decoded.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.getpixel((5, 5)) == (255, 0, 0)
    assert all(120 <= v <= 135 for v in decoded.getpixel((6, 6)))
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 255, 0] + [0, 0, 0] * 255)
    palette.putpixel((0, 0), 0)
    gif = encode(palette, "GIF", transparency=1)
    decoded = decode_image(gif, **LIMITS)
    assert decoded.getpixel((4, 4)) == (255, 255, 255) and decoded.getpixel((0, 0)) == (0, 255, 0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_image_gives_its_first_frame(fmt: str) -> None:
    frames = [solid((255, 0, 0)), solid((0, 0, 255)), solid((0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                   **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = decode_image(buffer.getvalue(), **LIMITS)
    assert decoded.mode == "RGB" and decoded.getpixel((3, 3)) == (255, 0, 0)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    grey = Image.fromarray(np.array([[65535, 32768], [0, 16384]], dtype=np.uint16))
    decoded = np.asarray(decode_image(encode(grey, "PNG"), **LIMITS))
    assert decoded[0, 0].tolist() == [255, 255, 255]
    assert 126 <= decoded[0, 1, 0] <= 129 and decoded[1, 0, 0] == 0 and 62 <= decoded[1, 1, 0] <= 65


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    magic=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x10\x00\x00\x00WEBPVP8 ", b"GIF89a", b"BM"]),
    body=st.binary(max_size=300),
)
def test_any_garbage_behind_a_valid_signature_gives_input_error_or_an_image(magic: bytes, body: bytes) -> None:
    try:
        image = decode_image(magic + body, **LIMITS)
    except InputError as exc:
        assert "image" in str(exc) or "pixels" in str(exc)
    else:
        assert image.mode == "RGB"


def test_center_crop_tensor_matches_efficientnet_lite_preprocessing() -> None:
    image = Image.new("RGB", (512, 256), (0, 0, 0))
    image.paste((255, 255, 255), (128, 0, 384, 256))  # the white middle half is what the crop keeps
    batch = center_crop_tensor(image)
    assert batch.shape == (1, 3, 224, 224) and batch.dtype == np.float32 and batch.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(batch, (255 - 127) / 128)
    black = center_crop_tensor(Image.new("RGB", (300, 900), (0, 0, 0)))
    np.testing.assert_allclose(black, -127 / 128)
    tiny = center_crop_tensor(Image.new("RGB", (3, 500), (127, 127, 127)))  # rounding never undercuts the crop
    assert tiny.shape == (1, 3, 224, 224) and np.abs(tiny).max() < 1e-6
