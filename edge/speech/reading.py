"""Japanese text as morae of its spoken reading (OpenJTalk's front end via pyopenjtalk-plus).

Recognition errors on counter vocabulary are mostly *homophones or near-homophones*: Whisper writes
住民票 as 十民表 and 児童手当 as 自動手当 — different characters, (almost) the same sound. Comparing
readings instead of characters finds them. A reading is a list of morae in a folded katakana form:

- OpenJTalk's pronunciation of each word (``pron``, accent marks dropped);
- the long-vowel mark spelled out the way dictionaries write it: ー after an o/u-row mora is ウ, after an
  e/i-row mora イ, after an a-row mora ア (ジュー = ジュウ, セー = セイ), so a dictionary reading
  (じゅうみんひょう) and a pronunciation agree while の+うつし stays ノウツシ;
- ヲ → オ, ヂ → ジ, ヅ → ズ; small ャュョァィゥェォ belong to the mora before them.

``fold`` goes one step further for a *half-cost* comparison: voicing marks dropped (ゴ = コ,
バ = パ = ハ) and length marks dropped (a long vowel, ッ): モエルコミ, ノウフショウ and ホイックエン
fold like モエルゴミ, ノウフショ and ホイクエン — the differences a recogniser makes most and a
listener hears least.

``words(text)`` keeps OpenJTalk's word segmentation with the original offsets, so a span of words can be
replaced in the original text. A recogniser's wrong kanji often form no real word (点入届け for 転入届,
安勝番号 for 暗証番号), and OpenJTalk then reads them as something else entirely (テンイリ, アンガチ). So
a short all-kanji word also gets the reading of its characters' main on'yomi (Unihan kJapanese, shipped
with pyopenjtalk-plus): テンニュウ, アンショウ — the reading the recogniser heard. For a word OpenJTalk
knows (``Word.known``: 大風 オオカゼ, 定規 ジョウギ) the on'yomi (タイフウ, テイキ) is only a guess.

OpenJTalk spells numbers out (900 → 九百); ``words`` keeps a number as one word over its digits.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Final

from glossary.kana import to_katakana

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
    alternatives: tuple[tuple[str, ...], ...] = ()
    """Other readings worth trying (the characters' on'yomi), each different from ``morae``."""
    pos: str = ""
    """OpenJTalk's part of speech (名詞, 助詞, 助動詞, 記号, …)."""
    known: bool = False
    """OpenJTalk's dictionary knows the word as a common word: its reading is the dictionary's, the on'yomi
    a guess (大風 オオカゼ, 前 マエ); not a name (安勝) nor a word it had to make up (タスポート)."""

    @property
    def function_word(self) -> bool:
        """A particle or an auxiliary (は, を, で, です, た …): grammar, not content."""
        return self.pos in FUNCTION_POS


#: Parts of speech of function words (OpenJTalk's names).
FUNCTION_POS: Final = frozenset({"助詞", "助動詞"})


@functools.lru_cache(maxsize=4096)
def _voiceless(mora: str) -> str:
    import unicodedata

    bare = "".join(c for c in unicodedata.normalize("NFD", mora) if c not in "\u3099\u309a")
    return unicodedata.normalize("NFC", bare).replace("ヴ", "ウ")


#: A length mora and the vowels of the mora it lengthens.
_LENGTH_AFTER: Final = {"ア": "ア", "イ": "イエ", "ウ": "ウオ"}


@functools.lru_cache(maxsize=65536)
def fold(seq: tuple[str, ...]) -> tuple[str, ...]:
    """``seq`` without voicing marks and length marks (long vowels spelled out, ッ), see the module doc."""
    out: list[str] = []
    previous = ""
    for mora in seq:
        if mora == "ッ":
            continue
        if previous and mora in _LENGTH_AFTER and vowel_of(previous) in _LENGTH_AFTER[mora]:
            continue
        previous = mora
        out.append(_voiceless(mora))
    return tuple(out)


def vowel_of(mora: str) -> str:
    """The vowel a katakana mora ends in (ア イ ウ エ オ, voiced and small kana too; '' for ン, ッ, ー)."""
    return _VOWELS.get(_voiceless(mora)[-1], "")


_VOWELS: Final = {
    **dict.fromkeys("アカサタナハマヤラワァャヮ", "ア"),
    **dict.fromkeys("イキシチニヒミリィ", "イ"),
    **dict.fromkeys("ウクスツヌフムユルゥュ", "ウ"),
    **dict.fromkeys("エケセテネヘメレェ", "エ"),
    **dict.fromkeys("オコソトノホモヨロヲォョ", "オ"),
}


