"""Japanese readings for OpenJTalk: the glossary as a user dictionary, and speech that follows the furigana.

Two problems, two tools:

- **Administrative words**: OpenJTalk's dictionary reads 分別 as ふんべつ and 納期限 as おさめきげん; the
  glossary's ``reading`` column says ぶんべつ and のうきげん. ``build_user_dictionary`` compiles every term
  with a reading into a MeCab user dictionary (naist-jdic format) that the voice loads with reading
  protection, so pyopenjtalk-plus's own reading guesses do not override it.
- **Easy Japanese**: the resident reads furigana on screen and must hear the same readings.
  ``spoken_text`` takes the displayed segments (text + reading) and returns the text to synthesise:
  the original where OpenJTalk already reads it as displayed (best accent), otherwise the displayed
  reading in katakana for the segments that differ.
"""

from __future__ import annotations

import csv
import logging
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from glossary.kana import to_hiragana, to_katakana

_LOGGER = logging.getLogger(__name__)

#: A text piece and the reading shown over it (hiragana; None = no ruby, read as written).
ReadingSegment = tuple[str, str | None]

_COMPILE = "import sys, pyopenjtalk; pyopenjtalk.mecab_dict_index(sys.argv[1], sys.argv[2])"
_NOT_KANA = re.compile(r"[^\u30a1-\u30fa\u30fc]")
_SMALL = set("ァィゥェォャュョヮ")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")


