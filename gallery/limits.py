"""Input limits, configured in one place; a manifest may tighten them per input, never loosen them."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.isdigit() else default


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one request may carry."""

    text_chars: int = 50_000
    upload_bytes: int = 25 * 1024 * 1024
    request_bytes: int = 40 * 1024 * 1024
    audio_seconds: float = 600.0
    image_pixels: int = 40_000_000
    image_side: int = 12_000
    series_items: int = 100_000  # numbers in one `series` input given as a JSON array

    @classmethod
    def from_env(cls) -> "Limits":
        """Read overrides from `OPENMODELS_MAX_*` environment variables."""
        base = cls()
        return cls(
            text_chars=_env_int("OPENMODELS_MAX_TEXT_CHARS", base.text_chars),
            upload_bytes=_env_int("OPENMODELS_MAX_UPLOAD_BYTES", base.upload_bytes),
            request_bytes=_env_int("OPENMODELS_MAX_REQUEST_BYTES", base.request_bytes),
            audio_seconds=float(_env_int("OPENMODELS_MAX_AUDIO_SECONDS", int(base.audio_seconds))),
            image_pixels=_env_int("OPENMODELS_MAX_IMAGE_PIXELS", base.image_pixels),
            image_side=_env_int("OPENMODELS_MAX_IMAGE_SIDE", base.image_side),
            series_items=_env_int("OPENMODELS_MAX_SERIES_ITEMS", base.series_items),
        )


LIMITS = Limits.from_env()
