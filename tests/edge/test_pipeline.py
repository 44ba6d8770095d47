"""The turn pipeline with real Whisper base and the real English Piper voice, no MT packs.

Covers the documented fallbacks: ja→en through Whisper's own translation and spoken, ja→vi as a text
result with a notice naming the pack, and the errors a turn can end with.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.errors import LanguageError, NoSpeechError
from edge.events import Notice, SpeechAudio, TranscriptEvent, TranslationReady, TurnError
from edge.speech.asr import WhisperTranscriber
from edge.speech.tts import PiperSynthesizer
from edge.turn.pipeline import TurnPipeline

pytestmark = pytest.mark.slow

CLIP = Path(__file__).resolve().parents[2] / "edge" / "samples" / "ja_common_voice_19482480.mp3"


@pytest.fixture
def pipe(whisper_base: WhisperTranscriber, english_synthesizer: PiperSynthesizer) -> TurnPipeline:
    transcriber = whisper_base.with_options(whisper_base.options)
    return TurnPipeline(transcriber, {"en": english_synthesizer}, None, asr_pack="whisper-base")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return load_audio(CLIP)


def test_ja_to_en_without_mt_uses_whisper_translate_and_speaks(pipe: TurnPipeline, clip: np.ndarray) -> None:
    events: list[object] = []
    result = pipe.run_turn(clip, "auto", "en", events.append)
    assert result.source_language == "ja"
    assert "見せて" in result.source_text
    assert result.mt_engine == "whisper-translate"
    assert result.target_text and result.target_text.isascii()
    assert result.audio is not None and result.audio.size / result.sample_rate > 0.5
    assert result.voice == "en_US-joe-medium"
    assert {"vad", "asr", "mt", "tts_first", "tts", "total"} <= result.timings_ms.keys()
    kinds = [type(e) for e in events]
    assert kinds[0] is TranscriptEvent
    assert kinds.index(TranslationReady) < kinds.index(SpeechAudio)
    speech = [e for e in events if isinstance(e, SpeechAudio)]
    assert speech[-1].is_last and not any(e.is_last for e in speech[:-1])
    assert any("models install" in e.text for e in events if isinstance(e, Notice))
    data = result.to_dict()
    json.dumps(data)  # result.json must be JSON
    assert data["packs"]["asr"] == "whisper-base" and "audio" not in data


def test_ja_to_vi_without_packs_is_a_text_result_with_a_notice(pipe: TurnPipeline, clip: np.ndarray) -> None:
    result = pipe.run_turn(clip, "ja", "vi")
    assert result.source_text and result.target_text == ""
    assert result.mt_engine == "none"
    assert result.audio is None
    assert any("models install" in n and "ja→vi" in n for n in result.notices)


def test_typed_text_into_japanese_is_text_first(pipe: TurnPipeline) -> None:
    result = pipe.translate_text("住民票をください。", "ja", "ja")
    assert result.target_text == "住民票をください。"
    assert result.voice_missing == "ja" and result.audio is None
    assert any("text-first" in n for n in result.notices)


def test_silence_is_no_speech_and_reports_an_error_event(pipe: TurnPipeline) -> None:
    events: list[object] = []
    with pytest.raises(NoSpeechError):
        pipe.run_turn(np.zeros(2 * SAMPLE_RATE, dtype=np.float32), "auto", "en", events.append)
    assert isinstance(events[-1], TurnError) and events[-1].code == "no_speech"


def test_unknown_and_disabled_languages(pipe: TurnPipeline, clip: np.ndarray) -> None:
    with pytest.raises(LanguageError, match="use one of"):
        pipe.run_turn(clip, "auto", "fr")
    narrow = TurnPipeline(pipe.transcriber, pipe.voices, None, languages=("ja", "en"))
    with pytest.raises(LanguageError, match="not enabled"):
        narrow.run_turn(clip, "ja", "vi")


def test_events_are_tagged_json() -> None:
    from edge.events import SpeechStarted

    assert SpeechStarted(timestamp_ms=320.0).to_dict() == {"type": "speech-started", "timestamp_ms": 320.0}
    audio = SpeechAudio(pcm=b"\x01\x00\x02\x00", sample_rate=22050, index=1, is_last=True).to_dict()
    assert audio["type"] == "speech-audio" and audio["pcm_base64"] == "AQACAA=="
    error = json.loads(json.dumps(TurnError(text="no speech heard", code="no_speech").to_dict()))
    assert error == {"type": "error", "text": "no speech heard", "code": "no_speech"}


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from edge.config import load_settings
    from edge.errors import ConfigError

    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    monkeypatch.setenv("MADOGUCHI_LANGUAGES", "ja, vi,EN")
    settings = load_settings()
    assert settings.languages == ["ja", "vi", "en"]
    assert settings.store_dir == tmp_path / "packs"
    assert settings.confirm_before_speaking is False and settings.compute_type == "int8"
    monkeypatch.setenv("MADOGUCHI_LANGUAGES", "ja,klingon")
    with pytest.raises(ConfigError, match="MADOGUCHI_"):
        load_settings()


def test_from_settings_refuses_a_loaded_model_the_settings_do_not_name(
    default_store, whisper_base: WhisperTranscriber, tmp_path: Path
) -> None:
    """A loaded recogniser is shared only when it is the settings' own model (else a clear error)."""
    from edge.config import EdgeSettings

    settings = EdgeSettings(home=tmp_path, packs_dir=default_store.root, asr_pack="whisper-tiny")
    with pytest.raises(ValueError, match="whisper-tiny"):
        TurnPipeline.from_settings(settings, pairs=[("ja", "en")], warm=False, transcriber=whisper_base)
