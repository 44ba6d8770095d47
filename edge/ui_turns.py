"""The turns of a counter connection: spoken, typed, edited, phrase-book and confirmed speech.

``SessionTurns`` is the half of ``edge.ui_session.Session`` that runs turns through the shared pipeline
and maps pipeline events (from a worker thread) to protocol events. Speech streams: each sentence is sent
as soon as it is synthesised and ``speech_end`` follows the last. In "confirm before speaking" mode a
translation is shown with ``awaiting_confirm`` and spoken only on the speaker's ``speak`` message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.conversation import Conversation, Turn
from edge.errors import EdgeError, LanguageError
from edge.events import Notice, SpeechAudio, TranscriptEvent, TranslationReady, TurnError
from edge.ui_protocol import error, notice, ruby_html, speech_audio, speech_end
from glossary.languages import ENGLISH_NAMES, STAFF_LANGUAGE

if TYPE_CHECKING:
    from edge.ui_service import CounterOptions, CounterService

_LOGGER = logging.getLogger(__name__)


@dataclass
class _PhraseUsage:
    """The countable facts of a phrase turn (shaped like a ``TurnResult`` for ``TurnUsage.from_turn``)."""

    source_language: str
    target_language: str
    terms_applied: list[str] = field(default_factory=list)
    terms_fallback: list[str] = field(default_factory=list)
    flagged: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)


def _language_name(code: str) -> str:
    return ENGLISH_NAMES.get(code, code)


class SessionTurns:
    """Turn running for a ``Session`` (which provides the attributes declared here)."""

    service: CounterService
    options: CounterOptions
    conversation: Conversation
    busy: bool
    closed: bool
    held: set[str]
    _segmenter: Any

    def send(self, message: dict[str, Any]) -> None:  # provided by Session
        raise NotImplementedError

    def send_threadsafe(self, message: dict[str, Any]) -> None:  # provided by Session
        raise NotImplementedError

    def send_state(self) -> None:  # provided by Session
        raise NotImplementedError

    # -- confirmation -----------------------------------------------------------------------------

    def _hold_speech(self, target: str) -> bool:
        """True when this turn's speech waits for "OK, speak" (the mode is on and a voice exists)."""
        return self.options.confirm_before_speaking and self.service.voice_for(target) is not None

    async def _confirmed_speech(self, turn: Turn) -> None:
        pipe = self.service.pipeline
        try:
            emit = self._emitter(turn.turn_id, turn.speaker, turn.kind)
            try:
                await self.service.run_locked(pipe.speak_text, turn.target_text, turn.target_language, emit)
            except EdgeError as exc:
                self.send(error(str(exc), exc.code, turn.turn_id))
        finally:
            self.busy = False
            self.send_state()

    # -- turns ------------------------------------------------------------------------------------

    async def _audio_turn(self, speaker: str, audio: np.ndarray) -> None:
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        try:
            source, target = self.conversation.pair(speaker)  # type: ignore[arg-type]
            if target is None:
                self.send(error("choose the resident's language first", "no_language"))
                return
            if pipe is None:
                self.send(error("the models are still loading", "not_ready"))
                return
            turn_id = self.conversation.new_turn_id()
            self.send({"type": "turn_started", "turn_id": turn_id, "speaker": speaker, "kind": "speech"})
            hold = self._hold_speech(target)
            emit = self._emitter(turn_id, speaker, "speech", hold)
            extra = {"speak": False} if hold else {}
            try:
                result = await self.service.run_locked(
                    pipe.run_turn, audio, source or "auto", target, emit, **extra
                )
            except EdgeError as exc:  # the pipeline already emitted a TurnError
                _LOGGER.info("turn failed: %s", exc.code)
                return
            if self.closed or self.conversation.conversation_id != conversation_id:
                return  # the conversation ended while the turn ran: keep nothing
            turn = Turn(
                turn_id=turn_id,
                speaker=speaker,  # type: ignore[arg-type]
                kind="speech",
                source_language=result.source_language,
                source_text=result.source_text,
                target_language=result.target_language,
                target_text=result.target_text,
                mt_engine=result.mt_engine,
                terms=list(result.terms_applied),
            )
            self.conversation.add(turn)
            if hold and result.target_text:
                self.held.add(turn_id)
            if speaker == "resident" and not self.conversation.locked:
                self._propose(result.source_language, getattr(result.transcript, "language_probability", 0.0))
            await self._finish_turn(turn, result)
        finally:
            self.busy = False
            if self._segmenter is not None:
                self._segmenter.reset()
            self.send_state()

    def _propose(self, language: str, probability: float) -> None:
        try:
            self.conversation.propose_language(language, probability)
        except LanguageError:
            text = f"heard {_language_name(language)}; ask the resident to choose their language"
            self.send(notice(text, "language_unconfirmed"))

    async def _text_turn(self, turn: Turn) -> None:
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        try:
            if pipe is None:
                self.send(error("the models are still loading", "not_ready"))
                return
            self.send(
                {"type": "turn_started", "turn_id": turn.turn_id, "speaker": turn.speaker, "kind": turn.kind}
            )
            self._send_transcript(
                turn.turn_id, turn.speaker, turn.source_text, turn.source_language, turn.kind
            )
            hold = self._hold_speech(turn.target_language)
            emit = self._emitter(turn.turn_id, turn.speaker, turn.kind, hold)
            extra = {"speak": False} if hold else {}
            try:
                result = await self.service.run_locked(
                    pipe.translate_text,
                    turn.source_text,
                    turn.source_language,
                    turn.target_language,
                    emit,
                    **extra,
                )
            except EdgeError:
                return
            if self.closed or self.conversation.conversation_id != conversation_id:
                return
            turn.target_text, turn.mt_engine = result.target_text, result.mt_engine
            turn.terms = list(result.terms_applied)
            if hold and result.target_text:
                self.held.add(turn.turn_id)
            await self._finish_turn(turn, result)
        finally:
            self.busy = False
            self.send_state()

    async def _phrase_turn(self, phrase_id: str, language: str) -> None:
        book = self.service.phrases
        try:
            turn = Turn(
                turn_id=self.conversation.new_turn_id(),
                speaker="clerk",
                kind="phrase",
                source_language=STAFF_LANGUAGE,
                source_text=book.text(phrase_id, STAFF_LANGUAGE),
                target_language=language,
                target_text=book.text(phrase_id, language),
                mt_engine="phrasebook",
                phrase_id=phrase_id,
            )
            self.conversation.add(turn)
            self.send({"type": "turn_started", "turn_id": turn.turn_id, "speaker": "clerk", "kind": "phrase"})
            self._send_transcript(turn.turn_id, "clerk", turn.source_text, STAFF_LANGUAGE, "phrase")
            entry = book.get(phrase_id)
            if not turn.target_text:
                text = f"this phrase has no {_language_name(language)} version yet"
                self.send(notice(text, "phrase_missing_language", turn.turn_id))
            self.send(
                {
                    "type": "translation",
                    "turn_id": turn.turn_id,
                    "speaker": "clerk",
                    "text": turn.target_text,
                    "language": language,
                    "engine": "phrasebook",
                    "terms": [],
                    "term_info": {},
                    "flagged": False,
                    "reviewed": entry.reviewed,
                    "phrase_id": phrase_id,
                    "ruby_html": ruby_html(turn.target_text, language),
                    "awaiting_confirm": False,
                }
            )
            self.send(
                {
                    "type": "back_translation",
                    "turn_id": turn.turn_id,
                    "speaker": "clerk",
                    "available": False,
                    "text": None,
                    "language": STAFF_LANGUAGE,
                    "reason": "phrase book sentence (no MT)",
                }
            )
            voice = self.service.voice_for(language)
            if voice is None or not turn.target_text:
                text = f"no {_language_name(language)} voice: shown as text only"
                self.send(notice(text, "voice_missing", turn.turn_id))
            else:
                await self.service.run_locked(self._speak_text, voice, turn.target_text, turn.turn_id)
            self.send(
                {"type": "turn_end", "turn_id": turn.turn_id, "speaker": "clerk", "engine": "phrasebook"}
            )
            usage = _PhraseUsage(source_language=STAFF_LANGUAGE, target_language=language)
            await asyncio.to_thread(self.service.count_turn, usage, phrase_id)
        finally:
            self.busy = False
            self.send_state()

    def _speak_text(self, voice: Any, text: str, turn_id: str) -> None:
        """Synthesise ``text`` (worker thread), sending each sentence as soon as it is ready."""
        count = 0
        for chunk in voice.synthesize(text):
            self.send_threadsafe(speech_audio(turn_id, count, chunk.pcm, chunk.sample_rate))
            count += 1
        self.send_threadsafe(speech_end(turn_id, count))

    async def _finish_turn(self, turn: Turn, result: Any) -> None:
        await self._back_translate(turn)
        self.send(
            {
                "type": "turn_end",
                "turn_id": turn.turn_id,
                "speaker": turn.speaker,
                "engine": turn.mt_engine,
                "timings_ms": dict(getattr(result, "timings_ms", {}) or {}),
            }
        )
        await asyncio.to_thread(self.service.count_turn, result)

    async def _back_translate(self, turn: Turn) -> None:
        message: dict[str, Any] = {
            "type": "back_translation",
            "turn_id": turn.turn_id,
            "speaker": turn.speaker,
            "language": turn.source_language,
            "available": False,
            "text": None,
        }
        router = getattr(self.service.pipeline, "mt_router", None)
        source, target = turn.source_language, turn.target_language
        if not turn.target_text or source == target:
            message["reason"] = "nothing to translate back"
        elif not self.options.back_translation:
            message["reason"] = "back-translation is off at this counter"
        elif router is None or not router.can_translate(target, source):
            message["reason"] = f"no MT pack for {target}→{source}"
        else:
            try:
                back = await self.service.run_locked(router.translate, turn.target_text, target, source)
            except EdgeError as exc:
                message["reason"] = str(exc)
            else:
                turn.back_translation = back.text
                message.update(available=True, text=back.text)
        self.send(message)

    def _send_transcript(self, turn_id: str, speaker: str, text: str, language: str, kind: str) -> list[str]:
        spans, ids = self.service.mark_terms(text, language, [])
        self.send(
            {
                "type": "transcript",
                "turn_id": turn_id,
                "speaker": speaker,
                "kind": kind,
                "text": text,
                "language": language,
                "terms": spans,
                "term_info": self.service.term_info(ids, language),
                "ruby_html": ruby_html(text, language),
            }
        )
        return ids

    def _emitter(self, turn_id: str, speaker: str, kind: str, hold: bool = False) -> Callable[[Any], None]:
        """Map pipeline events (worker thread) to protocol events."""
        source_terms: list[str] = []

        def emit(event: Any) -> None:
            if isinstance(event, TranscriptEvent):
                spans, ids = self.service.mark_terms(event.text, event.language, [])
                source_terms[:] = ids
                self.send_threadsafe(
                    {
                        "type": "transcript",
                        "turn_id": turn_id,
                        "speaker": speaker,
                        "kind": kind,
                        "text": event.text,
                        "language": event.language,
                        "language_probability": event.language_probability,
                        "terms": spans,
                        "term_info": self.service.term_info(ids, event.language),
                        "ruby_html": ruby_html(event.text, event.language),
                        "corrections": list(event.corrections),
                        "recognised_text": event.recognised_text,
                    }
                )
            elif isinstance(event, TranslationReady):
                hints = list(event.terms_applied) + source_terms
                spans, ids = self.service.mark_terms(event.text, event.target_language, hints)
                self.send_threadsafe(
                    {
                        "type": "translation",
                        "turn_id": turn_id,
                        "speaker": speaker,
                        "text": event.text,
                        "language": event.target_language,
                        "engine": event.engine,
                        "terms": spans,
                        "term_info": self.service.term_info(ids, event.target_language),
                        "flagged": event.flagged,
                        "ruby_html": event.ruby_html,
                        "awaiting_confirm": hold,
                        "verified": event.verified_phrase,
                    }
                )
            elif isinstance(event, SpeechAudio):
                if event.pcm:
                    self.send_threadsafe(speech_audio(turn_id, event.index, event.pcm, event.sample_rate))
                if event.is_last:
                    self.send_threadsafe(speech_end(turn_id, event.index + (1 if event.pcm else 0)))
            elif isinstance(event, TurnError | Notice):
                self.send_threadsafe(
                    {"type": event.type, "text": event.text, "code": event.code, "turn_id": turn_id}
                )

        return emit
