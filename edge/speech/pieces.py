"""Where a voice cuts its text for streaming: sentences, and a short first piece so the first audio is early.

Every voice speaks sentence by sentence (``sentence_pieces``): the resident hears the first sentence while
the next is synthesised. A voice's time to first audio is then the time to synthesise its first piece,
which grows with that piece's audio, so a voice may cut its first sentence short (``first_cut``): at the
first clause mark within its budget, else after the most words that fit, at a phrase boundary. How long
the first piece may be is the voice's ``FirstPiece``; where words end is the language's (spaced languages
here, Japanese and Mandarin in the Kokoro engine, whose front ends find them).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from edge.punctuation import CLAUSE_MARKS, FULL_WIDTH_STOPS, LATIN_STOPS

#: The longest text handed to a voice at once (characters). Piper synthesises a sentence in one
#: ONNX call whose memory grows with its length; an ASR repetition loop can yield one "sentence" of
#: 1,500 characters with no full stop, so longer text is cut at a clause boundary or a space.
MAX_PIECE_CHARS = 240

#: Where a long text may be cut, strongest first: a sentence end, a clause mark, a space.
_BREAKS = (
    re.compile(rf"[{LATIN_STOPS}{FULL_WIDTH_STOPS}]\s*"),
    re.compile(rf"[{CLAUSE_MARKS}]\s*"),
    re.compile(r"\s+"),
)

#: Sentence ends (a piece of speech is never longer than one sentence, so the first plays early).
_SENTENCE_END = re.compile(rf"(?<=[{FULL_WIDTH_STOPS}\n])\s*|(?<=[{LATIN_STOPS}])\s+")

#: After a clause mark, but not inside a number (8:30, 1,000 are not two clauses).
_CLAUSE_END = re.compile(rf"(?<=[{CLAUSE_MARKS}])(?!(?<=\d[,:，：])\d)\s*")

#: Text ending in a clause mark.
CLAUSE_MARK = re.compile(rf"[{CLAUSE_MARKS}]\s*$")

#: Quotes and brackets around a word ("until, (see): the word itself is what a look-up compares.
_AROUND_WORDS = "\"'“”‘’«»「」『』()（）[]"

#: Speech follows: a letter or digit, possibly after an opening quote or bracket ("until, 「申請書」).
_SPEECH_START = re.compile(r"[\"'“‘«「『(（\[]*\w")

#: Space-separated languages: a first piece does not end on a word this short (an article, a preposition:
#: "Faça a | solicitação" was heard as "Faça aí").
SHORT_WORD = 3
#: Function words that join what follows to what precedes (never the last word of a piece before a
#: determiner).
JOINING_WORDS = frozenset({"of", "and", "or"})
#: Words that open a phrase, strongest first: prepositions, conjunctions and relative words, then
#: determiners and "of". A first piece cut just before one ends where a speaker would pause ("You need to
#: apply | for the child allowance"); "and" and "or" are left out: they bind nouns ("income | and tax").
PHRASE_OPENERS: dict[str, tuple[frozenset[str], ...]] = {
    "en": (
        frozenset(
            {
                *("about", "after", "as", "at", "because", "before", "but", "by", "during", "for", "from"),
                *("if", "in", "into", "on", "since", "so", "than", "that", "to", "until", "when", "where"),
                *("whether", "which", "while", "who", "with", "within", "without"),
            }
        ),
        frozenset(
            {
                *("a", "all", "an", "any", "of", "both", "each", "every", "her", "his", "its", "my", "our"),
                *("some", "the", "their", "these", "this", "those", "your"),
            }
        ),
    ),
}


def _cut_point(text: str, limit: int) -> int:
    """The end of the strongest break within the first ``limit`` characters, else ``limit``."""
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(text, 0, limit)]
        if ends:
            return ends[-1]
    return limit


def bounded_pieces(text: str, limit: int = MAX_PIECE_CHARS) -> Iterator[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at the strongest break before it."""
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        yield rest[:cut].strip()
        rest = rest[cut:].strip()
    if rest:
        yield rest


def sentence_pieces(text: str, limit: int = MAX_PIECE_CHARS) -> Iterator[str]:
    """The sentences of ``text``, each cut at clause marks or spaces when longer than ``limit``."""
    for sentence in _SENTENCE_END.split(text):
        if sentence.strip():
            yield from bounded_pieces(sentence, limit)


def first_clause_pieces(
    text: str, limit: int = MAX_PIECE_CHARS, min_first: int = 6, numerals: str = ""
) -> Iterator[str]:
    """``sentence_pieces`` with the first sentence cut after its first clause (when that clause has at
    least ``min_first`` characters), so a slow voice's first audio comes early. A clause mark between two
    of ``numerals`` (numbers in words: 零三，幺二三四, a phone number's groups) is no clause end."""
    first = True
    for sentence in sentence_pieces(text, limit):
        if first:
            first = False
            end = next((e for e in _CLAUSE_END.finditer(sentence) if not _joins(sentence, e, numerals)), None)
            if end and end.start() >= min_first and sentence[end.end() :].strip():
                yield sentence[: end.start()]
                yield sentence[end.end() :]  # cut by offsets: the rest keeps its own spaces ("2, 3")
                continue
        yield sentence


