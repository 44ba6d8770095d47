"""VAD: trimming a clip, and the streaming segmenter on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.vad import FRAME_SAMPLES, Segmenter, Utterance, VadOptions, trim_silence
from edge.errors import NoSpeechError
from edge.events import SpeechStarted, SpeechStopped
from tests.shared_data import SPEECH_DIR as SPEECH


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(SPEECH / "common_voice_ja_19482480.mp3")


def test_trim_removes_added_silence(speech: np.ndarray) -> None:
    silence = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    trimmed = trim_silence(np.concatenate([silence, speech, silence]))
    assert trimmed.input_s == pytest.approx(speech.size / SAMPLE_RATE + 4, abs=0.01)
    assert trimmed.speech_s < speech.size / SAMPLE_RATE
    assert trimmed.regions[0][0] > 2.0


def test_pure_silence_and_hum_have_no_speech() -> None:
    with pytest.raises(NoSpeechError):
        trim_silence(np.zeros(3 * SAMPLE_RATE, dtype=np.float32))
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    with pytest.raises(NoSpeechError):
        trim_silence((0.05 * np.sin(2 * np.pi * 50 * t)).astype(np.float32))


def _run(segmenter: Segmenter, audio: np.ndarray, step: int = 700) -> list[object]:
    out: list[object] = []
    for start in range(0, audio.size, step):
        out.extend(segmenter.push(audio[start : start + step]))
    return out


def test_segmenter_emits_start_stop_and_utterance(speech: np.ndarray) -> None:
    silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
    stream = np.concatenate([silence, speech, silence])
    outputs = _run(Segmenter(VadOptions(min_silence_ms=500)), stream)
    kinds = [type(o) for o in outputs]
    assert kinds[0] is SpeechStarted
    assert kinds[-2:] == [SpeechStopped, Utterance]
    utterance = outputs[-1]
    assert isinstance(utterance, Utterance)
    assert not utterance.forced
    assert utterance.start_ms >= 900  # speech begins after the second of silence
    assert 2.0 < utterance.audio.size / SAMPLE_RATE < speech.size / SAMPLE_RATE + 0.5
    assert utterance.audio.size % FRAME_SAMPLES == 0


def test_segmenter_ignores_silence_and_flushes_open_speech(speech: np.ndarray) -> None:
    segmenter = Segmenter()
    assert _run(segmenter, np.zeros(2 * SAMPLE_RATE, dtype=np.float32)) == []
    outputs = _run(segmenter, speech[: 2 * SAMPLE_RATE])  # push-to-talk released mid-sentence
    assert any(isinstance(o, SpeechStarted) for o in outputs)
    closed = segmenter.flush()
    assert [type(o) for o in closed] == [SpeechStopped, Utterance]
    assert closed[1].forced


def test_segmenter_cuts_at_max_speech(speech: np.ndarray) -> None:
    outputs = _run(Segmenter(VadOptions(max_speech_s=1.0, min_silence_ms=2000)), speech)
    utterances = [o for o in outputs if isinstance(o, Utterance)]
    assert utterances and utterances[0].forced
    assert utterances[0].audio.size / SAMPLE_RATE < 1.5
