"""Glossary hints around recognition: hotwords for Whisper's prompt and n-best rescoring.

**Hotwords.** ``hotword_text`` lists a counter's terms for Whisper's previous-context prompt.

**Rescoring.** ``correct_best`` picks among beam alternatives: each is corrected
(``edge.speech.terms.ReadingCorrector``), and gets a bounded bonus for each glossary term the corrected
text holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from edge.speech.repetition import find_repetition
from edge.speech.terms import Corrected, ReadingCorrector


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


#: Score bonus per glossary term a beam hypothesis holds once corrected (mean log-probability, nats).
RESCORING_BONUS = 0.1
#: Most terms that count towards the bonus.
RESCORING_MAX_TERMS = 2
#: A lower-ranked hypothesis earns the bonus only for terms written in it or corrected within this many edits.
RESCORING_MAX_DISTANCE = 1.0


def correct_best(
    hypotheses: Sequence[tuple[str, float]],
    corrector: ReadingCorrector,
    bonus: float = RESCORING_BONUS,
    max_terms: int = RESCORING_MAX_TERMS,
) -> tuple[int, Corrected]:
    """The beam hypothesis to keep (best first in ``hypotheses``) and its correction (its ``found``: the
    kept hypothesis's replaced spans, which ``TermVerifier.verify`` builds on).

    Each hypothesis is corrected and scored by its mean log-probability plus ``bonus`` per glossary term
    (at most ``max_terms`` count, so terms outweigh a small score gap but never a clear one). The
    recogniser's best counts every term of its corrected text; a lower-ranked one only terms written in it
    or corrected within ``RESCORING_MAX_DISTANCE`` edits, so a loose correction of an unlikely
    hypothesis (健康測身 → 健康相談) never wins. Hypotheses that cannot win are not corrected; a lower one
    that loops (``find_repetition``) is never kept, as a loop must never be spoken.
    """
    started = time.perf_counter()
    best, best_total, best_corrected = 0, -math.inf, Corrected("", (), 0.0)
    for index, (text, score) in enumerate(hypotheses):
        if index and (not math.isfinite(score) or score + bonus * max_terms <= best_total):
            continue
        if index and find_repetition(text) is not None:
            continue
        corrected = corrector.correct(text)
        found = set(corrector.find_ids(corrected.text))
        if index:
            sure = set(corrector.find_ids(text))
            sure |= {c.term_id for c in corrected.corrections if c.distance <= RESCORING_MAX_DISTANCE}
            found &= sure
        total = score + bonus * min(max_terms, len(found))
        if index == 0 or total > best_total:
            best, best_total, best_corrected = index, total, corrected
    return best, replace(best_corrected, elapsed_ms=(time.perf_counter() - started) * 1000)


def rescore(
    hypotheses: Sequence[tuple[str, float]],
    corrector: ReadingCorrector,
    bonus: float = RESCORING_BONUS,
    max_terms: int = RESCORING_MAX_TERMS,
) -> int:
    """Index of the beam hypothesis to keep (see ``correct_best``)."""
    return correct_best(hypotheses, corrector, bonus, max_terms)[0]