def _joins(text: str, end: re.Match[str], numerals: str) -> bool:
    """Whether the clause mark before ``end`` stands between two of ``numerals`` (inside a number)."""
    before, after = text[end.start() - 2 : end.start() - 1], text[end.end() : end.end() + 1]
    return bool(before and after) and before in numerals and after in numerals


@dataclass(frozen=True)
class FirstPiece:
    """How long a voice's first piece may be, in the language's unit (morae, syllables, characters).

    Attributes:
        budget: The most a first piece holds (about what the voice synthesises in its first-audio target).
        whole_slack: A sentence up to ``budget * whole_slack`` stays whole (cutting would save little and
            sound choppy).
        reach: A first clause, or a first phrase before an opener word, up to ``budget * reach`` is the
            first piece (where a speaker would pause is the most natural cut).
        min_rest: A clause or phrase cut leaves at least this much of the sentence after it (a short tail
            alone is misheard: "the admission result | by mail" was heard as "I mail").
        blind: With no clause or phrase boundary, cut after the most words within the budget (else keep
            the sentence whole).
    """

    budget: float
    whole_slack: float = 1.5
    reach: float = 1.0
    min_rest: float = 0
    blind: bool = True


def speech_follows(rest: str) -> bool:
    """Whether ``rest`` starts with something spoken (not a closing mark): a letter or a digit, possibly
    after an opening quote or bracket."""
    return bool(_SPEECH_START.match(rest.strip()))


def spaced_word_ends(text: str) -> list[tuple[int, int]]:
    """``(offset, size)`` where a word of a space-separated ``text`` ends; ``size`` counts characters."""
    return [(match.start(), match.start()) for match in re.finditer(r"\s+", text)]


def first_cut(
    sentence: str,
    ends: Sequence[tuple[int, int]],
    whole: float,
    shape: FirstPiece,
    *,
    spaced: bool = True,
    openers: Sequence[Collection[str]] = (),
) -> int | None:
    """Where to cut the first sentence (a character offset at a word end), or None to keep it whole.

    ``ends`` are the sentence's word ends with the size up to each (``spaced_word_ends`` or a language's
    own), ``whole`` the sentence's size. The cut is the first clause within ``reach`` budgets; else the
    end of the phrase before an ``openers`` word nearest the budget within ``reach`` (strongest set
    first; a weaker one only in a sentence longer than ``reach`` budgets and not after a function word);
    else, when ``shape.blind``, the most words within the budget (at least one word). ``spaced``: words
    are separated by spaces (a piece then never ends on a short word). None when the sentence nearly fits
    (``whole_slack``), no word end leaves speech after it, or no cut is found.
    """
    ends = [(end, size) for end, size in ends if speech_follows(sentence[end:])]
    if not ends or whole <= shape.budget * shape.whole_slack:
        return None
    budget, reach = shape.budget, min(shape.budget * shape.reach, whole - shape.min_rest)
    clauses = [end for end, size in ends if size <= reach and CLAUSE_MARK.search(sentence[:end])]
    if clauses:
        return clauses[-1]
    for strength, words in enumerate(openers):
        if strength and whole <= shape.budget * shape.reach:
            break  # a weaker boundary only for a sentence that would not fit otherwise
        phrases = [
            (end, size)
            for end, size in ends
            if size <= reach
            and _opens_a_phrase(sentence[end:], words)
            and (strength == 0 or not _after_a_joining_word(sentence[:end], openers))
        ]
        if phrases:
            within = [end for end, size in phrases if size <= budget]
            return within[-1] if within else phrases[0][0]
    fitting = [end for end, size in ends if size <= budget and (not spaced or _ends_a_phrase(sentence[:end]))]
    return (fitting or [ends[0][0]])[-1] if shape.blind else None


def _ends_a_phrase(head: str) -> bool:
    return bool(CLAUSE_MARK.search(head)) or len(_bare(head.split()[-1])) > SHORT_WORD


def _bare(word: str) -> str:
    """``word`` without the quotes and brackets around it, in lower case (what the word look-ups compare)."""
    return word.strip(_AROUND_WORDS).lower()


def _after_a_joining_word(head: str, openers: Sequence[Collection[str]]) -> bool:
    """Whether ``head`` ends on a function word ("a copy of | the certificate" is not a phrase end)."""
    last = _bare(head.split()[-1])
    return last in JOINING_WORDS or any(last in words for words in openers)


def _opens_a_phrase(rest: str, openers: Collection[str]) -> bool:
    words = rest.split(maxsplit=1)
    return bool(words) and _bare(words[0]) in openers
