"""The last-resort voice: espeak-ng (a Debian package), for languages with no licensed neural voice.

Robotic but intelligible enough for a resident who cannot read. It is labelled ``quality = "machine"``
so the counter shows it as a low-quality machine voice, and IT can switch it off per language
(``EdgeSettings.fallback_voice_languages``). The text goes to espeak-ng on stdin (never on its command
line, where other processes could read it) and the WAV comes back on stdout; nothing touches the disk.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import wave
from collections.abc import Iterator

from edge.errors import EngineUnavailable
from edge.speech.pieces import sentence_pieces
from edge.speech.tts import SpeechChunk, Synthesizer, TtsOptions

_LOGGER = logging.getLogger(__name__)

#: espeak-ng voice per counter language (Latin-American Spanish and Brazilian Portuguese). Not Japanese
#: or Chinese: it cannot read kanji or hanzi (measured round-trip CER above 100 %).
ESPEAK_VOICES: dict[str, str] = {
    "vi": "vi",
    "ko": "ko",
    "id": "id",
    "ne": "ne",
    "en": "en-us",
    "es": "es-419",
    "pt": "pt-br",
}
# Not Mandarin: Debian's espeak-ng reads most Chinese syllables as pinyin with English letter rules
# ("申请" → "SE55nw'055n"); Whisper heard 12 phrase-book sentences back at 226 % CER. Worse than text.
ESPEAK_NAME = "espeak-ng"
ESPEAK_ATTRIBUTION = "espeak-ng speech synthesizer (GPL-3.0-or-later), Debian package espeak-ng"
_TIMEOUT_S = 30.0


def espeak_binary() -> str | None:
    """The espeak-ng executable, or None when the Debian package is not installed."""
    return shutil.which("espeak-ng")


class EspeakSynthesizer(Synthesizer):
    """espeak-ng through its command-line program, one sentence at a time."""

    quality = "machine"

    def __init__(self, language: str, *, options: TtsOptions = TtsOptions(), words_per_minute: int = 150):
        """Check that espeak-ng speaks ``language``.

        Raises:
            EngineUnavailable: espeak-ng is not installed or has no voice for ``language``.
        """
        binary = espeak_binary()
        if binary is None:
            raise EngineUnavailable("espeak-ng is not installed; run `apt-get install espeak-ng`")
        if language not in ESPEAK_VOICES:
            raise EngineUnavailable(f"espeak-ng has no voice for {language!r}")
        self._binary = binary
        self._language = language
        self._voice = ESPEAK_VOICES[language]
        self._wpm = words_per_minute
        self._rate: int | None = None
        self.options = options
        self.name = f"{ESPEAK_NAME}-{self._voice}"
        self.attribution = ESPEAK_ATTRIBUTION

    @property
    def language(self) -> str:
        return self._language

    @property
    def sample_rate(self) -> int:
        if self._rate is None:
            self._rate = self._run("a")[1]
        return self._rate

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence (see ``Synthesizer.synthesize``)."""
        opts = options or self.options
        index = 0
        for piece in sentence_pieces(text):
            pcm, rate = self._run(piece, opts)
            if pcm:
                yield SpeechChunk(pcm=pcm, sample_rate=rate, index=index)
                index += 1

    def _run(self, text: str, opts: TtsOptions | None = None) -> tuple[bytes, int]:
        opts = opts or self.options
        speed = round(self._wpm / (opts.length_scale or 1.0))
        amplitude = max(0, min(200, round(100 * opts.volume)))
        command = [self._binary, "-v", self._voice, "-s", str(speed), "-a", str(amplitude), "--stdout"]
        try:
            done = subprocess.run(
                command, input=text.encode("utf-8"), capture_output=True, timeout=_TIMEOUT_S, check=True
            )
        except (subprocess.SubprocessError, OSError) as exc:  # stderr may quote the text: not logged
            raise EngineUnavailable(
                f"espeak-ng failed ({type(exc).__name__}); run `espeak-ng --version`"
            ) from exc
        with wave.open(io.BytesIO(done.stdout)) as wav:
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
        return frames, rate
