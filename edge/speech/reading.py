"""Japanese text as morae of its spoken reading (OpenJTalk's front end via pyopenjtalk-plus).

Recognition errors on counter vocabulary are mostly *homophones or near-homophones*: Whisper writes
住民票 as 十民表 and 児童手当 as 自動手当 — different characters, (almost) the same sound. Comparing
readings instead of characters finds them. A reading is a list of morae in a folded katakana form:

- OpenJTalk's pronunciation of each word (``pron``, accent marks dropped);
- the long-vowel mark spelled out the way dictionaries write it: ー after an o/u-row mora is ウ, after an
  e/i-row mora イ, after an a-row mora ア (ジュー = ジュウ, セー = セイ), so a dictionary reading
  (じゅうみんひょう) and a pronunciation agree while の+うつし stays ノウツシ;
- ヲ → オ, ヂ → ジ, ヅ → ズ; small ャュョァィゥェォ belong to the mora before them.

``words(text)`` keeps OpenJTalk's word segmentation with the original offsets, so a span of words can be
replaced in the original text.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Final

_LOGGER = logging.getLogger(__name__)

_SMALL: Final = frozenset("ャュョァィゥェォヮ")
_SAME: Final = str.maketrans({"ヲ": "オ", "ヂ": "ジ", "ヅ": "ズ", "’": None, "'": None})
_LONG: Final = {
    **dict.fromkeys("アカサタナハマヤラワガザダバパァャヮ", "ア"),
    **dict.fromkeys("イキシチニヒミリギジビピィエケセテネヘメレゲゼデベペェ", "イ"),
    **dict.fromkeys("ウクスツヌフムユルグズブプゥュヴオコソトノホモヨロゴゾドボポォョ", "ウ"),
}


@dataclass(frozen=True)
class Word:
    """One word of a text with its reading: ``text[start:end] == surface``."""

    surface: str
    start: int
    end: int
    morae: tuple[str, ...]


def _hira_to_kata(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in text)


def morae(kana: str) -> tuple[str, ...]:
    """Folded morae of a kana string (hiragana or katakana)."""
    kana = _hira_to_kata(kana).translate(_SAME)
    out: list[str] = []
    for ch in kana:
        if not ("\u30a1" <= ch <= "\u30fc"):
            continue
        if ch in _SMALL and out:
            out[-1] += ch
            continue
        if ch == "ー" and out:
            ch = _LONG.get(out[-1][-1], ch)
        out.append(ch)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _frontend() -> object:
    import pyopenjtalk

    return pyopenjtalk.run_frontend


def words(text: str) -> list[Word]:
    """OpenJTalk's words of ``text`` with original offsets and folded morae (punctuation has none)."""
    run = _frontend()
    found: list[Word] = []
    position = 0
    for feature in run(text):  # type: ignore[operator]
        surface = feature["string"]
        start = text.find(surface, position)
        if start < 0:  # OpenJTalk widened the characters (ｍｙ for my): map by width-folded search
            start = _find_folded(text, surface, position)
        end = start + len(surface) if start >= 0 else position
        start = start if start >= 0 else position
        position = end
        found.append(Word(surface, start, end, morae(feature["pron"])))
    return found


def _find_folded(text: str, surface: str, position: int) -> int:
    import unicodedata

    folded = unicodedata.normalize("NFKC", surface)
    index = text.find(folded, position)
    return index


def reading(text: str) -> tuple[str, ...]:
    """Folded morae of the whole of ``text`` as spoken."""
    return tuple(m for word in words(text) for m in word.morae)
