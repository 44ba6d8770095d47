"""The voices of the counter: one engine per voice pack, all behind ``edge.speech.tts.Synthesizer``.

- ``piper``: Piper ONNX voices (``edge.speech.tts``);
- ``openjtalk``: Japanese with OpenJTalk and an HTS voice (Mei), glossary readings and furigana-true
  Easy Japanese (``openjtalk``);
- ``kokoro``: Kokoro-82M, one shared ONNX model with a voice vector per language (``kokoro``);
- ``espeak-ng``: the last-resort machine voice of a Debian package, for languages with no licensed
  neural voice (``espeak``).

The pipeline only sees ``Synthesizer``; this module turns a ``VoiceRef`` (found by ``edge.engines``) into
a loaded voice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable
from edge.speech.tts import Synthesizer

#: The engine name of the espeak-ng fallback (it has no pack: it is a Debian package).
ESPEAK_ENGINE = "espeak-ng"

#: Which installed voice speaks each language when several could, best first (measured with
#: ``madoguchi bench voices``: first audio and round-trip intelligibility on the device class).
#: Packs not named here come after, largest first.
PREFERRED_VOICES: dict[str, tuple[str, ...]] = {
    # Mei: first audio well under 0.3 s on two cores; Kokoro Japanese is more natural but several times
    # slower than real time on a loaded two-core machine, so it is not the default on the device class.
    "ja": ("openjtalk-mei", "kokoro-ja-jf_alpha", "kokoro-ja-jm_kumo"),
    "en": ("piper-en_US-joe-medium", "kokoro-en-af_heart", "kokoro-en-am_michael"),
    # The only licence-clean neural voices for these languages: Kokoro, streamed clause by clause.
    # Mandarin: zm_yunjian is understood better (round-trip CER 12.9 % against zf_xiaobei's 15.9 % on the
    # same 72 phrases with Whisper base).
    "zh": ("kokoro-zh-zm_yunjian", "kokoro-zh-zf_xiaobei"),
    "es": ("kokoro-es-ef_dora", "kokoro-es-em_alex"),
    "pt": ("kokoro-pt-pf_dora", "kokoro-pt-pm_alex"),
}


@dataclass(frozen=True)
class VoiceRef:
    """Where a voice lives and which engine speaks it.

    Attributes:
        language: ISO 639-1 language it speaks.
        model_path: The main file (Piper ``.onnx``, HTS ``.htsvoice``, Kokoro voice vector); None for
            espeak-ng.
        config_path: Piper's ``.onnx.json`` (None for other engines).
        pack_id: The pack it came from (or the file stem for a hand-placed voice).
        engine: ``piper``, ``openjtalk``, ``kokoro`` or ``espeak-ng``.
        attribution: What the voice's licence requires to be shown ("" when nothing).
        license: SPDX id of the voice's licence ("" when unknown).
        extra: Engine details (Kokoro: ``model_path``, ``voice``, ``lang``).
    """

    language: str
    model_path: Path | None
    config_path: Path | None
    pack_id: str
    engine: str = "piper"
    attribution: str = ""
    license: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def machine(self) -> bool:
        """True for the last-resort machine voice (labelled as low quality)."""
        return self.engine == ESPEAK_ENGINE


def load_voice(ref: VoiceRef, *, glossary: Any | None = None) -> Synthesizer:
    """Load the voice ``ref`` points to (``glossary``: readings for voices that take them).

    Raises:
        EngineUnavailable: the files or the engine are missing.
    """
    if ref.engine == "piper":
        from edge.speech.tts import PiperSynthesizer

        assert ref.model_path is not None
        voice: Synthesizer = PiperSynthesizer(
            ref.model_path, ref.config_path, language=ref.language, name=ref.pack_id
        )
    elif ref.engine == "openjtalk":
        from edge.speech.voices.openjtalk import OpenJTalkSynthesizer

        assert ref.model_path is not None
        voice = OpenJTalkSynthesizer(ref.model_path, glossary=glossary, name=ref.pack_id)
    elif ref.engine == "kokoro":
        from edge.speech.voices.kokoro import KokoroSynthesizer

        voice = KokoroSynthesizer.from_ref(ref, glossary=glossary)
    elif ref.engine == ESPEAK_ENGINE:
        from edge.speech.voices.espeak import EspeakSynthesizer

        voice = EspeakSynthesizer(ref.language)
    else:
        raise EngineUnavailable(
            f"voice pack {ref.pack_id}: unknown voice engine {ref.engine!r}; upgrade madoguchi"
        )
    voice.attribution = ref.attribution or voice.attribution
    return voice
