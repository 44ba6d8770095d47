"""Audio in and out: decode any common file to 16 kHz mono float32, check it, write WAV.

Every turn starts here, so every way a file can be unusable has its own ``AudioInputError`` subclass
with a one-line message. Decoding goes through PyAV (the FFmpeg binding faster-whisper uses) frame by
frame, so an absurdly long file is refused after ``max_duration_s`` of decoded audio instead of being
loaded whole: memory stays bounded whatever the container header claims.
"""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.errors import AudioInputError

_LOGGER = logging.getLogger(__name__)

#: Sample rate of everything downstream of the input (Whisper, Silero VAD).
SAMPLE_RATE = 16000


class AudioFileNotFound(AudioInputError):
    """The path does not exist or is not a file."""

    code = "audio_not_found"


class AudioDecodeError(AudioInputError):
    """The file is not audio FFmpeg can decode (wrong extension, corrupt, text)."""

    code = "audio_decode"


class EmptyAudio(AudioInputError):
    """The file or array holds no samples."""

    code = "audio_empty"


class AudioTooShort(AudioInputError):
    """The clip is too short to hold a word."""

    code = "audio_too_short"


class AudioTooLong(AudioInputError):
    """The clip is longer than one counter turn can be."""

    code = "audio_too_long"


class InvalidSamples(AudioInputError):
    """The samples contain NaN or infinity."""

    code = "audio_invalid_samples"


@dataclass(frozen=True)
class AudioLimits:
    """Bounds on an input clip.

    Attributes:
        min_duration_s: Shorter clips are refused (seconds).
        max_duration_s: Longer clips are refused while decoding (seconds).
    """

    min_duration_s: float = 0.3
    max_duration_s: float = 600.0


def load_audio(path: Path, limits: AudioLimits = AudioLimits()) -> np.ndarray:
    """Decode a WAV/FLAC/OGG/MP3/... file to 16 kHz mono float32 in [-1, 1].

    Args:
        path: The audio file.
        limits: Duration bounds.

    Returns:
        A 1-D float32 array at ``SAMPLE_RATE``.

    Raises:
        AudioFileNotFound, AudioDecodeError, EmptyAudio, AudioTooShort, AudioTooLong, InvalidSamples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileNotFound(f"no such audio file: {path}")
    if path.stat().st_size == 0:
        raise EmptyAudio(f"{path} is empty (0 bytes); record the speech again")
    audio = _decode(path, limits.max_duration_s)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if 1.0 < peak < float("inf"):  # a surround down-mix or a hot float file: scale, do not clip
        audio /= peak
    return check_samples(audio, limits, name=str(path))


def check_samples(
    audio: np.ndarray, limits: AudioLimits = AudioLimits(), *, name: str = "audio"
) -> np.ndarray:
    """Validate a 16 kHz mono clip and return it as contiguous float32.

    Raises:
        EmptyAudio, AudioTooShort, AudioTooLong, InvalidSamples.
    """
    audio = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
    if audio.size == 0:
        raise EmptyAudio(f"{name} holds no audio samples")
    if not np.isfinite(audio).all():
        raise InvalidSamples(f"{name} contains NaN or infinite samples; re-export it as 16-bit PCM")
    duration_s = audio.size / SAMPLE_RATE
    if duration_s < limits.min_duration_s:
        raise AudioTooShort(
            f"{name} is {duration_s:.2f} s long; a turn needs at least {limits.min_duration_s:g} s of speech"
        )
    if duration_s > limits.max_duration_s:
        raise AudioTooLong(_too_long_message(name, limits.max_duration_s))
    return audio


def _too_long_message(name: str, max_duration_s: float) -> str:
    return (
        f"{name} is longer than {max_duration_s / 60:g} min; "
        "split it into single utterances (one counter turn each)"
    )


def _decode(path: Path, max_duration_s: float) -> np.ndarray:
    import av

    max_samples = int(max_duration_s * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"{path} has no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                declared_s = float(stream.duration * stream.time_base)
                if declared_s > max_duration_s + 1.0:
                    raise AudioTooLong(_too_long_message(str(path), max_duration_s))
            resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    chunks.append(samples.astype(np.float32, copy=True))
                    total += samples.size
                if total > max_samples:
                    raise AudioTooLong(_too_long_message(str(path), max_duration_s))
            for out in resampler.resample(None):
                samples = out.to_ndarray().reshape(-1)
                chunks.append(samples.astype(np.float32, copy=True))
    except AudioInputError:
        raise
    except (av.FFmpegError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise AudioDecodeError(
            f"{path} is not a readable audio file (use WAV, FLAC, OGG or MP3): {type(exc).__name__}"
        ) from exc
    if not chunks:
        raise EmptyAudio(f"{path} holds no audio samples")
    return np.concatenate(chunks)


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    """Convert float samples in [-1, 1] to int16 (clipping out-of-range values)."""
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).round().astype(np.int16)


def int16_to_float(pcm: np.ndarray | bytes) -> np.ndarray:
    """Convert int16 samples (array or little-endian bytes) to float32 in [-1, 1)."""
    if isinstance(pcm, bytes | bytearray | memoryview):
        pcm = np.frombuffer(pcm, dtype="<i2")
    return np.asarray(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def write_wav(path: Path, pcm: np.ndarray | bytes, sample_rate: int) -> None:
    """Write mono int16 PCM (array or bytes) as a WAV file.

    Args:
        path: Destination file (overwritten).
        pcm: int16 samples, or float samples that are converted with ``float_to_int16``.
        sample_rate: Samples per second.
    """
    if isinstance(pcm, np.ndarray):
        data = (float_to_int16(pcm) if pcm.dtype.kind == "f" else pcm.astype("<i2")).tobytes()
    else:
        data = bytes(pcm)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(data)
