"""Every language shows which voice it has: packs first, the espeak-ng machine voice (labelled, and
switchable off per language by IT) for vi/ko/id/ne and for es/pt until their Kokoro packs are
installed, and an honest "no voice" for Tagalog (and for Mandarin without Kokoro)."""

from __future__ import annotations

import numpy as np
import pytest

from edge import engines
from edge.config import EdgeSettings
from edge.counter.readiness import language_rows
from edge.events import Notice
from edge.speech.voices.espeak import EspeakSynthesizer
from edge.turn.pipeline import TurnPipeline
from tests.support.data import default_store


def _settings(tmp_path, **overrides) -> EdgeSettings:  # type: ignore[no-untyped-def]
    return EdgeSettings(home=tmp_path, packs_dir=default_store().root, **overrides)


def test_espeak_speaks_vietnamese_sentence_by_sentence() -> None:
    voice = EspeakSynthesizer("vi")
    chunks = list(voice.synthesize("Xin chào. Bạn cần giấy tờ gì?"))
    assert [c.index for c in chunks] == [0, 1]
    assert voice.quality == "machine" and voice.name == "espeak-ng-vi"
    audio = np.concatenate([c.samples() for c in chunks]).astype(np.float32)
    assert audio.size / chunks[0].sample_rate > 1.0 and np.sqrt(np.mean(audio**2)) > 300


def test_each_language_gets_its_voice_or_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    voices = engines.find_voices(_settings(tmp_path, languages=["ja", "vi", "ko", "tl", "en"]))
    assert voices["ja"].pack_id == "openjtalk-mei" and voices["ja"].engine == "openjtalk"
    assert "CC BY 3.0" in voices["ja"].attribution
    assert voices["en"].engine == "piper"
    assert voices["vi"].machine and voices["ko"].machine
    assert "tl" not in voices


def test_it_switches_the_machine_voice_off_per_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, languages=["ja", "vi", "ko"], fallback_voice_languages="ko")
    voices = engines.find_voices(settings)
    assert "vi" not in voices and voices["ko"].machine
    none = engines.find_voices(_settings(tmp_path, languages=["vi"], fallback_voice_languages=""))
    assert none == {}


def test_pipeline_labels_the_machine_voice_and_says_when_there_is_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, languages=["ja", "vi", "tl"])
    refs = engines.find_voices(settings)
    voices = {lang: engines.load_voice(ref) for lang, ref in refs.items()}
    pipe = TurnPipeline(None, voices, None, languages=settings.languages)
    spoken = pipe.translate_text("Xin chào.", "vi", "vi")
    assert spoken.audio is not None and spoken.voice_quality == "machine"
    assert spoken.to_dict()["voice_quality"] == "machine"
    events: list[object] = []
    silent = pipe.translate_text("Salamat po.", "tl", "tl", events.append)
    assert silent.audio is None and silent.voice_missing == "tl"
    notice = next(e for e in events if isinstance(e, Notice) and e.code == "voice_missing")
    assert (
        "no Tagalog" in notice.text and "voice is available" in notice.text and "shown as text" in notice.text
    )


_GREETINGS = {
    "vi": "Xin chào.",
    "ko": "안녕하세요.",
    "id": "Selamat pagi.",
    "ne": "नमस्ते।",
    "es": "Buenos días.",
    "pt": "Bom dia.",
}


_DEFAULT_FALLBACK = EdgeSettings.model_fields["fallback_voice_languages"].default_factory()  # not the env's


@pytest.mark.parametrize("language", _DEFAULT_FALLBACK)
def test_every_fallback_language_has_an_espeak_voice(language: str) -> None:
    assert list(EspeakSynthesizer(language).synthesize(_GREETINGS[language]))


def test_a_language_whose_neural_voice_is_not_installed_gets_the_machine_voice_and_the_way_to_a_better_one(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "packs").mkdir()  # a device with no voice packs at all
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["zh", "es", "pt", "tl"])
    voices = engines.find_voices(settings)
    assert {lang for lang, ref in voices.items() if ref.machine} == {"es", "pt"}  # espeak's Mandarin is noise
    loaded = {lang: engines.load_voice(ref) for lang, ref in voices.items()}
    rows = {row["code"]: row for row in language_rows(TurnPipeline(None, loaded, None), ("es", "zh", "tl"))}
    assert rows["es"]["voice_quality"] == "machine"
    better = "madoguchi models install kokoro-82m-v1.0-int8 kokoro-es-ef_dora"
    assert any(better in note for note in rows["es"]["notes"])
    assert rows["tl"]["voice"] is None and any("text only" in n for n in rows["tl"]["notes"])
    assert rows["zh"]["voice"] is None and any("text only" in n for n in rows["zh"]["notes"])


def test_a_build_without_kokoros_phonemes_is_not_told_to_install_kokoro_packs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A bundle built without the ``kokoro`` extra cannot load a Kokoro voice: the message names what is
    missing instead of packs that would be refused after install. (The missing modules are simulated: this
    environment has them installed.)"""
    import importlib.util

    from edge.turn.speak import missing_voice_message, voice_packs_to_install

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("misaki") else real(name, *a)
    )
    assert voice_packs_to_install("zh") == []
    message = missing_voice_message("zh")
    assert "madoguchi[kokoro]" in message and "models install" not in message
    assert voice_packs_to_install("es")  # es/pt phonemes come from espeak-ng: their packs still load
