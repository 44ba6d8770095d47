"""Sentence splitting for MT, and splitting of segments too long for a model.

Sentences come from pysbd (rule-based, per language: ja, zh, en, es, … with abbreviation and
quotation handling: 「…。」 stays with its sentence, "Mr." / "e.g." do not end one). Our own rules only
where pysbd fails for the counter languages:

- languages pysbd does not know (vi, tl, pt, ko, id, ne) use its English rules; Nepali also ends
  sentences at the danda ``।``;
- a segment that starts with a closing bracket (pysbd handles 「…。」 but not 『…。』 or （…。）) is
  joined with the sentence it closes;
- a segment that ends with a known abbreviation pysbd misses (Spanish "Sr.", "p. ej.", Portuguese
  "Sra.", "ex.") is joined with the next one.

A segment longer than a model takes (``max_input_tokens`` of its decoding profile) is split at the clause
mark (``edge.punctuation``) nearest its middle, then at a space, then in half, until every piece fits.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Final

from edge.punctuation import CLAUSE_MARKS, DANDAS

_PYSBD_LANGUAGES: Final = frozenset({"en", "zh", "es", "ja"})
#: Abbreviations pysbd splits after (checked case-insensitively at the end of a segment).
_ABBREVIATIONS: Final[dict[str, tuple[str, ...]]] = {
    "es": (
        "sr.",
        "sra.",
        "srta.",
        "dr.",
        "dra.",
        "p.",
        "p. ej.",
        "ej.",
        "núm.",
        "art.",
        "av.",
        "ud.",
        "uds.",
    ),
    "pt": ("sr.", "sra.", "dr.", "dra.", "ex.", "p. ex.", "n.º", "art.", "av.", "v. exa."),
    "en": ("e.g.", "i.e.", "approx.", "no."),
    "tl": ("gng.", "bb.", "dr."),
    "id": ("bpk.", "ibu.", "dr.", "no."),
}
_CLOSERS: Final = tuple("」』）)】〉》］]")
_CLAUSE_BREAKS: Final = re.compile(rf"(?<=[{CLAUSE_MARKS}])\s*")
_DANDA: Final = re.compile(rf"(?<=[{DANDAS}])\s*")


@functools.cache
def _segmenter(language: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=language if language in _PYSBD_LANGUAGES else "en", clean=False)


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text`` in ``language`` (stripped, no empty ones; newlines always split)."""
    sentences: list[str] = []
    for paragraph in text.splitlines():
        if not paragraph.strip():
            continue
        pieces = [p.strip() for p in _segmenter(language).segment(paragraph) if p.strip()]
        if language == "ne":
            pieces = [q.strip() for p in pieces for q in _DANDA.split(p) if q.strip()]
        sentences.extend(_join_abbreviations(_join_closers(pieces), language))
    return sentences


def _join_closers(pieces: list[str]) -> list[str]:
    joined: list[str] = []
    for piece in pieces:
        if joined and piece.startswith(_CLOSERS):
            joined[-1] = f"{joined[-1]}{piece}"
        else:
            joined.append(piece)
    return joined


def _join_abbreviations(pieces: list[str], language: str) -> list[str]:
    abbreviations = _ABBREVIATIONS.get(language, ())
    if not abbreviations:
        return pieces
    joined: list[str] = []
    for piece in pieces:
        if joined and joined[-1].lower().endswith(abbreviations) and _is_abbreviation_end(joined[-1]):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def _is_abbreviation_end(segment: str) -> bool:
    """The segment ends with an abbreviation as a word of its own ("el Sr.", not "Rosr.")."""
    last = segment.split()[-1] if segment.split() else ""
    return len(last) <= 6


def split_long(segment: str, too_long: Callable[[str], bool], *, depth: int = 0) -> list[str]:
    """``segment`` itself when it fits, else pieces cut at clause boundaries that each fit."""
    if not too_long(segment) or depth > 12 or len(segment) < 2:
        return [segment]
    cut = _best_cut(segment)
    left, right = segment[:cut].strip(), segment[cut:].strip()
    if not left or not right:
        return [segment]
    return split_long(left, too_long, depth=depth + 1) + split_long(right, too_long, depth=depth + 1)


def _best_cut(segment: str) -> int:
    """Index to cut at: the clause break nearest the middle, else the space nearest it, else the middle."""
    middle = len(segment) // 2
    for pattern in (_CLAUSE_BREAKS, re.compile(r"\s+")):
        cuts = [m.end() for m in pattern.finditer(segment) if 0 < m.end() < len(segment)]
        if cuts:
            return min(cuts, key=lambda c: abs(c - middle))
    return middle
