"""Japanese speech with OpenJTalk (pyopenjtalk-plus) and an HTS voice such as Mei.

Fast (real-time factor about 0.05 on two cores), so it suits a Raspberry Pi. The voice file comes from a
voice pack (``openjtalk-mei``); the text front end and its dictionary come from pyopenjtalk-plus. The
glossary's readings are compiled into a user dictionary (``ja_reading``) so administrative words are read
as the city reads them, and ``synthesize_readings`` speaks Easy Japanese with the furigana shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable
from edge.speech.pieces import sentence_pieces
from edge.speech.tts import ReadingSegment, SpeechChunk, Synthesizer, TtsOptions, pcm16
from edge.speech.voices.ja_phrasing import add_pauses, breath_groups
from edge.speech.voices.ja_reading import JapaneseFrontEnd

_LOGGER = logging.getLogger(__name__)

#: Mei's speaking rate (1.0 = the voice's own) for Japanese (the clerk's side, the phrase book) and for
#: Easy Japanese spoken to a resident. Measured with ``madoguchi bench voices`` (Whisper base, phrase book):
#: slower did not help Japanese, and a little slower helped Easy Japanese.
DEFAULT_SPEED = 1.0
DEFAULT_EASY_SPEED = 0.9

#: A short pause after a phrase once a breath group has this many morae (0 = only at commas), in Japanese
#: and in Easy Japanese: the first audio comes sooner (a shorter first group); measured, more pauses
#: helped Easy Japanese be understood and did not help Japanese.
DEFAULT_PAUSE_MORAE = 10
DEFAULT_EASY_PAUSE_MORAE = 6


class OpenJTalkSynthesizer(Synthesizer):
    """An HTS voice driven by OpenJTalk's front end, sentence by sentence."""

    def __init__(
        self,
        voice_file: Path,
        *,
        glossary: Any | None = None,
        options: TtsOptions = TtsOptions(),
        name: str = "openjtalk-mei",
        attribution: str = "",
        speed: float = DEFAULT_SPEED,
        easy_speed: float = DEFAULT_EASY_SPEED,
        pause_morae: int = DEFAULT_PAUSE_MORAE,
        easy_pause_morae: int = DEFAULT_EASY_PAUSE_MORAE,
    ) -> None:
        """Load the voice and the front end (with the glossary's readings).

        ``speed`` is the speaking rate when the options set no ``length_scale`` (< 1 speaks slower),
        ``easy_speed`` the rate of Easy Japanese (``synthesize_readings``); ``pause_morae`` and
        ``easy_pause_morae`` where a long breath group gets a short pause (see ``ja_phrasing``).

        Raises:
            EngineUnavailable: the voice file is missing or broken, or pyopenjtalk-plus is absent.
        """
        voice_file = Path(voice_file)
        if not voice_file.is_file():
            raise EngineUnavailable(f"HTS voice file missing: {voice_file}; reinstall the voice pack")
        try:
            import pyopenjtalk  # noqa: F401
            from pyopenjtalk.htsengine import HTSEngine
        except ImportError as exc:
            raise EngineUnavailable(
                "pyopenjtalk-plus is not installed; install the edge extra: pip install 'madoguchi[edge]'"
            ) from exc
        started = time.perf_counter()
        try:
            self._engine = HTSEngine(str(voice_file).encode("utf-8"))
        except RuntimeError as exc:
            raise EngineUnavailable(f"cannot load the HTS voice {voice_file.name}; reinstall it") from exc
        self._lock = threading.Lock()
        self._front = JapaneseFrontEnd(glossary, prefix="madoguchi-voice-")
        self.options = options
        self.speed = speed
        self.easy_speed = easy_speed
        self.pause_morae = pause_morae
        self.easy_pause_morae = easy_pause_morae
        self.name = name
        self.attribution = attribution
        _LOGGER.info("OpenJTalk voice %s loaded in %.1f s", name, time.perf_counter() - started)

    @property
    def language(self) -> str:
        return "ja"

    @property
    def sample_rate(self) -> int:
        return int(self._engine.get_sampling_frequency())

    def set_glossary(self, glossary: Any | None) -> None:
        """Read the terms of ``glossary`` as it says (rebuilds the user dictionary)."""
        self._front.set_glossary(glossary)

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield one chunk per breath group (up to a pause) of each sentence, each as soon as it is ready:
        the first plays while the rest is synthesised."""
        return self._stream(text, options or self.options, self.speed, self.pause_morae)

    def _stream(self, text: str, opts: TtsOptions, speed: float, pause_morae: int) -> Iterator[SpeechChunk]:
        rate = 1.0 / opts.length_scale if opts.length_scale else speed  # the caller's options win
        index = 0
        for sentence in sentence_pieces(text):
            for labels in self._breath_groups(sentence, pause_morae):
                pcm = self._speak(labels, rate, opts.volume)
                if pcm:
                    yield SpeechChunk(pcm=pcm, sample_rate=self.sample_rate, index=index)
                    index += 1

    def warm(self) -> None:
        """Speak a short sentence with kanji of several readings: the front end loads its reading models
        (Sudachi) on first use, about 0.1 s that the first turn would otherwise wait."""
        for _chunk in self.synthesize("人の名前を書きます。"):
            pass

    def synthesize_readings(
        self, segments: Sequence[ReadingSegment], options: TtsOptions | None = None
    ) -> Iterator[SpeechChunk]:
        """Speak ``segments`` with the readings displayed over them (furigana), at the Easy Japanese rate."""
        text = self.spoken_text(segments)
        return self._stream(text, options or self.options, self.easy_speed, self.easy_pause_morae)

    def spoken_text(self, segments: Sequence[ReadingSegment]) -> str:
        """The text this voice is given for ``segments`` so it says the readings shown."""
        return self._front.spoken_text(segments)

    def reading(self, text: str) -> str:
        """How this voice reads ``text`` (katakana, kana only), glossary readings included."""
        return self._front.reading(text)

    # -- internals -------------------------------------------------------------------------------------

    def _breath_groups(self, sentence: str, pause_morae: int) -> list[list[str]]:
        """The full-context labels of ``sentence`` (pauses added), cut at each pause."""
        import pyopenjtalk

        with self._lock:
            jtalk = self._front.jtalk
            features = pyopenjtalk.run_frontend(sentence, jtalk=jtalk)
            features = add_pauses(features, pause_morae)
            labels = pyopenjtalk.make_label(features, jtalk=jtalk) if features else []
        return breath_groups(labels)

    def _speak(self, labels: list[str], rate: float, volume: float) -> bytes:
        if not any(_phoneme(label) not in ("sil", "pau") for label in labels):  # silence only
            return b""
        with self._lock:
            self._engine.set_speed(rate)
            wave = self._engine.synthesize(labels)
        return pcm16(wave / 32768.0, volume)


def _phoneme(label: str) -> str:
    """The current phoneme of a full-context label (``a^b-CURRENT+d=e...``)."""
    return label.split("-", 1)[1].split("+", 1)[0] if "-" in label and "+" in label else label
