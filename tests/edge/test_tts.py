"""Piper synthesis with the real English voice (joe, medium)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.errors import EngineUnavailable
from edge.speech.tts import PiperSynthesizer, TtsOptions, voice_language
from tests.shared_data import english_voice

pytestmark = pytest.mark.slow


@pytest.fixture
def voice(english_synthesizer: PiperSynthesizer) -> PiperSynthesizer:
    return english_synthesizer


def test_voice_language_and_rate(voice: PiperSynthesizer) -> None:
    assert voice.language == "en"
    assert voice.sample_rate == 22050
    assert voice_language(english_voice().with_name(english_voice().name + ".json")) == "en"


def test_streams_one_chunk_per_sentence(voice: PiperSynthesizer) -> None:
    text = "Please bring your residence card. The counter closes at five. Thank you!"
    chunks = list(voice.synthesize(text))
    assert [c.index for c in chunks] == [0, 1, 2]
    for chunk in chunks:
        samples = chunk.samples().astype(np.float32) / 32768
        assert chunk.sample_rate == 22050
        assert np.sqrt(np.mean(samples**2)) > 0.02  # not silence
        assert 0.4 < chunk.duration_s < 4.0  # a short sentence at a normal pace


def test_length_scale_slows_speech(voice: PiperSynthesizer) -> None:
    text = "Your application has been received."
    normal = sum(c.duration_s for c in voice.synthesize(text))
    slow = sum(c.duration_s for c in voice.synthesize(text, TtsOptions(length_scale=1.5)))
    assert slow > normal * 1.25


def test_missing_voice_file(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="voice files missing"):
        PiperSynthesizer(tmp_path / "xx_XX-nobody-medium.onnx")


def test_long_text_without_full_stops_is_cut_into_bounded_pieces() -> None:
    """An ASR repetition loop gives one endless "sentence"; the voice gets it in bounded pieces."""
    from edge.speech.tts import MAX_PIECE_CHARS, bounded_pieces

    looped = "This machine is listening, " * 60
    pieces = list(bounded_pieces(looped))
    assert len(pieces) > 1
    assert all(0 < len(p) <= MAX_PIECE_CHARS for p in pieces)
    assert "".join(pieces).replace(" ", "") == looped.replace(" ", "")
    assert all(p.endswith(",") for p in pieces[:-1])  # cut at clause boundaries, not mid-word
    assert list(bounded_pieces("あ" * 500)) == ["あ" * 240, "あ" * 240, "あ" * 20]
