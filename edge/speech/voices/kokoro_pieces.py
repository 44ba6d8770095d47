"""Where a Kokoro voice cuts its text for streaming: a short first piece, so the first audio comes early.

Kokoro synthesises slower than Mei or Piper (RTF about 0.5-1 on two cores), so the time to first audio is
the time to synthesise the first piece. The first sentence is cut after its first clause (``、`` ``,``);
when that clause is still long, it is cut again after its first words: Japanese at an accent-phrase
boundary (OpenJTalk's front end, which the Japanese phonemiser runs anyway), Mandarin at a word boundary
(jieba, misaki's segmenter), space-separated languages after a few words. Later pieces are whole
sentences (at most ``PIECE_LIMIT`` characters, which also bounds the memory of one model run).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from edge.speech.tts import first_clause_pieces

#: The longest piece (characters) one model run gets.
PIECE_LIMIT = 200
#: A first clause shorter than this (characters) is not cut off: too short a piece sounds choppy.
MIN_FIRST_CLAUSE = 8


@dataclass(frozen=True)
class _FirstCut:
    longest: int
    """A first piece up to this many characters stays whole."""
    shortest: int
    """A cut leaves at least this many characters in the first piece..."""
    rest: int
    """...and at least this many after it."""


_CUTS = {"ja": _FirstCut(6, 3, 3), "zh": _FirstCut(10, 6, 3)}
_SPACED = _FirstCut(32, 14, 10)


def stream_pieces(text: str, language: str | None = None) -> Iterator[str]:
    """Sentences, the first one cut after its first clause and, for ``language``, after its first words
    when that clause is long."""
    pieces = first_clause_pieces(text, limit=PIECE_LIMIT, min_first=MIN_FIRST_CLAUSE)
    first = next(pieces, None)
    if first is None:
        return
    cut = first_cut(first, language) if language else None
    if cut is None:
        yield first
    else:
        yield first[:cut].strip()
        yield first[cut:].strip()
    yield from pieces


def first_cut(piece: str, language: str) -> int | None:
    """Where to cut a long first piece (a character offset at a word boundary), or None."""
    rule = _CUTS.get(language, _SPACED)
    if len(piece) <= rule.longest:
        return None
    for end in word_ends(piece, language):
        rest = piece[end:].strip()
        if end >= rule.shortest and len(rest) >= rule.rest and rest[0].isalnum():
            return end
    return None


def word_ends(text: str, language: str) -> list[int]:
    """Character offsets where a word (Japanese: an accent phrase) of ``text`` ends."""
    if language == "ja":
        return _accent_phrase_ends(text)
    if language == "zh":
        return _jieba_ends(text)
    return [match.start() for match in re.finditer(r"\s+", text)]


def _accent_phrase_ends(text: str) -> list[int]:
    try:
        import pyopenjtalk
    except ImportError:
        return []
    nodes = pyopenjtalk.run_frontend(text, use_sudachi_kanji_yomi=False)  # as the phonemizer: no Sudachi
    ends, offset = [], 0
    for node in nodes:
        if not text.startswith(node["string"], offset):
            break  # the front end normalised the text here (digits): later offsets would not match
        if node["chain_flag"] == 0 and offset:
            ends.append(offset)
        offset += len(node["string"])
    return ends


def _jieba_ends(text: str) -> list[int]:
    try:
        import jieba
    except ImportError:
        return []
    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter
    ends, offset = [], 0
    for word in jieba.cut(text):
        offset += len(word)
        ends.append(offset)
    return ends[:-1]
