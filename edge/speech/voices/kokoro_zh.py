"""Mandarin text → Kokoro v1.0 phonemes: misaki[zh]'s pinyin → IPA (the phonemes Kokoro v1.0 was trained
with: jieba words, pypinyin readings, tone arrows), with the front end a counter needs around it.

- Numbers are written as they are said first (``zh_text.spoken_numbers``: 300日元 → 三百日元, 2个月 →
  两个月, 8:30 → 八点三十分, phone numbers digit by digit); misaki's own cn2an step misread them
  (三零日元, 八:三十, 03-1234 as "three minus one thousand ...").
- Latin words inside Chinese text (My Number, ATM) are spoken with espeak-ng's English phonemes, as Kokoro's
  own pipeline does with its English callable; misaki's v1.0 path passed the letters on as if they were
  phonemes.
  Full-width letters (Ｍｙ Ｎｕｍｂｅｒ) are folded to ASCII by ``spoken_numbers`` first.

Chinese characters keep the phonemes of misaki's v1.0 path, with one polyphone read as it is meant: 为 is
wéi ("is", "as": 受理时间为上午, 登记为, 比例为, 视为, 定为) unless it means "for" (wèi: 为了, 因为, 为什么,
为此, 为您); pypinyin read the standalone 为 and several words ending in it as wèi (``wei_reading``).
Measured and not used (round trip with
Whisper base, 72 phrases): Standard Mandarin tone sandhi on the phonemes (misaki's ``ToneSandhi``: CER
9.27 → 9.79 % with zm_yunjian, 10.18 → 10.31 % with zf_xiaobei; the model learnt sandhi from dictionary
tones) and pypinyin-dict's large phrase table (9.27 → 9.40 %, 10.18 → 10.18 %). Mandarin spoken slower
(Kokoro speed 0.9 instead of 1.0) helped zm_yunjian and hurt zf_xiaobei (CER 9.53 → 8.62 %, 11.10 →
12.40 %; bench/results/voices-zh-2026-12-08.md), so Mandarin keeps the model's rate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from edge.errors import EngineUnavailable
from edge.speech.voices.zh_text import spoken_numbers

#: A run of Latin letters (words, with spaces, apostrophes, hyphens and dots between them).
_LATIN = re.compile(r"([A-Za-z](?:[A-Za-z'.\- ]*[A-Za-z])?)|([^A-Za-z]+)")
#: Chinese characters (misaki's v1.0 path segments these with jieba; the rest is punctuation).
_HAN = re.compile(r"[\u4e00-\u9fff]+")
#: Words in which 为 means "for" or "because" (wèi); everywhere else it is wéi.
_WEI4_WORDS = frozenset({"为了", "因为", "为什么", "为何", "为此", "为着", "为啥", "为您服务"})
#: Who 为 is done for: a standalone 为 before these is wèi (为您办理, 为大家).
_WEI4_BEFORE = ("您", "你", "我", "他", "她", "它", "大家", "各位", "市民", "居民", "人民")


class MandarinPhonemes:
    """Mandarin text → Kokoro phonemes (see the module docstring)."""

    def __init__(self, english: Callable[[str], str] | None = None) -> None:
        """``english``: the phonemizer of Latin words (espeak-ng's American English; None drops them).

        Raises:
            EngineUnavailable: misaki[zh] is not installed.
        """
        try:
            import jieba
            from misaki.zh import ZHG2P
        except ImportError as exc:
            raise EngineUnavailable(
                "Kokoro Mandarin needs misaki[zh]: pip install 'madoguchi[kokoro]'"
            ) from exc
        jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter
        self._zh = ZHG2P
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
        """Chinese characters → IPA with tones (jieba words, as misaki's v1.0 path); other characters
        (punctuation) as they are."""
        import jieba

        out, offset = [], 0
        for match in _HAN.finditer(text):
            out.append(text[offset : match.start()])
            words = jieba.lcut(match.group(0), cut_all=False)
            nexts = [*words[1:], ""]
            out.append(" ".join(self._word(word, after) for word, after in zip(words, nexts, strict=True)))
            offset = match.end()
        out.append(text[offset:])
        return "".join(out)

    def _word(self, word: str, after: str = "") -> str:
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        if "为" in word and len(syllables) == len(word):
            reading = wei_reading(word, after)
            syllables = [reading if ch == "为" else py for ch, py in zip(word, syllables, strict=True)]
        return "".join(self._ipa(syllable) for syllable in syllables)

    def _ipa(self, syllable: str) -> str:
        """One pinyin syllable (TONE3) as IPA with its tone arrow; "" for a character pypinyin cannot read."""
        try:
            return str(self._zh.py2ipa(syllable))
        except (AssertionError, KeyError, ValueError, IndexError):
            return ""


def wei_reading(word: str, after: str = "") -> str:
    """The pinyin (TONE3) of 为 in the jieba word ``word`` followed by the word ``after``: wei4 ("for",
    "because") in ``_WEI4_WORDS`` and before whom it is done for (为您办理), else wei2 (时间为上午, 视为)."""
    if word in _WEI4_WORDS or (word == "为" and after.startswith(_WEI4_BEFORE)):
        return "wei4"
    return "wei2"
