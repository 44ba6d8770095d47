"""Audio input: decoding real files of every common format and refusing every unusable one."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from edge.audio.decode import (
    SAMPLE_RATE,
    AudioDecodeError,
    AudioFileNotFound,
    AudioLimits,
    AudioTooLong,
    AudioTooShort,
    EmptyAudio,
    InvalidSamples,
    check_samples,
    float_to_int16,
    int16_to_float,
    load_audio,
    write_wav,
)
from edge.errors import AudioInputError
from tests.shared_data import SPEECH_DIR as SPEECH
from tests.support.audio import write_float_wav


@pytest.mark.parametrize(
    ("name", "duration_s"),
    [
        ("test_ja_2.wav", 11.25),  # 44.1 kHz WAV
        ("common_voice_ja_19482480.mp3", 5.67),  # 48 kHz MP3
        ("fleurs-en-003.ogg", 5.76),  # Opus in OGG
        ("librispeech_1089-134686-0001.wav", 3.275),  # 16 kHz WAV
    ],
)
def test_load_audio_decodes_real_files_to_16k_mono(name: str, duration_s: float) -> None:
    audio = load_audio(SPEECH / name)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / SAMPLE_RATE - duration_s) < 0.1
    assert 0.001 < np.abs(audio).max() <= 1.0  # the FLEURS re-encodes peak at only ~0.005


def test_stereo_flac_at_44k_becomes_mono_16k(tmp_path: Path) -> None:
    path = tmp_path / "stereo.flac"
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(path), "synth", "1.5", "sine", "440", "vol", "0.5"],
        check=True,
    )
    audio = load_audio(path)
    assert audio.size == pytest.approx(1.5 * SAMPLE_RATE, abs=200)
    # FFmpeg downmixes two identical channels at -3 dB: 0.5 becomes ~0.71.
    assert 0.6 < np.abs(audio).max() <= 0.75


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFileNotFound, match="no such audio file"):
        load_audio(tmp_path / "nothing.wav")


def test_text_file_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is a shopping list, not audio\n")
    with pytest.raises(AudioDecodeError, match="not a readable audio file"):
        load_audio(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(EmptyAudio):
        load_audio(path)


def test_wav_with_no_frames(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    write_wav(path, np.zeros(0, dtype=np.int16), SAMPLE_RATE)
    with pytest.raises(AudioInputError):
        load_audio(path)


def test_too_short_clip(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    write_wav(path, np.full(int(0.2 * SAMPLE_RATE), 0.1, dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(AudioTooShort, match=r"at least 0\.3 s"):
        load_audio(path)


def test_nan_samples(tmp_path: Path) -> None:
    samples = np.zeros(SAMPLE_RATE, dtype=np.float32)
    samples[100] = np.nan
    path = tmp_path / "nan.wav"
    write_float_wav(path, samples)
    with pytest.raises(InvalidSamples, match="NaN"):
        load_audio(path)


def test_inf_samples_in_an_array() -> None:
    samples = np.zeros(SAMPLE_RATE, dtype=np.float32)
    samples[5] = np.inf
    with pytest.raises(InvalidSamples):
        check_samples(samples)


def test_absurd_length_is_refused_without_decoding_it_all(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "660", "sine", "300"], check=True
    )
    with pytest.raises(AudioTooLong, match="longer than 10 min"):
        load_audio(path)


def test_length_limit_while_decoding(tmp_path: Path) -> None:
    # A raw MP3 stream has no reliable declared duration: the decoder itself must stop.
    path = tmp_path / "long.mp3"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(path), "synth", "20", "sine", "300"], check=True
    )
    with pytest.raises(AudioTooLong):
        load_audio(path, AudioLimits(max_duration_s=5.0))


def test_int16_round_trip_and_clipping() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.5, -2.0], dtype=np.float32)
    pcm = float_to_int16(samples)
    assert pcm.dtype == np.int16
    assert pcm[3] == 32767 and pcm[4] == -32767
    back = int16_to_float(pcm.tobytes())
    assert np.allclose(back[:3], samples[:3], atol=1e-4)


def test_write_wav_is_readable_int16(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    write_wav(path, np.full(22050, 0.25, dtype=np.float32), 22050)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()) == (
            1,
            2,
            22050,
            22050,
        )
    assert load_audio(path).size == SAMPLE_RATE
