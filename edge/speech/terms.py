"""Glossary-aware recognition: term correction by reading.

After recognition the hypothesis is read as morae (``edge.speech.reading``); every run of words whose
reading is close to a glossary term's reading is replaced by the term's headword: 十民表 → 住民票, 自動手当
→ 児童手当. Only terms of the counter's enabled domains are candidates. Closeness is a mora-level
Levenshtein distance (rapidfuzz) in which a difference of voicing or length only counts half (燃える込み →
燃えるごみ, 避難場 → 避難所); from five morae on so does a consonant heard wrong with its vowel kept
(モイク量 → 保育料, ランボール → 段ボール), but only in a span holding a word the dictionary does not know
and not cutting a run of kanji (``edge.speech.reading_distance``): words it knows, a suffix kanji too, are a
real compound the recogniser wrote (保険料 is no 保険証, 教育費 no 養育費). A span holding or cutting into a
kanji compound the dictionary knows and the term lacks (Sudachi: 市民税) allows only a voicing or length
difference (市民税 is no 住民税). The allowance grows with the term's length (``CorrectionOptions``):
readings under ``min_morae`` are never corrected (too many homophones), short ones allow one voicing or
length difference and never a missing mora (体の is not 滞納), longer ones a quarter edit per mora. A span
never cuts into a term written right nor swaps one for another over its own span; it may widen one into a
longer term that contains it, heard almost exactly (住民税の深刻 → 住民税申告). A span is refused when a
particle or auxiliary at its edge is not the term's own morae there (で学校 is no 中学校), when it ends in
する after a verbal noun (入学し is no 入学式) or starts with the の joining two nouns (の期限 is no
納期限), when it reads as the start or end of a term two or more morae short (学校 of 中学校: a shorter word
was said), and when it needs the on'yomi of a word OpenJTalk knows with another reading and is then more
than a voicing or length difference away (大風 as タイフウ is 台風; 大粒 as ダイリュウ is no 在留).
Overlapping candidates are resolved by matched morae minus three per edit (住民票の写し over 住民税 for
10民兵の映し). Each replacement is a ``Correction`` the counter shows underlined, with one tap to undo. The
thresholds were chosen on one half of the term-speech set (``bench terms --split tune``) and are reported on
the other. Hotwords and n-best rescoring build on this in ``edge.speech.term_hints``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from edge.speech.reading import Word, morae, reading, words
from edge.speech.reading_distance import ReadingDistance

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorrectionOptions:
    """How close a reading must be to be corrected.

    Distances are mora edits where a difference of voicing or length only (ゴ/コ, ショウ/ショ, ッ) counts
    half: the mean of the edit distance of the readings and of their ``fold``-ed forms.

    Attributes:
        min_morae: Shortest term reading that is ever corrected (morae).
        exact_below: Readings shorter than this allow only ``short_allowed`` edits (morae).
        short_allowed: Edits allowed below ``exact_below`` (0.5: one voicing or length difference).
        max_ratio: Allowed edits per mora of the term's reading from ``exact_below`` on (ratio, at least 1).
        max_words: Longest run of words tried as one span (words).
        max_readings: Most readings tried per span (OpenJTalk's and the on'yomi of short kanji words).
        widen_allowed: Edits allowed when a span widens a term written right into a longer term.
        vowels_from: Readings of at least this many morae count a consonant-only difference half
            (``edge.speech.reading_distance``).
        guess_allowed: Edits allowed when the span is read with the on'yomi of a word OpenJTalk knows
            with another reading (大風 as タイフウ is 台風; 大粒 as ダイリュウ is no ザイリュウ).
        compound_allowed: Edits allowed (consonants in full) when the span holds or cuts into a kanji
            compound the dictionary knows that the term does not (``dictionary_compounds``: 市民税 is
            no 住民税, 市民税の通知書 no 市民納税通知書).
    """

    min_morae: int = 4
    exact_below: int = 6
    short_allowed: float = 0.5
    max_ratio: float = 0.25
    max_words: int = 8
    max_readings: int = 8
    widen_allowed: float = 1.0
    guess_allowed: float = 0.5
    vowels_from: int = 5
    compound_allowed: float = 0.5

    def allowed(self, length: int) -> float:
        """Edits allowed for a reading of ``length`` morae (-1: never corrected)."""
        if length < self.min_morae:
            return -1
        if length < self.exact_below:
            return self.short_allowed
        return max(1.0, length * self.max_ratio)


class _Span(NamedTuple):
    """A run of words and one reading of it (``head``/``tail``: the reading of its first/last word when
    that is a particle or an auxiliary, else empty)."""

    start: int
    end: int
    reading: tuple[str, ...]
    head: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    guessed: int = 0
    """The reading takes the on'yomi of a word OpenJTalk knows with another reading: 1 of a lone kanji (前
    as ゼン), 2 of a longer word (大風 as タイフウ)."""
    words: bool = False
    """Every content word of the span is a word the dictionary knows (``Word.known``): 年金制度, 保険料."""


class Found(NamedTuple):
    """A span of a text close enough to a term (offsets into that text; ``gap``: |span − term| morae)."""

    start: int
    end: int
    distance: float
    term_id: str
    headword: str
    term_morae: int
    gap: int


@dataclass(frozen=True)
class Correction:
    """One replacement in the corrected text: ``text[start:end] == replacement`` (``verified``: found by
    the loose reading threshold and kept because the audio confirmed it, ``edge.speech.term_verify``)."""

    term_id: str
    start: int
    end: int
    original: str
    replacement: str
    distance: float
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (offsets into the corrected text)."""
        return {
            "term_id": self.term_id,
            "start": self.start,
            "end": self.end,
            "original": self.original,
            "replacement": self.replacement,
            "distance": self.distance,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Corrected:
    """The corrected text, its corrections and how long it took (milliseconds); ``found``: the spans of
    the uncorrected text that were replaced (``ReadingCorrector.find``), for a later step to build on."""

    text: str
    corrections: tuple[Correction, ...]
    elapsed_ms: float
    found: tuple[Found, ...] = ()


class ReadingCorrector:
    """Replaces near-homophones of glossary terms by the terms (built once per glossary)."""

    def __init__(
        self,
        glossary: Any,
        domains: Iterable[str] | None = None,
        options: CorrectionOptions | None = None,
        *,
        reviewed_only: bool = False,
    ) -> None:
        """Index the readings of the terms of ``domains`` (None or empty: every domain)."""
        from glossary.match import MatchOptions, TermMatcher

        self.options = options or CorrectionOptions()
        wanted = set(domains or ())
        # One entry per distinct reading of a term: its dictionary reading, and OpenJTalk's reading of the
        # headword and of each variant (身分証明書 for 本人確認書類); all are replaced by the headword.
        self._terms: list[tuple[str, str, int]] = []  # (term id, headword, morae)
        spoken_forms: list[tuple[str, ...]] = []
        for term in glossary.terms.values():
            if (wanted and term.domain not in wanted) or (reviewed_only and not term.reviewed):
                continue
            seen: set[tuple[str, ...]] = set()
            for spoken in (morae(term.reading), reading(term.ja), *map(reading, term.variants)):
                if spoken in seen or self.options.allowed(len(spoken)) < 0:
                    continue
                seen.add(spoken)
                self._terms.append((term.id, term.ja, len(spoken)))
                spoken_forms.append(spoken)
        self._matcher = TermMatcher(glossary, MatchOptions(reviewed_only=reviewed_only))
        self._distance = ReadingDistance(spoken_forms, self.options.vowels_from)
        self._readings = self._distance.plain
        self._folded = self._distance.folded
        self._lengths = np.array([t[2] for t in self._terms])
        self._allowed = np.array([self.options.allowed(t[2]) for t in self._terms])
        self._spoken = {t.id: self._encode(morae(t.reading)) for t in glossary.terms.values()}
        self.term_ids = frozenset(t[0] for t in self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def _encode(self, morae_seq: Sequence[str]) -> str:
        return self._distance.encode(morae_seq)

    def correct(self, text: str) -> Corrected:
        """``text`` with near-homophones of terms replaced (see the module docstring)."""
        started = time.perf_counter()
        if not text or not self._terms:
            return Corrected(text, (), 0.0)
        found = self.find(text)
        corrected, corrections = apply(text, found)
        elapsed = (time.perf_counter() - started) * 1000
        return Corrected(corrected, tuple(corrections), elapsed, tuple(found))

    def find(self, text: str) -> list[Found]:
        """The non-overlapping spans of ``text`` that ``correct`` replaces, by start."""
        if not text or not self._terms:
            return []
        return self._candidates(text, self._spans(words(text)))

    def nearest(self, text: str, term_id: str) -> tuple[Found, tuple[str, ...]] | None:
        """The span of ``text`` whose reading is closest to ``term_id``'s, thresholds ignored, and that
        reading (None: the term is not a candidate or ``text`` has no reading); for diagnostics."""
        forms = [i for i, term in enumerate(self._terms) if term[0] == term_id]
        spans = self._spans(words(text)) if forms else []
        distances = self._distance.matrix([s.reading for s in spans])[0] if spans else None
        best: tuple[float, int, Found, tuple[str, ...]] | None = None
        for s_index, span in enumerate(spans):
            for i in forms:
                distance = float(distances[s_index, i])
                _id, headword, length = self._terms[i]
                gap = abs(len(span.reading) - length)
                found = Found(span.start, span.end, distance, term_id, headword, length, gap)
                if best is None or (distance, gap) < best[:2]:
                    best = (distance, gap, found, span.reading)
        return None if best is None else (best[2], best[3])

    def count_terms(self, text: str) -> int:
        """Glossary terms in ``text`` once corrected (as written or by reading)."""
        return len(self.find_ids(self.correct(text).text))

    def find_ids(self, text: str) -> list[str]:
        """Ids of the glossary terms written in ``text`` (no correction)."""
        return self._matcher.find_ids(text)

    def _spans(self, sentence: list[Word]) -> list[_Span]:
        """Every run of up to ``max_words`` words with each of its readings (a space inside a run is
        skipped: recognisers put them between the words of one term, センセーション アイディー)."""
        spans: list[_Span] = []
        for i, first in enumerate(sentence):
            if not first.morae or (first.function_word and first.group == "連体化"):
                continue  # the の joining two nouns (申請の期限) is never a term's first mora
            head = first.morae if first.function_word else ()
            readings: list[tuple[tuple[str, ...], int]] = [((), 0)]
            known = True
            for j in range(i, min(len(sentence), i + self.options.max_words)):
                word = sentence[j]
                if not word.morae and word.surface.isspace():
                    continue
                if not word.morae:
                    break
                known &= word.known or word.function_word
                # 0: the dictionary's reading, 1: the on'yomi of a lone kanji it knows (前 as ゼン), 2: the
                # on'yomi of a longer word it knows (大風 as タイフウ); both are guesses
                guess = 2 if word.known and len(word.surface) > 1 else int(word.known)
                choices = [(word.morae, 0), *((a, guess) for a in word.alternatives)]
                readings = [(r + c, max(g, h)) for r, g in readings for c, h in choices]
                readings = readings[: self.options.max_readings]
                if j > i and word.lemma == "する" and sentence[j - 1].group == "サ変接続":
                    continue  # する after a verbal noun (入学し, 連絡します) is grammar, never a term's end
                tail = word.morae if word.function_word else ()
                spans.extend(_Span(first.start, word.end, seq, head, tail, g, known) for seq, g in readings)
        return spans

    def _candidates(self, text: str, spans: list[_Span]) -> list[Found]:
        """Non-overlapping spans close to a term, by start (see ``_choose``)."""
        if not spans:
            return []
        strict, distances, plain, folded_spans = self._distance.matrix([s.reading for s in spans])
        lengths = np.array([len(s.reading) for s in spans])[:, None]
        # A short term never matches a span that lacks some of its morae (体の is not 滞納).
        truncated = (lengths < self._lengths[None, :]) & (self._lengths < self.options.exact_below)[None, :]
        close = (distances <= self._allowed[None, :]) & (np.abs(lengths - self._lengths[None, :]) <= plain)
        close &= ~truncated
        hits = np.argwhere(close)
        if hits.size == 0:
            return []
        present = self._matcher.find(text)
        compounds = dictionary_compounds(text) if math.isfinite(self.options.compound_allowed) else []
        found: list[Found] = []
        for s_index, t_index in hits:
            span = spans[s_index]
            term_id, headword, term_len = self._terms[t_index]
            if text[span.start : span.end] == headword:
                continue
            distance = float(distances[s_index, t_index])
            if distance < strict[s_index, t_index] and (
                span.guessed or span.words or _inside_kanji(text, span)
            ):
                # a consonant-only difference counts half only in a span of its own holding a word the
                # dictionary does not know: a recogniser that wrote real words heard them
                distance = float(strict[s_index, t_index])
                if distance > self._allowed[t_index]:
                    continue
            if strict[s_index, t_index] > self.options.compound_allowed and any(
                start < span.end and span.start < end and text[start:end] not in headword
                for start, end in compounds
            ):
                continue  # the recogniser wrote a real compound: only a voicing or length slip is fixed
            if span.guessed > 1 and distance > self.options.guess_allowed:
                continue  # a known word read by its on'yomi must then sound (almost) like the term
            missing = term_len - len(span.reading)
            if _part_of(folded_spans[s_index], self._folded[t_index], missing):
                continue  # the recogniser wrote the start or the end of the term: a shorter word was said
            if not self._edges_fit(span, self._readings[t_index]):
                continue
            if not self._may_replace(span, self._terms[t_index], self._readings[t_index], distance, present):
                continue
            gap = abs(len(span.reading) - term_len)
            found.append(Found(span.start, span.end, distance, term_id, headword, term_len, gap))
        return _choose(found)

    def _edges_fit(self, span: _Span, spoken: str) -> bool:
        """A particle or auxiliary at either end of the span must be the term's own morae there: a
        recogniser's で学校 is no 中学校, 連絡を no 連絡帳 (届けで still reads 届出)."""
        return (not span.head or spoken.startswith(self._encode(span.head))) and (
            not span.tail or spoken.endswith(self._encode(span.tail))
        )

    def _may_replace(
        self, span: _Span, term: tuple[str, str, int], spoken: str, distance: float, present: Sequence[Any]
    ) -> bool:
        """A span may not cut into a term written right; it may widen one into a longer term that contains
        it as written or by reading, heard almost exactly (住民税の深刻 → 住民税申告, 国民健康保険像 →
        国民健康保険料, だったい一時金 → 脱退一時金)."""
        term_id, headword, _length = term
        for match in present:
            if match.start < span.end and span.start < match.end:
                inside = span.start <= match.start and match.end <= span.end
                inside &= (span.start, span.end) != (match.start, match.end)  # never swap a right term
                wider = match.term_id != term_id and (
                    match.surface in headword or _contains(spoken, self._spoken[match.term_id])
                )
                if not (inside and wider and distance <= self.options.widen_allowed):
                    return False
        return True


#: Fewest characters of a kanji compound ``dictionary_compounds`` reports.
COMPOUND_CHARS = 3


def dictionary_compounds(text: str) -> list[tuple[int, int]]:
    """Offsets of the kanji compounds of at least ``COMPOUND_CHARS`` characters in ``text`` that Sudachi's
    dictionary knows as one common noun (保険料, 市民税, 一時期; OpenJTalk splits many of them, 保険 料),
    so the recogniser wrote a real word; none without Sudachi."""
    from edge.easy_ja.analyzer import shared_analyzer
    from edge.errors import EngineUnavailable
    from glossary.match import is_kanji

    try:
        morphemes = shared_analyzer().tokenize(text)
    except EngineUnavailable:
        return []
    return [
        (m.start, m.end)
        for m in morphemes
        if m.pos[:2] == ("名詞", "普通名詞")
        and len(m.surface) >= COMPOUND_CHARS
        and all(map(is_kanji, m.surface))
    ]


def _inside_kanji(text: str, span: _Span) -> bool:
    """The span begins or ends inside a run of kanji: it would leave a piece of the recogniser's compound
    (自動範売機 → 児童館売機, 大学校 → 大中学校)."""
    from glossary.match import is_kanji

    start, end = span.start, span.end
    return (start > 0 and is_kanji(text[start - 1]) and is_kanji(text[start])) or (
        end < len(text) and is_kanji(text[end - 1]) and is_kanji(text[end])
    )


def _part_of(part: str, whole: str, missing: int) -> bool:
    """``part`` is the start or the end of ``whole`` and lacks at least two of its morae (``missing``):
    学校 of 中学校, 健康保険 of 健康保険証 (一時期 of 一時金 lacks one: a mishearing)."""
    return missing >= 2 and len(part) < len(whole) and (whole.startswith(part) or whole.endswith(part))


def _contains(longer: str, shorter: str) -> bool:
    return shorter in longer and shorter != longer


def _choose(found: list[Found]) -> list[Found]:
    """Resolve overlaps: a longer term explains more of what was heard (each mora counts, each edit costs
    three); then the span closest to the term's length, then the longer span."""
    found.sort(key=lambda f: (3 * f.distance - f.term_morae, f.gap, f.start - f.end, f.start))
    chosen: list[Found] = []
    for item in found:
        if all(item.end <= c.start or c.end <= item.start for c in chosen):
            chosen.append(item)
    return sorted(chosen)


def apply(text: str, found: Sequence[Found]) -> tuple[str, list[Correction]]:
    """``text`` with the non-overlapping spans ``found`` (by start) replaced by their terms."""
    out: list[str] = []
    corrections: list[Correction] = []
    position = 0
    length = 0
    for item in found:
        out.append(text[position : item.start])
        length += item.start - position
        original = text[item.start : item.end]
        corrections.append(
            Correction(
                item.term_id, length, length + len(item.headword), original, item.headword, item.distance
            )
        )
        out.append(item.headword)
        length += len(item.headword)
        position = item.end
    out.append(text[position:])
    return "".join(out), corrections


def undo(text: str, correction: Correction) -> str:
    """``text`` with one correction taken back (the recogniser's words restored)."""
    if text[correction.start : correction.end] != correction.replacement:
        raise ValueError("the text no longer holds this correction")
    return text[: correction.start] + correction.original + text[correction.end :]


@dataclass(frozen=True)
class TermLevers:
    """Which glossary-aware levers a counter uses (from ``EdgeSettings``), rebuilt per glossary.

    Attributes:
        correction: Correct near-homophones of terms in Japanese transcripts.
        phrases: Serve verified phrase-book translations for utterances that read like a phrase.
        domains: Glossary domains of this counter (empty: all).
        phrase_threshold: Mora similarity at which an utterance is a phrase (0..1; None = default).
        hotwords: Give Whisper the glossary's most used terms as context (``hotword_text``).
        rescoring: Ask Whisper for its beam's alternatives for n-best rescoring (with a corrector only).
        verification: Propose term replacements by a loose reading threshold and keep those the audio
            confirms (``edge.speech.term_verify``; with a corrector only).
    """

    correction: bool = True
    phrases: bool = True
    domains: tuple[str, ...] = ()
    phrase_threshold: float | None = None
    hotwords: bool = False
    rescoring: bool = True
    verification: bool = False

    def build(self, glossary: Any | None) -> tuple[ReadingCorrector | None, Any | None]:
        """The corrector and the phrase matcher for ``glossary`` (None where off or unavailable)."""
        if glossary is None:
            return None, None
        try:
            corrector = ReadingCorrector(glossary, self.domains) if self.correction else None
            matcher = None
            if self.phrases:
                from edge.speech.phrase_match import DEFAULT_THRESHOLD, PhraseMatcher

                matcher = PhraseMatcher(glossary, self.phrase_threshold or DEFAULT_THRESHOLD)
            if corrector is not None:
                corrector.correct("住民票の写し")  # load the dictionary and the distance code now
        except ImportError as exc:  # pyopenjtalk-plus or rapidfuzz missing: recognition still works
            _LOGGER.warning("term correction and spoken phrases unavailable: %s", exc)
            return None, None
        return corrector, matcher