def _full_width(text: str) -> str:
    """ASCII as full-width characters, the form OpenJTalk's MeCab sees its input in."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _morae(kana: str) -> int:
    return sum(1 for c in kana if c not in _SMALL)


def reading_of(text: str, jtalk: Any) -> str:
    """How OpenJTalk reads ``text`` (katakana, kana only: punctuation and pauses dropped)."""
    import pyopenjtalk

    features = pyopenjtalk.run_frontend(text, jtalk=jtalk)
    return _NOT_KANA.sub("", "".join(feature["read"] for feature in features))


def displayed_reading(segments: Sequence[ReadingSegment]) -> str:
    """The reading the screen shows (katakana, kana only)."""
    return _NOT_KANA.sub("", "".join(to_katakana(r if r is not None else t) for t, r in segments))


def spoken_text(segments: Sequence[ReadingSegment], jtalk: Any) -> str:
    """The text to give OpenJTalk so that it says what the furigana show.

    The original text when OpenJTalk reads it as displayed; else the segments it misreads replaced by
    their displayed reading in katakana; else every kanji segment replaced (always reads as shown).
    """
    original = "".join(text for text, _ in segments)
    wanted = displayed_reading(segments)
    if not wanted or reading_of(original, jtalk) == wanted:
        return original
    mixed = "".join(
        text if reading is None or _read_as_shown(segments, index, jtalk) else to_katakana(reading)
        for index, (text, reading) in enumerate(segments)
    )
    if reading_of(mixed, jtalk) == wanted:
        return mixed
    return "".join(text if reading is None else to_katakana(reading) for text, reading in segments)


def _read_as_shown(segments: Sequence[ReadingSegment], index: int, jtalk: Any) -> bool:
    """True when OpenJTalk reads segment ``index`` with its okurigana (the kana after it) as shown."""
    following = segments[index + 1 : index + 2]
    context = [segments[index], *(seg for seg in following if seg[1] is None)]
    return reading_of("".join(text for text, _ in context), jtalk) == displayed_reading(context)


def dictionary_rows(terms: Iterable[Any], jtalk: Any) -> list[list[str]]:
    """naist-jdic rows for glossary terms whose written form has kanji and whose reading is given.

    The pronunciation (long vowels as ー, as OpenJTalk's own entries) comes from OpenJTalk reading the
    reading (``_pronunciation``); the accent is flat (type 0), the usual accent of compound nouns.
    """

    rows = []
    seen: set[str] = set()
    for term in terms:
        surface, reading = str(term.ja).strip(), to_katakana(str(term.reading).replace(" ", ""))
        if not surface or not reading or not _KANJI.search(surface) or surface in seen:
            continue
        if _NOT_KANA.sub("", reading) != reading:
            _LOGGER.warning("glossary term %s: reading is not kana only; not added to the voice", term.id)
            continue
        seen.add(surface)
        pron = _pronunciation(reading, jtalk)
        rows.append(
            [
                _full_width(surface),
                "",
                "",
                "1",
                "名詞",
                "固有名詞",
                "一般",
                "*",
                "*",
                "*",
                _full_width(surface),
                reading,
                pron,
                f"0/{_morae(pron)}",
                "*",
            ]
        )
    return rows


def _pronunciation(reading: str, jtalk: Any) -> str:
    """How ``reading`` (katakana) is pronounced, long vowels as ー (のうきげん → ノーキゲン).

    OpenJTalk reads it in hiragana, where it finds the words and their long vowels (katakana it takes as
    one loanword-like word and keeps ノウ); the katakana's pronunciation when the hiragana reads otherwise.
    """
    import pyopenjtalk

    features = pyopenjtalk.run_frontend(to_hiragana(reading), jtalk=jtalk)
    if _NOT_KANA.sub("", "".join(feature["read"] for feature in features)) == reading:
        return _NOT_KANA.sub("", "".join(feature["pron"] for feature in features)) or reading
    features = pyopenjtalk.run_frontend(reading, jtalk=jtalk)
    return "".join(feature["pron"] for feature in features) or reading


def build_user_dictionary(glossary: Any, directory: Path, jtalk: Any) -> Path | None:
    """Compile the glossary's readings into ``directory/glossary.dic``; None when there is nothing to add.

    Raises:
        RuntimeError: MeCab could not compile the dictionary.
    """
    rows = dictionary_rows(glossary.terms.values(), jtalk) if glossary is not None else []
    if not rows:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "glossary.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    target = directory / "glossary.dic"
    # MeCab's compiler prints progress bars on stdout; a child process keeps them off the CLI's output.
    done = subprocess.run(
        [sys.executable, "-c", _COMPILE, str(source), str(target)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not target.is_file():
        raise RuntimeError(f"MeCab could not compile the glossary readings (exit {done.returncode})")
    _LOGGER.info("OpenJTalk user dictionary: %d glossary readings", len(rows))
    return target


def front_end(glossary: Any | None, directory: Path) -> Any:
    """An OpenJTalk front end that reads ``glossary``'s terms as it says (its user dictionary compiled into
    ``directory``); the plain front end when there is nothing to add or the dictionary does not compile."""
    import pyopenjtalk
    from pyopenjtalk.openjtalk import OpenJTalk

    plain = OpenJTalk(dn_mecab=pyopenjtalk.OPEN_JTALK_DICT_DIR)
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


class JapaneseFrontEnd:
    """The OpenJTalk front end a Japanese voice reads with (Mei, Kokoro): the glossary's readings compiled
    in (``front_end``), rebuilt in a fresh directory when the glossary changes."""

    def __init__(self, glossary: Any | None = None, *, prefix: str = "madoguchi-ja-") -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix=prefix)
        self._generation = 0
        self._lock = threading.Lock()
        self.jtalk: Any = None
        self.set_glossary(glossary)

    def set_glossary(self, glossary: Any | None) -> None:
        """Read ``glossary``'s terms as it says from now on (``jtalk`` is swapped once it is built)."""
        with self._lock:
            self._generation += 1
            directory = Path(self._workdir.name) / str(self._generation)
        self.jtalk = front_end(glossary, directory)

    def spoken_text(self, segments: Sequence[ReadingSegment]) -> str:
        """The text to synthesise so that the furigana shown are said (``spoken_text``)."""
        return spoken_text(segments, self.jtalk)

    def reading(self, text: str) -> str:
        """How ``text`` is read (katakana, kana only), glossary readings included."""
        return reading_of(text, self.jtalk)
