"""Glossary-aware recognition: term correction by reading, hotwords and n-best rescoring.

**Correction.** After recognition the hypothesis is read as morae (``edge.speech.reading``); every run of
words whose reading is close to a glossary term's reading (mora-level Levenshtein distance, rapidfuzz)
is replaced by the term's headword: 十民表 → 住民票, 自動手当 → 児童手当. Only terms of the counter's
enabled domains are candidates. The threshold grows with the term's length (``CorrectionOptions``):
short readings must match exactly, and readings shorter than ``min_morae`` are never corrected — a short
reading has too many homophones. A span that already contains the term (any indexed form) is left
alone. Overlapping candidates are resolved by matched morae minus three per edit (住民票の写し over
住民税 for 10民兵の映し). Each replacement is a ``Correction`` the counter shows underlined, with one
tap to undo.

**Hotwords.** ``hotword_text`` lists a counter's terms for Whisper's previous-context prompt.

**Rescoring.** ``rescore`` picks among beam alternatives: a hypothesis gets a bounded bonus for each
glossary term its reading contains.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.speech.reading import Word, morae, reading, words

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorrectionOptions:
    """How close a reading must be to be corrected.

    Attributes:
        min_morae: Shortest term reading that is ever corrected (morae).
        exact_below: Readings shorter than this must match exactly (morae).
        max_ratio: Allowed edits per mora of the term's reading above ``exact_below`` (ratio).
        max_words: Longest run of words tried as one span (words).
        max_readings: Most readings tried per span (OpenJTalk's and the on'yomi of short kanji words).
    """

    min_morae: int = 4
    exact_below: int = 6
    max_ratio: float = 0.25
    max_words: int = 6
    max_readings: int = 8

    def allowed(self, length: int) -> int:
        """Edits allowed for a reading of ``length`` morae (-1: never corrected)."""
        if length < self.min_morae:
            return -1
        if length < self.exact_below:
            return 0
        return max(1, int(length * self.max_ratio))


@dataclass(frozen=True)
class Correction:
    """One replacement in the corrected text: ``text[start:end] == replacement``."""

    term_id: str
    start: int
    end: int
    original: str
    replacement: str
    distance: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (offsets into the corrected text)."""
        return {
            "term_id": self.term_id,
            "start": self.start,
            "end": self.end,
            "original": self.original,
            "replacement": self.replacement,
            "distance": self.distance,
        }


@dataclass(frozen=True)
class Corrected:
    """The corrected text, its corrections and how long it took (milliseconds)."""

    text: str
    corrections: tuple[Correction, ...]
    elapsed_ms: float


