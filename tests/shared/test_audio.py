"""gallery.media.audio: decoding uploads and recordings by content, the limits, resampling and chunking."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from gallery.errors import InputError
from gallery.inputs import coerce_one
from gallery.manifest import Bilingual, InputSpec
from gallery.media.audio import SAMPLE_RATE, AudioClip, chunk, cut_points, decode_audio, load_clip

TEN_MINUTES = 600.0
BIG = 25 * 1024 * 1024
UNREADABLE = "is not a readable audio file (wav, mp3, flac or ogg)"


def tone(seconds: float = 1.0, rate: int = 22050, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    """Return a float tone, shaped (n,) or (n, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def encode(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    """Return the samples encoded in a container, as an upload would carry them."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def decode(source: object, max_seconds: float = TEN_MINUTES, max_bytes: int = BIG) -> AudioClip:
    return decode_audio(source, max_seconds=max_seconds, max_bytes=max_bytes)


def peak_frequency(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("WAV", "PCM_U8"), ("FLAC", "PCM_16"),
                                              ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_formats_decode_by_content_to_mono_16k(fmt: str, subtype: str) -> None:
    data = encode(tone(2.0, rate=44100, freq=1000.0, channels=2), 44100, fmt, subtype)
    clip = decode(data)
    assert clip.sample_rate == SAMPLE_RATE and clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    # MP3 adds encoder padding (a few tens of ms); every format keeps the length within 0.1 s.
    assert abs(clip.duration - 2.0) < 0.1
    assert abs(peak_frequency(clip.samples) - 1000.0) < 5.0
    assert 0.2 < float(np.max(np.abs(clip.samples))) < 0.4


def test_gradio_tuple_of_int16_stereo() -> None:
    pcm = (tone(1.5, rate=48000, freq=300.0, channels=2) * 32767).astype(np.int16)
    clip = decode((48000, pcm))
    assert abs(clip.duration - 1.5) < 1e-3
    assert abs(peak_frequency(clip.samples) - 300.0) < 2.0
    assert abs(float(np.max(np.abs(clip.samples))) - 0.3) < 0.01


def test_channels_first_arrays_and_float64_are_accepted() -> None:
    clip = decode((16000, tone(1.0, rate=16000, channels=2).T.astype(np.float64)))
    assert clip.samples.shape == (16000,) and clip.samples.dtype == np.float32


def test_loud_float_audio_is_scaled_into_range() -> None:
    clip = decode((16000, tone(1.0, rate=16000) * 1000.0))
    assert abs(float(np.max(np.abs(clip.samples))) - 1.0) < 1e-6


@pytest.mark.parametrize("value", [(16000, 5), (16000, "abc"), (16000, None), (16000, [[1, 2], [3]]),
                                   (16000, np.zeros((2, 2, 2))), (True, [0] * 8000), (1, [0] * 8000)])
def test_malformed_recordings_are_refused(value: object) -> None:
    with pytest.raises(InputError):
        decode(value)


@pytest.mark.parametrize(
    "data",
    [b"hello, this is not audio at all" * 20, b"\x89PNG\r\n\x1a\n" + bytes(500), bytes(2000),
     encode(tone(), 22050, "WAV", "PCM_16")[:40]],
    ids=["text", "png", "zeros", "wav-header-cut"],
)
def test_non_audio_and_broken_headers_are_refused(data: bytes) -> None:
    with pytest.raises(InputError, match=r"is not a readable audio file \(wav, mp3, flac or ogg\)"):
        decode(data)


def test_empty_file_is_refused() -> None:
    with pytest.raises(InputError, match="empty"):
        decode(b"")


def test_file_cut_mid_stream_keeps_what_is_there() -> None:
    data = encode(tone(4.0), 22050, "WAV", "PCM_16")
    clip = decode(data[: len(data) // 2])
    assert 1.8 < clip.duration < 2.2


def test_hour_long_silence_is_refused_from_the_header_without_decoding() -> None:
    # An hour of silent FLAC is under 100 KB, so only the duration check can stop it.
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", 8000, 1, format="FLAC", subtype="PCM_16") as handle:
        minute = np.zeros(8000 * 60, dtype=np.int16)
        for _ in range(60):
            handle.write(minute)
    data = buffer.getvalue()
    assert len(data) < 500_000
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "60.0 minutes long; the limit is 10 minutes" in str(info.value)
    # Not decoded, shown by memory rather than time (a timing bound would depend on the machine):
    assert peak < 5_000_000  # the hour would be 230 MB as float32 at 16 kHz


def test_long_recording_array_is_refused_before_conversion() -> None:
    hour = np.broadcast_to(np.zeros(1, dtype=np.int16), (16000 * 3600,))  # no memory behind it
    with pytest.raises(InputError, match="the limit is 10 minutes"):
        decode((16000, hour))


def test_limits_state_their_values() -> None:
    data = encode(tone(3.0, rate=16000), 16000, "WAV", "PCM_16")
    with pytest.raises(InputError, match="the limit is 2 seconds"):
        decode(data, max_seconds=2.0)
    with pytest.raises(InputError, match="the upload limit is 1,000 bytes"):
        decode(data, max_bytes=1000)
    with pytest.raises(InputError, match="too short"):
        decode((16000, np.zeros(800, dtype=np.int16)))
    with pytest.raises(InputError, match="at least 4000 Hz"):
        decode((2000, np.zeros(4000, dtype=np.int16)))
    with pytest.raises(InputError, match="NaN"):
        decode((16000, np.full(16000, np.nan, dtype=np.float32)))
    with pytest.raises(InputError, match="no samples"):
        decode((16000, np.zeros(0, dtype=np.int16)))


def test_gallery_audio_input_names_the_field_and_limit() -> None:
    spec = InputSpec(name="audio", type="audio", label=Bilingual(en="Audio", zh="音频"), max_seconds=5)
    data = encode(tone(6.0, rate=16000), 16000, "FLAC", "PCM_16")
    with pytest.raises(InputError) as info:
        coerce_one(spec, data)
    assert info.value.message.startswith("audio: ") and "the limit is 5 seconds" in info.value.message
    with pytest.raises(InputError, match=UNREADABLE.replace("(", r"\(").replace(")", r"\)")):
        coerce_one(spec, b"GIF89a" + bytes(100))
    clip = coerce_one(spec, (22050, (tone(1.0) * 32767).astype(np.int16)))
    assert isinstance(clip, AudioClip) and abs(clip.duration - 1.0) < 1e-3


def test_load_clip_reads_paths(tmp_path) -> None:
    path = tmp_path / "a.ogg"
    path.write_bytes(encode(tone(1.0), 22050, "OGG", "VORBIS"))
    assert abs(load_clip(path).duration - 1.0) < 0.05


def speech_like(gaps: list[tuple[float, float]], seconds: float) -> np.ndarray:
    """Return noise 'speech' with silent gaps at the given (start, end) seconds."""
    rng = np.random.default_rng(0)
    samples = (0.2 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)
    for start, end in gaps:
        samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)] = 0.0
    return samples


def test_chunks_cover_the_audio_and_cut_in_pauses() -> None:
    samples = speech_like([(27.0, 27.6), (55.0, 55.5)], 70.0)
    pieces = list(chunk(AudioClip(samples), seconds=30.0))
    assert [len(p) for _, p in pieces] and all(len(p) <= 30 * SAMPLE_RATE for _, p in pieces)
    assert sum(len(p) for _, p in pieces) == samples.size
    starts = [s for s, _ in pieces]
    assert starts[0] == 0.0 and 27.0 <= starts[1] <= 27.6 and 55.0 <= starts[2] <= 55.5
    assert np.array_equal(np.concatenate([p for _, p in pieces]), samples)


def test_chunks_without_pauses_still_respect_the_length() -> None:
    cuts = cut_points(speech_like([], 95.0), SAMPLE_RATE, 30.0)
    assert cuts[0] == 0 and all(0 < b - a <= 30 * SAMPLE_RATE for a, b in zip(cuts, cuts[1:] + [95 * SAMPLE_RATE]))
    assert [start for start, _ in chunk(AudioClip(np.zeros(16000, dtype=np.float32)))] == [0.0]
