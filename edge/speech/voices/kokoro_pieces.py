"""Where a Kokoro voice cuts its text for streaming: a short first piece, so the first audio comes early.

Kokoro synthesises slower than Mei or Piper: its cost grows with the audio it makes (about 0.5-0.7 s of
CPU per second of audio on one core, the silence at its edges included), so the time to first audio is
the time to synthesise the first piece. The first sentence is therefore cut after its first words, as
many as fit in about half a second of speech (``FIRST_BUDGET``): Japanese at an accent-phrase boundary
(OpenJTalk's front end, which the Japanese phonemiser runs anyway; counted in morae), space-separated
languages at a space (counted in characters). A clause mark inside the budget is the preferred cut.
Mandarin is not cut inside its first clause: Whisper hears a join between two runs as a pause inside a
word (儿童 | 补贴): with a 3-character first piece the round-trip CER on 72 phrases was 12.9 % (zm_yunjian)
and 15.9 % (zf_xiaobei), with the first clause 10.1 % and 11.2 %. Its first piece is the first clause.
The rest of the first sentence is cut after its first clause; later pieces are whole sentences. A piece
longer than about 4 s of speech (``LONG_PIECE``) is cut at the word end nearest its middle: one model
run's memory grows with its audio, and a shorter piece is ready sooner after the one playing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from edge.speech import pieces
from edge.speech.pieces import (
    FirstPiece,
    first_clause_pieces,
    sentence_pieces,
    spaced_word_ends,
    speech_follows,
)
from edge.speech.voices.zh_text import MEASURE_WORDS, spoken_numbers

#: The longest piece (characters) one model run gets.
PIECE_LIMIT = 200
#: A clause of the first sentence after the first piece shorter than this (characters) is not cut off.
MIN_FIRST_CLAUSE = 8
#: How much speech the first piece may hold: Japanese morae, Mandarin characters (syllables), else
#: characters (letters and spaces). About half a second of Kokoro speech each, i.e. about 0.3 s of CPU.
FIRST_BUDGET = {"ja": 5, "zh": 3}
FIRST_BUDGET_SPACED = 12
#: Languages whose first piece is the first clause, never fewer words (see the module's docstring).
WHOLE_FIRST_CLAUSE = frozenset({"zh"})
#: A piece longer than this (characters) is cut at the word end nearest its middle (about 4 s of speech).
LONG_PIECE = {"ja": 40, "zh": 30}
LONG_PIECE_SPACED = 100
#: Mandarin numerals (numbers in words), a number in words with its measure word (两个, 六年, 十五), and
#: what continues a number after a numeral: a long piece is not cut after the first or before the last.
_ZH_NUMERALS = "零〇幺一二两三四五六七八九十百千万亿点"
_ZH_NUMBER_WORD = re.compile(rf"[{_ZH_NUMERALS}]+(?:{MEASURE_WORDS})?")
_ZH_NUMBER_NEXT = re.compile(rf"[{_ZH_NUMERALS}]|{MEASURE_WORDS}")


def stream_pieces(text: str, language: str | None = None) -> Iterator[str]:
    """The pieces of ``text``: the first words of the first sentence (for ``language``), the rest of its
    first clause, then its other clauses and the following sentences.

    Mandarin numbers are written as they are said before the text is cut (a piece is read alone: 大约2026 |
    年 would be read 二千零二十六, not 二零二六年)."""
    if language == "zh":
        text = spoken_numbers(text)
    sentences = sentence_pieces(text, PIECE_LIMIT)
    first = next(sentences, None)
    if first is None:
        return
    cut = first_cut(first, language) if language else None
    rest = first
    if cut is not None:
        yield first[:cut].strip()
        rest = first[cut:].strip()
    numerals = _ZH_NUMERALS if language == "zh" else ""
    for clause in first_clause_pieces(rest, limit=PIECE_LIMIT, min_first=MIN_FIRST_CLAUSE, numerals=numerals):
        yield from _halved(clause, language)
    for sentence in sentences:
        yield from _halved(sentence, language)


def _halved(piece: str, language: str | None) -> Iterator[str]:
    """``piece``, cut at the word end nearest its middle while longer than ``LONG_PIECE`` (one model run's
    memory grows with its audio, and a shorter next piece is ready sooner after the one playing)."""
    cut = _middle_cut(piece, language) if language else None
    if cut is None:
        yield piece
        return
    yield from _halved(piece[:cut].strip(), language)
    yield from _halved(piece[cut:].strip(), language)


def _middle_cut(piece: str, language: str) -> int | None:
    if len(piece) <= LONG_PIECE.get(language, LONG_PIECE_SPACED):
        return None
    word_end_offsets = [end for end, _size in word_ends(piece, language)]
    ends = [
        end
        for start, end in zip([0, *word_end_offsets], word_end_offsets, strict=False)
        if speech_follows(piece[end:]) and not _inside_number(piece, start, end, language)
    ]
    return min(ends, key=lambda end: abs(2 * end - len(piece)), default=None)


def first_cut(sentence: str, language: str) -> int | None:
    """Where to cut the first sentence (a character offset at a word end), or None to keep it whole.

    The cut leaves the most words within the language's budget (at least one word), preferring a clause
    mark; None when the whole sentence nearly fits (``FirstPiece.whole_slack``) or no word end leaves speech
    after it.
    """
    if language in WHOLE_FIRST_CLAUSE:
        return None
    shape = FirstPiece(budget=FIRST_BUDGET.get(language, FIRST_BUDGET_SPACED))
    ends = [(end, size) for end, size in word_ends(sentence, language) if speech_follows(sentence[end:])]
    if not ends:
        return None
    return pieces.first_cut(
        sentence, ends, _size(sentence, language, ends), shape, spaced=language not in FIRST_BUDGET
    )


def _inside_number(text: str, start: int, end: int, language: str) -> bool:
    """True when a cut at the end of the word ``text[start:end]`` falls inside a number: its halves would be
    read as two numbers, or heard as a pause inside one. Japanese is cut between characters: not between
    two of a number's (8:30, 1,000, 03-1234-5678). Spaced languages cut at a space, so only a number in
    groups (1 000, 03 1234 5678: a digit on both sides of the space) is at risk. Mandarin numbers are in
    words by then (``spoken_numbers``): no cut after a number in words or its measure word (二零二 | 六年,
    十五 | 天, 两个 | 月), nor between a numeral and a numeral or measure word (第一 | 个), nor after the
    comma between a phone number's groups (零三， | 幺二三四); a word that merely holds a numeral
    (统一 | 的, 一样 | 的) is cut as any other."""
    if language == "zh":
        if _ZH_NUMBER_WORD.fullmatch(text[start:end]):
            return True
        if end >= 2 and text[end - 1] in "，," and text[end - 2] in _ZH_NUMERALS:
            return text[end : end + 1] != "" and text[end] in _ZH_NUMERALS  # a phone number: 零三，幺二三四
        return end > 0 and text[end - 1] in _ZH_NUMERALS and bool(_ZH_NUMBER_NEXT.match(text, end))
    if language in FIRST_BUDGET:
        return bool(
            re.match(r"[\d.,:\-]", text[end - 1 : end]) and re.match(r"[\d.,:\-]", text[end : end + 1])
        )
    return text[end - 1 : end].isdigit() and bool(re.match(r"\s+\d", text[end:]))


def _size(sentence: str, language: str, ends: list[tuple[int, int]]) -> int:
    """The whole sentence's size in the budget's unit."""
    if language == "ja":
        return ends[-1][1] + _morae_after(sentence, ends[-1][0])
    return len(sentence.strip())


def word_ends(text: str, language: str) -> list[tuple[int, int]]:
    """``(offset, size)`` where a word (Japanese: an accent phrase) of ``text`` ends; ``size`` is the text
    up to there in the language's budget unit (morae, characters)."""
    if language == "ja":
        return _accent_phrase_ends(text)
    if language == "zh":
        return [(end, end) for end in _jieba_ends(text)]
    return spaced_word_ends(text)


def _frontend(text: str) -> list[dict]:
    try:
        import pyopenjtalk
    except ImportError:
        return []
    return pyopenjtalk.run_frontend(text, use_sudachi_kanji_yomi=False)  # as the phonemizer: no Sudachi


def _accent_phrase_ends(text: str) -> list[tuple[int, int]]:
    ends, offset, morae = [], 0, 0
    for node in _frontend(text):
        if not text.startswith(node["string"], offset):
            break  # the front end normalised the text here (digits): later offsets would not match
        if node["chain_flag"] == 0 and offset:
            ends.append((offset, morae))
        offset += len(node["string"])
        morae += max(0, int(node["mora_size"]))
    return ends


def _morae_after(text: str, offset: int) -> int:
    return sum(max(0, int(node["mora_size"])) for node in _frontend(text[offset:]))


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