def _encode(morae_seq: Sequence[str], alphabet: dict[str, str]) -> str:
    """One character per mora, so a string distance is a mora distance."""
    return "".join(alphabet.setdefault(m, chr(0xE000 + len(alphabet))) for m in morae_seq)


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
        self._alphabet: dict[str, str] = {}
        # One entry per distinct reading of a term: its dictionary reading, and OpenJTalk's reading of the
        # headword and of each variant (身分証明書 for 本人確認書類); all are replaced by the headword.
        self._terms: list[tuple[str, str, str, int]] = []  # (term id, headword, encoded reading, morae)
        for term in glossary.terms.values():
            if (wanted and term.domain not in wanted) or (reviewed_only and not term.reviewed):
                continue
            seen: set[tuple[str, ...]] = set()
            for spoken in (morae(term.reading), reading(term.ja), *map(reading, term.variants)):
                if spoken in seen or self.options.allowed(len(spoken)) < 0:
                    continue
                seen.add(spoken)
                self._terms.append((term.id, term.ja, _encode(spoken, self._alphabet), len(spoken)))
        self._matcher = TermMatcher(glossary, MatchOptions(reviewed_only=reviewed_only))
        self._readings = [t[2] for t in self._terms]
        self._lengths = np.array([t[3] for t in self._terms])
        self._allowed = np.array([self.options.allowed(t[3]) for t in self._terms])
        self.term_ids = frozenset(t[0] for t in self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def correct(self, text: str) -> Corrected:
        """``text`` with near-homophones of terms replaced (see the module docstring)."""
        started = time.perf_counter()
        if not text or not self._terms:
            return Corrected(text, (), 0.0)
        found = self._candidates(text, words(text))
        corrected, corrections = _apply(text, found)
        return Corrected(corrected, tuple(corrections), (time.perf_counter() - started) * 1000)

    def count_terms(self, text: str) -> int:
        """Glossary terms in ``text`` once corrected (as written or by reading)."""
        corrected = self.correct(text).text
        return len(self._matcher.find_ids(corrected))

    def _candidates(self, text: str, sentence: list[Word]) -> list[tuple[int, int, int, str, str, int, int]]:
        """Non-overlapping ``(start, end, distance, term id, headword, term morae, length gap)`` spans, by
        start; ties go to the span whose length is closest to the term's, then to the longer span."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        spans: list[tuple[int, int, str, int]] = []
        for i, first in enumerate(sentence):
            if not first.morae:
                continue
            readings: list[tuple[str, ...]] = [()]
            for j in range(i, min(len(sentence), i + self.options.max_words)):
                word = sentence[j]
                if not word.morae:
                    break
                choices = (word.morae, *word.alternatives)
                readings = [r + c for r in readings for c in choices][: self.options.max_readings]
                for seq in readings:
                    spans.append((first.start, word.end, _encode(seq, self._alphabet), len(seq)))
        if not spans:
            return []
        distances = cdist([s[2] for s in spans], self._readings, scorer=Levenshtein.distance, workers=1)
        lengths = np.array([s[3] for s in spans])[:, None]
        close = (distances <= self._allowed[None, :]) & (
            np.abs(lengths - self._lengths[None, :]) <= distances
        )
        hits = np.argwhere(close)
        if hits.size == 0:
            return []
        present = self._matcher.find(text)
        found: list[tuple[int, int, int, str, str, int, int]] = []
        for s_index, t_index in hits:
            start, end = spans[s_index][0], spans[s_index][1]
            term_id, headword, _code, term_len = self._terms[t_index]
            if text[start:end] == headword:
                continue
            if any(m.start < end and start < m.end for m in present):
                continue  # the span already holds a glossary term as written
            gap = abs(spans[s_index][3] - term_len)
            found.append((start, end, int(distances[s_index, t_index]), term_id, headword, term_len, gap))
        # A longer term explains more of what was heard: each mora counts, each edit costs three.
        found.sort(key=lambda f: (3 * f[2] - f[5], f[6], f[0] - f[1], f[0]))
        chosen: list[tuple[int, int, int, str, str, int, int]] = []
        for item in found:
            if all(item[1] <= c[0] or c[1] <= item[0] for c in chosen):
                chosen.append(item)
        return sorted(chosen)


def _apply(text: str, found: list[tuple[int, int, int, str, str, int, int]]) -> tuple[str, list[Correction]]:
    out: list[str] = []
    corrections: list[Correction] = []
    position = 0
    length = 0
    for start, end, distance, term_id, headword, _length, _gap in found:
        out.append(text[position:start])
        length += start - position
        corrections.append(
            Correction(term_id, length, length + len(headword), text[start:end], headword, distance)
        )
        out.append(headword)
        length += len(headword)
        position = end
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
    """

    correction: bool = True
    phrases: bool = True
    domains: tuple[str, ...] = ()
    phrase_threshold: float | None = None

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


def hotword_text(
    glossary: Any, domains: Iterable[str] = (), max_terms: int = 25, max_chars: int = 120
) -> str:
    """The counter's most used terms as one line for Whisper's context prompt.

    Use is estimated from the phrase book (how many phrases contain the term), then the glossary's order;
    ``max_terms`` and ``max_chars`` keep the prompt well inside Whisper's 223 context tokens.
    """
    from glossary.match import TermMatcher

    wanted = set(domains)
    matcher = TermMatcher(glossary)
    uses: dict[str, int] = {}
    for phrase in getattr(glossary, "phrases", {}).values():
        for term_id in matcher.find_ids(phrase.ja):
            uses[term_id] = uses.get(term_id, 0) + 1
    terms = [t for t in glossary.terms.values() if not wanted or t.domain in wanted]
    order = {t.id: i for i, t in enumerate(terms)}
    terms.sort(key=lambda t: (-uses.get(t.id, 0), order[t.id]))
    chosen: list[str] = []
    for term in terms:
        if len(chosen) >= max_terms or len("、".join([*chosen, term.ja])) > max_chars:
            break
        chosen.append(term.ja)
    return "、".join(chosen)


def rescore(
    hypotheses: Sequence[tuple[str, float]],
    corrector: ReadingCorrector,
    bonus: float = 0.1,
    max_terms: int = 2,
) -> int:
    """Index of the beam hypothesis to keep: its score plus ``bonus`` per glossary term its reading holds
    (at most ``max_terms`` count, so a term can outweigh a small score gap but never a clear one)."""
    best, best_score = 0, -float("inf")
    for index, (text, score) in enumerate(hypotheses):
        terms = corrector.count_terms(text)
        total = score + bonus * min(max_terms, terms)
        if total > best_score:
            best, best_score = index, total
    return best
