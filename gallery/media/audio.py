"""Audio for demos: decode an upload or a recording to mono float32 at 16 kHz, within limits; cut it in chunks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from gallery.errors import InputError

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FORMATS = "wav, mp3, flac or ogg"
MIN_SECONDS = 0.1  # shorter than this there is nothing to recognise
MIN_RATE = 4_000  # below this a file is not speech audio we can use (telephone audio is 8 kHz)
_BLOCK_FRAMES = 1 << 18  # decode in blocks so a long stereo file never sits in memory at its full width
# How far back from a chunk's end a cut may move to land in a pause instead of inside a word.
_CUT_SEARCH_SECONDS = 5.0
_CUT_FRAME_SECONDS = 0.02


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: mono float32 samples in [-1, 1] at `sample_rate` (always 16 kHz from decode_audio)."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return self.samples.size / self.sample_rate


def _limit_text(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


def _length_text(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds:.1f} seconds"


def check_duration(seconds: float, max_seconds: float) -> None:
    """Raise InputError when a clip is longer than the limit or too short to hold speech."""
    if seconds > max_seconds:
        raise InputError(f"the recording is {_length_text(seconds)} long; the limit is {_limit_text(max_seconds)}. "
                         "Please trim it or upload a shorter part.")
    if seconds < MIN_SECONDS:
        raise InputError(f"the recording is too short ({seconds:.2f} s); it must be at least {MIN_SECONDS:g} s long")


def to_float_mono(array: np.ndarray) -> np.ndarray:
    """Return float32 mono samples in [-1, 1] from integer or float PCM shaped (n,) or (n, channels)."""
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[0] < array.shape[1] and array.shape[0] <= 8:
        array = array.T  # (channels, n), as some libraries return it
    if array.ndim == 2:
        pass
    elif array.ndim != 1:
        raise InputError(f"audio samples must be a 1-D or 2-D array, got {array.ndim} dimensions")
    kind = array.dtype.kind
    if kind == "u":
        # Unsigned PCM (8-bit wav) is centred on half the range.
        half = float(2 ** (8 * array.dtype.itemsize - 1))
        data = (array.astype(np.float64) - half) / half
    elif kind == "i":
        data = array.astype(np.float32) / float(2 ** (8 * array.dtype.itemsize - 1))
    elif kind == "f":
        with np.errstate(over="ignore"):  # out-of-range float64 becomes inf, refused just below
            data = array.astype(np.float32, copy=False)
    else:
        raise InputError(f"audio samples must be numbers, got {array.dtype}")
    mono = data.mean(axis=1) if data.ndim == 2 else data
    return _checked(np.asarray(mono, dtype=np.float32))


def _checked(mono: np.ndarray) -> np.ndarray:
    """Refuse NaN/infinite samples; scale float audio that exceeds [-1, 1] back into it."""
    if not np.all(np.isfinite(mono)):
        raise InputError("the audio contains invalid samples (NaN or infinity)")
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    return mono / peak if peak > 1.0 else mono


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Return mono samples resampled from `rate` to `target` Hz (polyphase filter, float32)."""
    if rate == target:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    ratio = Fraction(target, int(rate)).limit_denominator(1000)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def _check_rate(rate: int) -> None:
    if rate < MIN_RATE:
        raise InputError(f"the sample rate is {rate} Hz; at least {MIN_RATE} Hz is needed")


def _from_array(rate: Any, array: Any, max_seconds: float) -> AudioClip:
    """Decode Gradio's (sample_rate, ndarray) form."""
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise InputError(f"the sample rate must be a whole number, got {type(rate).__name__}")
    _check_rate(int(rate))
    try:
        array = np.asarray(array)
    except (TypeError, ValueError):
        raise InputError("the recording must be an array of samples") from None
    if array.ndim not in (1, 2) or array.dtype.kind not in "uif":
        raise InputError("the recording must be a 1-D or 2-D array of numeric samples")
    if array.size == 0:
        raise InputError("the recording is empty (no samples)")
    frames = max(array.shape) if array.ndim == 2 and min(array.shape) <= 8 else array.shape[0]
    # Check the length before any conversion, so an hour-long recording is refused without copying it.
    check_duration(frames / int(rate), max_seconds)
    return AudioClip(resample(to_float_mono(array), int(rate)))


