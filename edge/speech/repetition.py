"""Repetition loops in recogniser and translator output, found directly.

Whisper (and seq2seq MT) sometimes falls into a loop: "Don't worry about it. Don't worry about it.",
"スタッフのスタッフのスタッフの", "the ship of the ship's ship". A gzip ratio cannot see a loop in a
60-character text, so loops are looked for directly, on the text and on the token sequence:

- **tandem repeat**: a unit repeated back to back (``ABAB…``) — words for spaced languages, characters for
  Japanese and Chinese, token ids for the decoder output;
- **repeated clause**: the same stretch of ≥ ``clause_min_words`` words (≥ ``min_chars`` characters in
  Japanese/Chinese) twice, not necessarily adjacent, covering a large share of the text ("There are a lot
  of children, and there are a lot of children");
- **dominant word**: one content word making up a third of a short text ("the ship of the ship's ship"),
  or a tenth of it when a pair of words with it repeats as well.

Text is compared in a normalised form (NFKC, lower case, punctuation and spaces dropped for CJK), so
"Do you listen to Japanese? Do you listen to Japanese?" is one unit repeated twice.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: Words that may legitimately dominate a short sentence.
_STOPWORDS: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "and",
        "or",
        "is",
        "are",
        "was",
        "be",
        "it",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "this",
        "that",
        "for",
        "with",
        "as",
        "by",
        "no",
        "not",
        "yes",
        "do",
        "does",
        "did",
        "have",
        "has",
        "can",
        "will",
        "my",
        "your",
        "me",
    ]
)
_POSSESSIVE = re.compile(r"(?:'s|’s|s')$")


@dataclass(frozen=True)
class RepetitionOptions:
    """How much repetition makes a loop.

    Attributes:
        min_words: Shortest back-to-back repeated unit span of a spaced language, less one (words).
        clause_min_words: Shortest non-adjacent repeated clause of a spaced language (words).
        min_chars: Shortest repeated clause of Japanese/Chinese text (characters).
        min_coverage: Share of the text a non-adjacent repeated clause must cover (0..1).
        tandem_min_unit_chars: Shortest unit of a back-to-back repeat in CJK text (characters).
        tandem_min_span_chars: Shortest span (unit × copies) of a CJK back-to-back repeat (characters).
        dominant_share: Share of the words one content word may take before it is a loop (0..1).
        token_min_unit: Shortest token unit of a back-to-back token repeat (tokens).
        token_min_span: Shortest token span of a back-to-back token repeat (tokens).
    """

    min_words: int = 3
    clause_min_words: int = 5
    min_chars: int = 6
    min_coverage: float = 0.4
    tandem_min_unit_chars: int = 2
    tandem_min_span_chars: int = 8
    dominant_share: float = 0.3
    token_min_unit: int = 2
    token_min_span: int = 8


@dataclass(frozen=True)
class Repetition:
    """A loop found in a text or token sequence.

    Attributes:
        kind: ``tandem``, ``clause``, ``dominant`` or ``tokens``.
        unit: The repeated unit (normalised text, or token ids as text).
        copies: How often it occurs.
    """

    kind: str
    unit: str
    copies: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"kind": self.kind, "unit": self.unit, "copies": self.copies}


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(" " if unicodedata.category(ch)[0] in "PSZ" and ch != "'" else ch for ch in text)


def _units(text: str) -> tuple[list[str], bool]:
    """Comparison units: characters for mostly-CJK text, words otherwise."""
    norm = _normalise(text)
    letters = [ch for ch in norm if not ch.isspace()]
    cjk = sum(map(_is_cjk, letters)) * 2 > len(letters) if letters else False
    if cjk:
        return letters, True
    return norm.split(), False


def tandem_repeat(seq: Sequence[Hashable], min_unit: int, min_span: int) -> tuple[int, int, int] | None:
    """The longest-spanning back-to-back repeat ``(start, unit length, copies)`` with at least two copies,
    a unit of ≥ ``min_unit`` items and a span of ≥ ``min_span`` items; None when there is none."""
    n = len(seq)
    best: tuple[int, int, int] | None = None
    for unit in range(min_unit, n // 2 + 1):
        for start in range(n - 2 * unit + 1):
            if seq[start] != seq[start + unit]:
                continue
            if seq[start : start + unit] != seq[start + unit : start + 2 * unit]:
                continue
            copies = 2
            while seq[start : start + unit] == seq[start + copies * unit : start + (copies + 1) * unit]:
                copies += 1
            span = unit * copies
            if span >= min_span and (best is None or span > best[1] * best[2]):
                best = (start, unit, copies)
    return best


def _repeated_clause(items: list[str], min_len: int, coverage: float) -> tuple[int, int] | None:
    """A stretch of ≥ ``min_len`` items occurring twice without overlap, longest first:
    ``(start, length)`` when its two copies cover ≥ ``coverage`` of ``items``."""
    n = len(items)
    for length in range(n // 2, min_len - 1, -1):
        if 2 * length < coverage * n:
            return None
        seen: dict[tuple[str, ...], int] = {}
        for start in range(n - length + 1):
            key = tuple(items[start : start + length])
            first = seen.setdefault(key, start)
            if start - first >= length:
                return first, length
    return None


def _dominant_word(words: list[str], share: float) -> tuple[str, int] | None:
    """A content word said ≥ 3 times that takes ``share`` of the words, or a tenth of them while one of
    its word pairs also repeats ("the Japanese language and the language of the Japanese language")."""
    stems = [_POSSESSIVE.sub("", word) for word in words]
    counts = Counter(stem for stem in stems if len(stem) >= 3 and stem not in _STOPWORDS)
    pairs = Counter(itertools.pairwise(stems))
    for word, count in counts.most_common(3):
        if count < 3:
            return None
        if count >= share * len(words):
            return word, count
        paired = any(n >= 2 and word in pair for pair, n in pairs.items())
        if paired and count >= 0.1 * len(words):
            return word, count
    return None


def find_repetition(text: str, options: RepetitionOptions = RepetitionOptions()) -> Repetition | None:
    """The loop in ``text`` (see the module docstring), or None when it reads as ordinary speech."""
    items, cjk = _units(text)
    if len(items) < 2:
        return None
    joiner = "" if cjk else " "
    if cjk:
        tandem = tandem_repeat(items, options.tandem_min_unit_chars, options.tandem_min_span_chars)
    else:
        tandem = tandem_repeat(items, 1, options.min_words + 1)
        if tandem is not None and tandem[1] == 1 and items[tandem[0]] in _STOPWORDS | {"very", "so"}:
            tandem = None  # "very very", "no no no" are speech, not a loop
    if tandem is not None:
        start, unit, copies = tandem
        return Repetition("tandem", joiner.join(items[start : start + unit]), copies)
    clause = _repeated_clause(
        items, options.min_chars if cjk else options.clause_min_words, options.min_coverage
    )
    if clause is not None:
        start, length = clause
        return Repetition("clause", joiner.join(items[start : start + length]), 2)
    if not cjk:
        dominant = _dominant_word(items, options.dominant_share)
        if dominant is not None:
            return Repetition("dominant", dominant[0], dominant[1])
    return None


def find_token_repetition(
    tokens: Sequence[int], options: RepetitionOptions = RepetitionOptions()
) -> Repetition | None:
    """A back-to-back loop in a decoder's token ids (≥ 2 copies of a ≥ 2-token unit spanning ≥ 8 tokens)."""
    tandem = tandem_repeat(list(tokens), options.token_min_unit, options.token_min_span)
    if tandem is None:
        return None
    start, unit, copies = tandem
    return Repetition("tokens", " ".join(map(str, tokens[start : start + unit])), copies)