def morae(kana: str) -> tuple[str, ...]:
    """Folded morae of a kana string (hiragana or katakana)."""
    kana = to_katakana(kana).translate(_SAME)
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
    """OpenJTalk's words of ``text`` with original offsets and folded morae (punctuation has none).

    OpenJTalk spells numbers out (900 → 九 百, 14日 → 十 四日): the words of one number become one word
    over the digits as written, with the number's reading, so offsets stay true.
    """
    run = _frontend()
    features = list(run(text))  # type: ignore[operator]
    found: list[Word] = []
    position = 0
    index = 0
    while index < len(features):
        if (number := _number(text, position, features, index)) is not None:
            word, index = number
            found.append(word)
            position = word.end
            continue
        feature = features[index]
        index += 1
        surface = feature["string"]
        start = text.find(surface, position)
        if start < 0:  # OpenJTalk widened the characters (ｍｙ for my): map by width-folded search
            start = _find_folded(text, surface, position)
        end = start + len(surface) if start >= 0 else position
        start = start if start >= 0 else position
        position = end
        spoken = morae(feature["pron"])
        onyomi = _onyomi(surface) if spoken else None
        alternatives = (onyomi,) if onyomi and onyomi != spoken else ()
        known = _known(feature)
        found.append(Word(surface, start, end, spoken, alternatives, feature.get("pos", ""), known))
    return found


_DIGITS: Final = frozenset("0123456789０１２３４５６７８９")
#: Characters of a number as written or as OpenJTalk spells it out.
_NUMERIC: Final = _DIGITS | frozenset(",.，．〇一二三四五六七八九十百千万億兆")


def _number(text: str, position: int, features: list[dict], index: int) -> tuple[Word, int] | None:
    """The word of a number written in digits at ``position`` and the index of the feature after it (None:
    no digits there, or OpenJTalk kept them as written)."""
    start = position
    while start < len(text) and text[start].isspace():
        start += 1
    if start >= len(text) or text[start] not in _DIGITS or text.startswith(features[index]["string"], start):
        return None
    end = start
    while end < len(text) and text[end] in _NUMERIC:
        end += 1
    spoken: list[str] = []
    while index < len(features):
        surface = features[index]["string"]
        digits = len(surface) - len(surface.lstrip("".join(_NUMERIC)))
        if digits == 0:
            break
        spoken += morae(features[index]["pron"])
        index += 1
        rest = surface[digits:]
        if rest:  # 四日 of 14日: the number ends inside this word
            end = end + len(rest) if text.startswith(rest, end) else end
            break
    return Word(text[start:end], start, end, tuple(spoken), (), "名詞"), index


#: Longest all-kanji word that also gets its characters' on'yomi as a reading (characters).
MAX_ONYOMI_CHARS = 3
#: OpenJTalk's word classes (pos_group1) whose reading of a several-kanji word is itself a guess: names
#: and unknown words (安勝 read アンガチ).
_UNSURE_GROUPS: Final = frozenset({"固有名詞", "*"})


def _known(feature: dict) -> bool:
    """OpenJTalk read the word from its dictionary as a common word: a noun it lacks has no accent chain
    rule (inflected words have none either), and a name's reading is a guess too."""
    made_up = feature.get("pos") == "名詞" and feature.get("chain_rule", "") == "*"
    return not made_up and feature.get("pos_group1") not in _UNSURE_GROUPS


@functools.lru_cache(maxsize=1)
def _unihan() -> dict[str, str]:
    try:
        from pyopenjtalk._unihan_readings_map import UNIHAN_READINGS
    except ImportError:  # another pyopenjtalk build: no alternative readings
        return {}
    return dict(UNIHAN_READINGS)


def _onyomi(surface: str) -> tuple[str, ...] | None:
    """The characters' main on'yomi of a short all-kanji word, as folded morae (None otherwise)."""
    if not 0 < len(surface) <= MAX_ONYOMI_CHARS:
        return None
    table = _unihan()
    parts = [table.get(ch) for ch in surface]
    if not all(parts):
        return None
    return morae("".join(parts))  # type: ignore[arg-type]


def _find_folded(text: str, surface: str, position: int) -> int:
    import unicodedata

    folded = unicodedata.normalize("NFKC", surface)
    index = text.find(folded, position)
    return index


def reading(text: str) -> tuple[str, ...]:
    """Folded morae of the whole of ``text`` as spoken."""
    return tuple(m for word in words(text) for m in word.morae)