def _decode_bytes(data: bytes, max_seconds: float) -> AudioClip:
    """Decode a wav/mp3/flac/ogg file by its content, refusing long files from the header before decoding."""
    import soundfile as sf

    try:
        handle = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        logger.info("audio upload refused: %s", exc)
        raise InputError(f"is not a readable audio file ({FORMATS}); the file may be of another type, "
                         "truncated or corrupt") from None
    with handle:
        rate, frames = int(handle.samplerate), int(handle.frames)
        _check_rate(rate)
        # libsndfile reports the length from the header (wav/flac) or a quick scan (mp3/ogg); a length it
        # cannot know is a huge sentinel, which the block loop below bounds instead.
        known = 0 < frames < 2 ** 62
        if known:
            check_duration(frames / rate, max_seconds)
        limit = int(max_seconds * rate) + 1
        blocks: list[np.ndarray] = []
        total = 0
        try:
            while True:
                block = handle.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not block.size:
                    break
                blocks.append(block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0].copy())
                total += block.shape[0]
                if total > limit:
                    check_duration(total / rate, max_seconds)
        except (sf.LibsndfileError, RuntimeError) as exc:
            logger.info("audio upload could not be decoded: %s", exc)
            if not total:
                raise InputError(f"could not be decoded as audio ({FORMATS}); the file may be truncated or "
                                 "corrupt") from None
            # A file cut short mid-stream still holds the audio before the cut: keep that part.
    if not total:
        raise InputError("the audio file contains no samples")
    mono = _checked(np.concatenate(blocks) if len(blocks) > 1 else blocks[0])
    check_duration(mono.size / rate, max_seconds)
    return AudioClip(resample(mono, rate))


def decode_audio(source: Any, *, max_seconds: float, max_bytes: int) -> AudioClip:
    """Decode file bytes, a path, or a (sample_rate, ndarray) pair to a mono 16 kHz clip; raise InputError."""
    if isinstance(source, AudioClip):
        check_duration(source.duration, max_seconds)
        return source
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return _from_array(source[0], source[1], max_seconds)
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError:
            raise InputError("the audio file could not be read") from None
        if size > max_bytes:
            raise InputError(f"is {size:,} bytes; the upload limit is {max_bytes:,} bytes")
        source = path.read_bytes()
    if not isinstance(source, (bytes, bytearray, memoryview)):
        raise InputError(f"must be an audio file ({FORMATS}), got {type(source).__name__}")
    data = bytes(source)
    if not data:
        raise InputError("the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise InputError(f"is {len(data):,} bytes; the upload limit is {max_bytes:,} bytes")
    return _decode_bytes(data, max_seconds)


def load_clip(path: Path | str, max_seconds: float = 600.0) -> AudioClip:
    """Read an audio file from disk (examples, tests) with the same checks as an upload."""
    return decode_audio(Path(path), max_seconds=max_seconds, max_bytes=1 << 40)


def cut_points(samples: np.ndarray, rate: int = SAMPLE_RATE, seconds: float = 30.0) -> list[int]:
    """Return sample offsets that cut audio into pieces of at most `seconds`, each cut in the quietest nearby spot."""
    window = int(seconds * rate)
    if window <= 0:
        raise ValueError("seconds must be positive")
    cuts = [0]
    hop = max(1, int(_CUT_FRAME_SECONDS * rate))
    search = min(int(_CUT_SEARCH_SECONDS * rate), window // 3)
    while samples.size - cuts[-1] > window:
        end = cuts[-1] + window
        # Cutting inside a word garbles it on both sides; cut at the quietest 20 ms in the last few seconds.
        region = samples[end - search:end]
        frames = region[: (region.size // hop) * hop].reshape(-1, hop) if region.size >= hop else None
        if frames is None or not len(frames):
            cuts.append(end)
            continue
        energy = np.square(frames, dtype=np.float32).mean(axis=1)
        # Latest of the quietest frames (within 10% of the minimum) keeps pieces long.
        quiet = np.flatnonzero(energy <= energy.min() * 1.1 + 1e-10)
        cuts.append(end - search + int(quiet[-1]) * hop + hop // 2)
    return cuts


def chunk(clip: AudioClip, seconds: float = 30.0) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (start_seconds, samples) pieces of at most `seconds`, cut in pauses where there are any."""
    cuts = cut_points(clip.samples, clip.sample_rate, seconds) + [clip.samples.size]
    for start, end in pairwise(cuts):
        if end > start:
            yield start / clip.sample_rate, clip.samples[start:end]
