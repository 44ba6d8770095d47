"""Acoustic verification of term candidates: glossary-constrained rescoring with Whisper's own decoder.

Reading correction (``edge.speech.terms``) has to stay strict: a looser threshold reaches far-off
mishearings of terms (サイルカード → 在留カード) but also turns look-alike words into terms. Verification
loosens it where the audio agrees. A loose reading corrector (``VerifyOptions.loose``) proposes the
replacements the strict one did not make in the transcript the strict levers kept (the strict spans come
from that correction, ``Corrected.found``: they are not looked for again); each becomes one
candidate transcript (that transcript plus one replacement, closest readings first, at most
``max_candidates``), and Whisper's decoder scores every candidate and the kept transcript against the
same audio (``Transcriber.score_texts``: one batched forced decode on the utterance's encoder output,
``edge.speech.forced``). A replacement is kept when its candidate's summed log-probability is at most
``margin`` nats below the kept transcript's; passing replacements that do not overlap are all kept,
marked ``verified`` (shown like every correction, with one tap to undo). When the recogniser no longer
holds the utterance's encoder output nothing changes. The margin was chosen on the tune half of the
term-speech set (``bench terms --split tune``) and is reported on the held-out half.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from edge.speech.forced import TextScore
from edge.speech.terms import Correction, CorrectionOptions, Found, ReadingCorrector, TermLevers, apply

#: Scores texts as transcripts of the turn's audio (``Transcriber.score_texts`` bound to it); None: cannot.
Scorer = Callable[[Sequence[str]], "list[TextScore] | None"]

#: The loose reading threshold that proposes candidates: half the morae of terms from 5 morae on, 4-mora
#: terms as strictly as correction does (3-mora terms proposed far more look-alikes than terms on the tune
#: half; a whole edit on a 4-mora term turned held-out look-alikes into terms: 保健室 → 保健師, 就職 → 給食).
#: The audio judges a proposal, so a dictionary compound (電話番号) may be proposed as a term (暗証番号).
LOOSE = CorrectionOptions(
    min_morae=4, exact_below=5, short_allowed=0.5, max_ratio=0.5, widen_allowed=1.5, compound_allowed=math.inf
)


@dataclass(frozen=True)
class VerifyOptions:
    """How candidates are proposed and accepted.

    Attributes:
        margin: Most a candidate's summed token log-probability may fall below the kept transcript's
            (nats; chosen on the tune half of ``bench terms``).
        max_candidates: Most candidates scored per utterance (count; closest readings first).
        loose: The reading threshold that proposes them.
    """

    margin: float = 7.0
    max_candidates: int = 3
    loose: CorrectionOptions = field(default=LOOSE)


@dataclass(frozen=True)
class Verified:
    """The outcome for one utterance.

    Attributes:
        text: The transcript with the accepted replacements (the input when none passed).
        corrections: Every correction of ``text`` (the strict ones, and the ``verified`` ones).
        candidates: Candidates scored (0: nothing to verify, the decoder did not run).
        accepted: Replacements kept.
        elapsed_ms: Time spent, proposing and scoring (milliseconds).
    """

    text: str
    corrections: tuple[Correction, ...]
    candidates: int
    accepted: int
    elapsed_ms: float


class TermVerifier:
    """Proposes loose term replacements and keeps those the audio confirms (built once per glossary)."""

    def __init__(
        self,
        glossary: Any,
        domains: Iterable[str] | None = None,
        options: VerifyOptions | None = None,
        *,
        reviewed_only: bool = False,
    ) -> None:
        """Index the terms of ``domains`` for the loose threshold."""
        self.options = options or VerifyOptions()
        domains = tuple(domains or ())
        self.loose = ReadingCorrector(glossary, domains, self.options.loose, reviewed_only=reviewed_only)

    def proposals(self, hypothesis: str, strict: Sequence[Found]) -> list[Found]:
        """The loose replacements of ``hypothesis`` that add to its ``strict`` ones (best first)."""
        taken = {(f.start, f.end, f.term_id) for f in strict}
        extra = [
            f
            for f in self.loose.find(hypothesis)
            if (f.start, f.end, f.term_id) not in taken
            and all(f.end <= s.start or s.end <= f.start for s in strict)
        ]
        extra.sort(key=lambda f: (f.distance / f.term_morae, f.start))
        return extra[: self.options.max_candidates]

    def verify(self, hypothesis: str, strict: Sequence[Found], score: Scorer) -> Verified:
        """``hypothesis`` (the recogniser's text the strict levers kept) with its ``strict`` replacements
        (``Corrected.found`` of its correction), plus the loose ones the audio confirms (see the module
        docstring)."""
        started = time.perf_counter()
        kept = sorted(strict)
        extra = self.proposals(hypothesis, kept)
        texts = [apply(hypothesis, sorted([*kept, f]))[0] for f in extra]
        scores = score([apply(hypothesis, kept)[0], *texts]) if extra else None
        chosen = self._accepted(extra, scores) if scores else []
        found = sorted([*kept, *chosen])
        text, corrections = apply(hypothesis, found)
        marked = tuple(replace(c, verified=f in chosen) for f, c in zip(found, corrections, strict=True))
        elapsed = (time.perf_counter() - started) * 1000
        return Verified(text, marked, len(extra) if scores else 0, len(chosen), elapsed)

    def _accepted(self, extra: list[Found], scores: list[TextScore]) -> list[Found]:
        """The replacements whose candidate scored within the margin, best first, without overlaps."""
        floor = scores[0].log_prob - self.options.margin
        passing = [(s.log_prob, f) for s, f in zip(scores[1:], extra, strict=True) if s.log_prob >= floor]
        chosen: list[Found] = []
        for _score, found in sorted(passing, key=lambda item: -item[0]):
            if all(found.end <= c.start or c.end <= found.start for c in chosen):
                chosen.append(found)
        return chosen


def build_verifier(
    levers: TermLevers, glossary: Any | None, corrector: ReadingCorrector | None
) -> TermVerifier | None:
    """The verifier ``levers`` ask for with ``glossary`` (None: off, no glossary, or no ``corrector``: it
    verifies what the corrector's strict replacements leave)."""
    if not levers.verification or glossary is None or corrector is None:
        return None
    verifier = TermVerifier(glossary, levers.domains)
    verifier.loose.find("住民票の写し")  # the distance code's first call happens now, not in a turn
    return verifier
