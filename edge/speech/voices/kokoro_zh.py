"""Mandarin text → Kokoro v1.0 phonemes: misaki[zh]'s pinyin → IPA (the phonemes Kokoro v1.0 was trained
with: jieba words, pypinyin readings, tone arrows), with the front end a counter needs around it.

- Numbers are written as they are said first (``zh_text.spoken_numbers``: 300日元 → 三百日元, 2个月 →
  两个月, 8:30 → 八点三十分, phone numbers digit by digit); misaki's own cn2an step misread them.
- Latin words inside Chinese text (My Number, ATM) are spoken with espeak-ng's English phonemes, as Kokoro's
  own pipeline does with its English callable; misaki's v1.0 path passed the letters on as if they were
  phonemes.
- Optionally, the tone sandhi of Standard Mandarin (third-tone pairs, 不 and 一) with misaki's ``ToneSandhi``
  (PaddleSpeech's rules), and pypinyin-dict's large phrase dictionary for polyphones.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from edge.errors import EngineUnavailable
from edge.speech.voices.zh_text import spoken_numbers

#: A run of Latin letters (words, with spaces, apostrophes, hyphens and dots between them).
_LATIN = re.compile(r"([A-Za-z](?:[A-Za-z'.\- ]*[A-Za-z])?)|([^A-Za-z]+)")
#: Chinese characters (misaki's v1.0 path segments these with jieba; the rest is punctuation).
_HAN = re.compile(r"[\u4e00-\u9fff]+")

_DICTIONARY_LOCK = threading.Lock()
_DICTIONARY_LOADED = False


def _load_large_dictionary() -> None:
    """pypinyin-dict's large phrase table (process-wide in pypinyin, as misaki's v1.1 front end loads it)."""
    global _DICTIONARY_LOADED
    with _DICTIONARY_LOCK:
        if not _DICTIONARY_LOADED:
            from pypinyin_dict.phrase_pinyin_data import large_pinyin

            large_pinyin.load()
            _DICTIONARY_LOADED = True


class MandarinPhonemes:
    """Mandarin text → Kokoro phonemes (see the module docstring)."""

    def __init__(
        self,
        english: Callable[[str], str] | None = None,
        *,
        sandhi: bool = False,
        large_dictionary: bool = False,
    ) -> None:
        """``english``: the phonemizer of Latin words (espeak-ng's American English; None drops them)."""
        try:
            import jieba
            from misaki.zh import ZHG2P
        except ImportError as exc:
            raise EngineUnavailable(
                "Kokoro Mandarin needs misaki[zh]: pip install 'madoguchi[kokoro]'"
            ) from exc
        jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter
        if large_dictionary:
            _load_large_dictionary()
        self._zh = ZHG2P
        self._sandhi: Any = None
        if sandhi:
            from misaki.tone_sandhi import ToneSandhi

            self._sandhi = ToneSandhi()
        self._english = english

    def __call__(self, text: str) -> str:
        text = self._zh.map_punctuation(spoken_numbers(text))
        parts = []
        for latin, other in _LATIN.findall(text):
            if latin:
                if self._english is not None:
                    parts.append(self._english(latin))
            elif other.strip():
                parts.append(self._chinese(other))
        return " ".join(part for part in parts if part).replace(chr(815), "")

    def _chinese(self, text: str) -> str:
        """Chinese characters → IPA with tones, other characters (punctuation) as they are."""
        out, offset = [], 0
        for match in _HAN.finditer(text):
            out.append(text[offset : match.start()])
            out.append(" ".join(self._word(word, pos) for word, pos in self._words(match.group(0))))
            offset = match.end()
        out.append(text[offset:])
        return "".join(out)

    def _words(self, text: str) -> list[tuple[str, str]]:
        if self._sandhi is None:
            import jieba

            return [(word, "") for word in jieba.lcut(text, cut_all=False)]
        import jieba.posseg

        words = [(pair.word, pair.flag) for pair in jieba.posseg.lcut(text)]
        return [(word, pos) for word, pos in self._sandhi.pre_merge_for_modify(words)]

    def _word(self, word: str, pos: str) -> str:
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        if self._sandhi is not None and len(syllables) == len(word):
            finals = lazy_pinyin(word, style=Style.FINALS_TONE3, neutral_tone_with_five=True)
            if all(final[-1:].isdigit() for final in finals):
                finals = self._sandhi.modified_tone(word, pos, finals)
                syllables = [
                    s[:-1] + f[-1] if s[-1:].isdigit() else s for s, f in zip(syllables, finals, strict=True)
                ]
        return "".join(self._ipa(syllable) for syllable in syllables)

    def _ipa(self, syllable: str) -> str:
        """One pinyin syllable (TONE3) as IPA with its tone arrow; "" for a character pypinyin cannot read."""
        try:
            return str(self._zh.py2ipa(syllable))
        except (AssertionError, KeyError, ValueError, IndexError):
            return ""
