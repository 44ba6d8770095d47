"""The paraphrase dictionary: difficult words → common ones (``data/paraphrases.csv``).

Columns: ``word,pos,easy,reading,note``. ``pos`` says how a replacement is applied:

- ``suru``: a サ変 noun used with する (記入する → 書く); the replacement verb takes the form of the する
  (記入して → 書いて, 提出しなければ → 出さなければ). The noun alone (記入の方法) is left as it is.
- ``verb``: a verb (申す → 言う), conjugated like the original.
- ``noun`` / ``adv``: a whole word replaced as it is (本日 → 今日, 至急 → すぐに); ``reading``
  restricts the match to one reading (方 read かた → 人, not ほう).
- ``loanword``: a katakana word replaced only where the Japanese word is easier (アポイント → 予約).
- ``expr``: a fixed expression replaced as written (所定の → 決まった, 場合は → ときは).
- ``honorific``: a fixed honorific expression replaced as written (お越しください → 来てください,
  恐れ入りますが → すみませんが); reported as ``honorific.expression``.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import logging
from dataclasses import dataclass
from typing import Final

from edge.errors import ConfigError

_LOGGER = logging.getLogger(__name__)

POS_KINDS: Final = frozenset({"suru", "verb", "noun", "adv", "loanword", "expr", "honorific"})
_FIXED: Final = frozenset({"expr", "honorific"})
_HEADER: Final = ["word", "pos", "easy", "reading", "note"]


@dataclass(frozen=True)
class Paraphrase:
    """One entry of the paraphrase dictionary."""

    word: str
    pos: str
    easy: str
    reading: str = ""
    note: str = ""


class ParaphraseDictionary:
    """Entries indexed for the rules: words by (form, kind) and expressions longest first."""

    def __init__(self, entries: list[Paraphrase]) -> None:
        self.entries = tuple(entries)
        self._words: dict[str, list[Paraphrase]] = {}
        for e in entries:
            if e.pos not in _FIXED:
                self._words.setdefault(e.word, []).append(e)
        self.expressions: tuple[Paraphrase, ...] = tuple(
            sorted((e for e in entries if e.pos in _FIXED), key=lambda e: len(e.word), reverse=True)
        )
        """Fixed expressions (``expr`` and ``honorific``), longest first."""

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, forms: tuple[str, ...], kinds: tuple[str, ...], reading: str = "") -> Paraphrase | None:
        """The first entry whose word is one of ``forms`` and whose pos is one of ``kinds``."""
        for form in forms:
            for e in self._words.get(form, ()):
                if e.pos in kinds and (not e.reading or e.reading == reading):
                    return e
        return None


def parse_paraphrases(text: str, origin: str = "paraphrases.csv") -> list[Paraphrase]:
    """Parse the CSV text; raises ConfigError naming the line on a bad row."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != _HEADER:
        raise ConfigError(f"{origin}: header must be {','.join(_HEADER)}")
    out = []
    seen: set[tuple[str, str]] = set()
    for lineno, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(_HEADER):
            raise ConfigError(f"{origin}:{lineno}: expected {len(_HEADER)} columns, got {len(row)}")
        word, pos, easy, reading, note = (c.strip() for c in row)
        if pos not in POS_KINDS or not word or not easy:
            raise ConfigError(f"{origin}:{lineno}: need a word, an easy form and pos in {sorted(POS_KINDS)}")
        if (word, pos) in seen:
            raise ConfigError(f"{origin}:{lineno}: duplicate entry {word} ({pos})")
        seen.add((word, pos))
        out.append(Paraphrase(word, pos, easy, reading, note))
    return out


@functools.lru_cache(maxsize=1)
def bundled_paraphrases() -> ParaphraseDictionary:
    """The dictionary shipped in ``edge/easy_ja/data/paraphrases.csv`` (loaded once)."""
    text = (importlib.resources.files("edge.easy_ja") / "data" / "paraphrases.csv").read_text("utf-8")
    return ParaphraseDictionary(parse_paraphrases(text))
