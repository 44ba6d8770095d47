"""Kokoro voices: the model from PyPI wheels and voice vectors from the kokoro-js npm tarball, one shared
ONNX session across languages, loaded lazily, the first clause streamed before the rest.

The voices load and speak in a child process (``tests.support.child``): Kokoro's session and the Mandarin
phonemizer's dictionaries would otherwise stay in the test process for the rest of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from edge.speech.tts import SpeechChunk
from edge.speech.voices.kokoro import stream_pieces
from edge.speech.voices.kokoro_phonemes import phonemizer_for
from models import Catalogue
from tests.support.child import run_in_child
from tests.support.data import kokoro_store

pytestmark = pytest.mark.slow

MANDARIN = "请签名。"


@dataclass(frozen=True)
class Spoken:
    """What the child process saw: the voices the store offers, the shared model, and the speech."""

    refs: dict[str, tuple[str, str]]  # language → (pack id, engine)
    same_model: bool
    loaded: bool
    spanish: list[SpeechChunk]
    mandarin_phonemes: str
    mandarin: list[SpeechChunk]


def speak_in_a_child_process() -> Spoken:
    """Load Mei and the zh and es Kokoro voices from the store as a counter would, and speak with them."""
    from edge import engines
    from edge.config import EdgeSettings

    store = kokoro_store()
    settings = EdgeSettings(packs_dir=store.root, languages=["ja", "zh", "es"], fallback_voice_languages=[])
    refs = engines.find_voices(settings)
    voices: dict[str, Any] = {language: engines.load_voice(refs[language]) for language in ("zh", "es")}
    spanish = list(voices["es"].synthesize("Buenos días."))
    return Spoken(
        refs={language: (ref.pack_id, ref.engine) for language, ref in refs.items()},
        same_model=voices["zh"]._model is voices["es"]._model,
        loaded=voices["zh"]._model.loaded,
        spanish=spanish,
        mandarin_phonemes=phonemizer_for("zh")(MANDARIN),
        mandarin=list(voices["zh"].synthesize(MANDARIN)),
    )


@pytest.fixture(scope="module")
def spoken() -> Spoken:
    kokoro_store()  # installed here, so a failed install fails in the test process with its message
    result = run_in_child(speak_in_a_child_process)
    assert result.refs["ja"][0] == "openjtalk-mei"  # Mei stays the Japanese default on two cores
    for language in ("zh", "es"):
        assert result.refs[language][1] == "kokoro"
    return result


def test_catalogue_pins_voice_vectors_and_credits_them() -> None:
    catalogue = Catalogue.load()
    spec = catalogue.get("kokoro-es-ef_dora")
    assert spec.source.type == "npm" and spec.source.packages == ("kokoro-js@1.2.1",)
    assert spec.files[0].sha256 and spec.license.spdx == "Apache-2.0"
    assert spec.engine_code("es") == "es-419"
    languages = {lang for s in catalogue.all() if s.format == "kokoro-voice" for lang in s.languages}
    assert languages == {"ja", "zh", "es", "pt", "en"}
    store = kokoro_store()
    vector = np.fromfile(store.get("kokoro-es-ef_dora").runtime_path("voice_file"), dtype="<f4")
    assert vector.size == 510 * 256


def test_voices_share_one_lazily_loaded_model(spoken: Spoken) -> None:
    assert spoken.same_model
    chunks = spoken.spanish
    assert spoken.loaded and chunks and chunks[0].sample_rate == 24000
    audio = chunks[0].samples().astype(np.float32)
    assert audio.size / 24000 > 0.4 and np.sqrt(np.mean(audio**2)) > 300


def test_mandarin_speaks_through_misaki(spoken: Spoken) -> None:
    assert "↘" in spoken.mandarin_phonemes or "↓" in spoken.mandarin_phonemes
    chunks = spoken.mandarin
    assert chunks and chunks[0].duration_s > 0.4


def test_first_clause_is_its_own_piece() -> None:
    text = "Por favor, muestre su tarjeta de residencia. Gracias."
    assert list(stream_pieces(text)) == ["Por favor,", "muestre su tarjeta de residencia.", "Gracias."]
    assert list(stream_pieces("Sí, gracias.")) == ["Sí, gracias."]  # too short a clause stays whole
    assert "ˈ" in phonemizer_for("es", "es-419")("muestre su tarjeta")
