"""Japanese speech with OpenJTalk (pyopenjtalk-plus) and an HTS voice such as Mei.

Fast (real-time factor about 0.05 on two cores), so it suits a Raspberry Pi. The voice file comes from a
voice pack (``openjtalk-mei``); the text front end and its dictionary come from pyopenjtalk-plus. The
glossary's readings are compiled into a user dictionary (``ja_reading``) so administrative words are read
as the city reads them, and ``synthesize_readings`` speaks Easy Japanese with the furigana shown.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable
from edge.speech.tts import ReadingSegment, SpeechChunk, Synthesizer, TtsOptions, first_clause_pieces, pcm16
from edge.speech.voices.ja_reading import build_user_dictionary, reading_of, spoken_text

_LOGGER = logging.getLogger(__name__)


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
    ) -> None:
        """Load the voice and the front end (with the glossary's readings).

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
        self._workdir = tempfile.TemporaryDirectory(prefix="madoguchi-voice-")
        self._generation = 0
        self._jtalk = self._front_end(glossary)
        self.options = options
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
        jtalk = self._front_end(glossary)
        with self._lock:
            self._jtalk = jtalk

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence (see ``Synthesizer.synthesize``)."""
        opts = options or self.options
        index = 0
        for piece in first_clause_pieces(text):  # the first clause alone: the first audio comes sooner
            pcm = self._speak(piece, opts)
            if pcm:
                yield SpeechChunk(pcm=pcm, sample_rate=self.sample_rate, index=index)
                index += 1

    def synthesize_readings(
        self, segments: Sequence[ReadingSegment], options: TtsOptions | None = None
    ) -> Iterator[SpeechChunk]:
        """Speak ``segments`` with the readings displayed over them (furigana)."""
        return self.synthesize(self.spoken_text(segments), options)

    def spoken_text(self, segments: Sequence[ReadingSegment]) -> str:
        """The text this voice is given for ``segments`` so it says the readings shown."""
        return spoken_text(segments, self._jtalk)

    def reading(self, text: str) -> str:
        """How this voice reads ``text`` (katakana, kana only), glossary readings included."""
        return reading_of(text, self._jtalk)

    # -- internals -------------------------------------------------------------------------------------

    def _front_end(self, glossary: Any | None) -> Any:
        import pyopenjtalk
        from pyopenjtalk.openjtalk import OpenJTalk

        plain = OpenJTalk(dn_mecab=pyopenjtalk.OPEN_JTALK_DICT_DIR)
        self._generation += 1
        directory = Path(self._workdir.name) / str(self._generation)
        try:
            dictionary = build_user_dictionary(glossary, directory, plain)
        except (RuntimeError, OSError) as exc:  # the voice still speaks, with the dictionary's readings
            _LOGGER.warning("glossary readings not loaded into the Japanese voice: %s", exc)
            dictionary = None
        if dictionary is None:
            return plain
        return OpenJTalk(
            dn_mecab=pyopenjtalk.OPEN_JTALK_DICT_DIR,
            userdic=str(dictionary).encode("utf-8"),
            userdic_reading_protection=[True],
        )

    def _speak(self, piece: str, opts: TtsOptions) -> bytes:
        import pyopenjtalk

        with self._lock:
            labels = pyopenjtalk.extract_fullcontext(piece, jtalk=self._jtalk)
            if len(labels) <= 2:  # silence only (punctuation)
                return b""
            self._engine.set_speed(1.0 / opts.length_scale if opts.length_scale else 1.0)
            wave = self._engine.synthesize(labels)
        return pcm16(wave / 32768.0, opts.volume)
