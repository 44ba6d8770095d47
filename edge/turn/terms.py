"""The terms stage of a turn: the city's glossary applied to what the clerk said in Japanese.

- Reading correction (``edge.speech.terms.ReadingCorrector``): near-homophones of glossary terms in a
  Japanese transcript are replaced by the terms, listed in ``corrections`` (shown underlined; the
  counter's undo re-translates the original).
- N-best rescoring (``edge.speech.term_hints.correct_best``): when the recogniser returned its beam's
  alternatives (``asr_rescoring``), each is corrected and the one holding glossary terms is kept within a
  small score gap (``beam_rank``).
- Acoustic verification (``edge.speech.term_verify.TermVerifier``): replacements a loose reading threshold
  proposes are scored by Whisper's decoder on the same audio and kept when it agrees (``verified``
  corrections; ``term_candidates`` counts what was scored).
- Spoken phrase book (``edge.speech.phrase_match.PhraseMatcher``): a Japanese utterance that reads like a
  phrase-book sentence gets the phrase's verified translation instead of MT (``mt_engine ==
  "phrasebook"``, ``verified_phrase``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from edge.errors import EngineUnavailable
from edge.turn.result import TurnResult, log_engine_failure, ms_since
from glossary.languages import STAFF_LANGUAGE


def correct_terms(
    corrector: Any | None,
    result: TurnResult,
    verifier: Any | None = None,
    score: Callable[[Sequence[str]], Any] | None = None,
) -> None:
    """Put glossary terms into a Japanese transcript where the recogniser wrote near-homophones (choosing
    among the beam's alternatives first when the recogniser returned them; then, with a ``verifier`` and
    the turn's ``score`` (``Transcriber.score_texts`` on its audio), the loose replacements the audio
    confirms)."""
    from edge.speech.term_hints import correct_best

    if corrector is None or result.source_language != STAFF_LANGUAGE or not result.source_text:
        return
    transcript = result.transcript
    hypotheses = [(result.source_text, 0.0)]
    if transcript is not None and transcript.alternatives and transcript.text == result.source_text:
        hypotheses = [(transcript.text, transcript.avg_logprob), *transcript.alternatives]
    rank, corrected = correct_best(hypotheses, corrector)
    result.timings_ms["terms"] = round(corrected.elapsed_ms, 1)
    text, corrections = corrected.text, corrected.corrections
    verified = _verify(verifier, score, hypotheses[rank][0], corrected.found, result)
    if verified is not None and verified.accepted:
        text, corrections = verified.text, verified.corrections
    if rank:
        result.beam_rank = rank
    if corrections or rank:
        result.recognised_text = hypotheses[0][0]  # the recogniser's own best, even when another is kept
        result.source_text = text
        result.corrections = list(corrections)


def _verify(
    verifier: Any | None, score: Callable | None, text: str, strict: Sequence[Any], result: TurnResult
) -> Any | None:
    """The acoustic verification of ``text``'s loose replacements beside its ``strict`` ones (the spans
    the correction replaced); None without a verifier or when the scoring failed (an optional step: the
    turn keeps the reading-only correction, the failure is counted and logged by its type only)."""
    if verifier is None or score is None:
        return None
    try:
        verified = verifier.verify(text, strict, score)
    except EngineUnavailable as exc:
        result.term_verify_failures += 1
        log_engine_failure("term verification", exc)
        return None
    result.timings_ms["term_verify"] = round(verified.elapsed_ms, 1)
    result.term_candidates = verified.candidates
    return verified


def serve_phrase(matcher: Any | None, result: TurnResult) -> bool:
    """Japanese that reads like a phrase-book sentence: serve its verified translation (True: served)."""
    if matcher is None or result.source_language != STAFF_LANGUAGE:
        return False
    clock = time.perf_counter()
    hit = matcher.match(result.source_text)
    result.timings_ms["phrase_match"] = ms_since(clock)
    translation = matcher.translation(hit.phrase_id, result.target_language) if hit else ""
    if hit is None or not translation:
        return False
    result.target_text, result.mt_engine = translation, "phrasebook"
    result.verified_phrase = hit.to_dict()
    return True
