"""The turns of a counter connection: spoken, typed, edited, phrase-book and confirmed speech.

``TurnRunner`` is the collaborator of ``edge.counter.session.Session`` that runs turns through the shared
pipeline and maps pipeline events (from a worker thread) to typed protocol messages. Speech streams: each
sentence is sent as soon as it is synthesised and ``speech_end`` follows the last. In "confirm before
speaking" mode a translation is shown with ``awaiting_confirm`` and spoken only on the speaker's ``speak``
message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edge import events
from edge.counter import messages as m
from edge.counter.protocol import ruby_html, wav_base64
from edge.counter.service import CounterOptions, CounterService
from edge.errors import EdgeError, LanguageError
from edge.memory import release_free_memory
from edge.turn.conversation import Conversation, Turn
from glossary.languages import ENGLISH_NAMES, STAFF_LANGUAGE

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


class TurnHost(Protocol):
    """What a ``TurnRunner`` needs of its connection (``edge.counter.session.Session``)."""

    service: CounterService
    options: CounterOptions
    conversation: Conversation
    busy: bool
    closed: bool
    held: set[str]

    def send(self, message: m.ServerMessage) -> None: ...

    def send_threadsafe(self, message: m.ServerMessage) -> None: ...

    def send_state(self) -> None: ...

    def turn_finished(self) -> None: ...


def _speech_audio(turn_id: str, index: int, pcm: bytes, sample_rate: int) -> m.SpeechAudio:
    return m.SpeechAudio(turn_id, index, sample_rate, wav_base64(pcm, sample_rate))


class TurnRunner:
    """Runs the turns of one connection and reports each step to it as protocol messages."""

    def __init__(self, host: TurnHost) -> None:
        self.host = host
        self.service = host.service
        self.options = host.options
        self.conversation = host.conversation

    # -- confirmation -----------------------------------------------------------------------------

    def _hold_speech(self, target: str) -> bool:
        """True when this turn's speech waits for "OK, speak" (the mode is on and a voice exists)."""
        return self.options.confirm_before_speaking and self.service.voice_for(target) is not None

    def _clerk_muted(self, speaker: str) -> bool:
        """True when the resident's reply must not be spoken to the clerk (the clerk turned it off)."""
        return speaker == "resident" and not getattr(self.host, "clerk_voice", True)

    async def confirmed_speech(self, turn: Turn) -> None:
        pipe = self.service.pipeline
        try:
            emit = self._emitter(turn.turn_id, turn.speaker, turn.kind)
            try:
                await self.service.run_locked(pipe.speak_text, turn.target_text, turn.target_language, emit)
            except EdgeError as exc:
                self.host.send(m.Error(str(exc), exc.code, turn.turn_id))
        finally:
            self.host.busy = False
            self.host.send_state()

    # -- turns ------------------------------------------------------------------------------------

    async def audio_turn(self, speaker: str, audio: np.ndarray, live: Any | None = None) -> None:
        """A spoken turn; ``live``: the ``StreamingRecognizer`` that heard it as it was spoken."""
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        streamed = None
        try:
            if live is not None:  # stop the tentative decode (in a worker) unless it is the final one
                streamed = await asyncio.to_thread(live.finish, audio)
            source, target = self.conversation.pair(speaker)  # type: ignore[arg-type]
            if target is None:
                self.host.send(m.Error("choose the resident's language first", "no_language"))
                return
            if pipe is None:
                self.host.send(m.Error("the models are still loading", "not_ready"))
                return
            turn_id = self.conversation.new_turn_id()
            self.host.send(m.TurnStarted(turn_id, speaker, "speech"))
            hold = self._hold_speech(target)
            emit = self._emitter(turn_id, speaker, "speech", hold)
            extra: dict[str, Any] = {"speak": False} if hold or self._clerk_muted(speaker) else {}
            if streamed is not None:
                extra["streamed"] = streamed
            try:
                result = await self.service.run_locked(
                    pipe.run_turn, audio, source or "auto", target, emit, **extra
                )
            except EdgeError as exc:  # the pipeline already emitted a TurnError
                _LOGGER.info("turn failed: %s", exc.code)
                return
            if self.host.closed or self.conversation.conversation_id != conversation_id:
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
                self.host.held.add(turn_id)
            if speaker == "resident" and not self.conversation.locked:
                self._propose(result.source_language, getattr(result.transcript, "language_probability", 0.0))
            await self._finish_turn(turn, result)
        finally:
            if streamed is not None:
                streamed.discard()
            release_free_memory()  # the turn's buffers, before the next one
            self.host.busy = False
            self.host.turn_finished()
            self.host.send_state()

    def _propose(self, language: str, probability: float) -> None:
        try:
            self.conversation.propose_language(language, probability)
        except LanguageError:
            text = f"heard {_language_name(language)}; ask the resident to choose their language"
            self.host.send(m.Notice(text, "language_unconfirmed"))

    async def text_turn(self, turn: Turn) -> None:
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        try:
            if pipe is None:
                self.host.send(m.Error("the models are still loading", "not_ready"))
                return
            self.host.send(m.TurnStarted(turn.turn_id, turn.speaker, turn.kind))
            await self._send_transcript(
                turn.turn_id, turn.speaker, turn.source_text, turn.source_language, turn.kind
            )
            hold = self._hold_speech(turn.target_language)
            emit = self._emitter(turn.turn_id, turn.speaker, turn.kind, hold)
            extra = {"speak": False} if hold or self._clerk_muted(turn.speaker) else {}
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
            if self.host.closed or self.conversation.conversation_id != conversation_id:
                return
            turn.target_text, turn.mt_engine = result.target_text, result.mt_engine
            turn.terms = list(result.terms_applied)
            if hold and result.target_text:
                self.host.held.add(turn.turn_id)
            await self._finish_turn(turn, result)
        finally:
            self.host.busy = False
            self.host.send_state()

    async def phrase_turn(self, phrase_id: str, language: str) -> None:
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
            self.host.send(m.TurnStarted(turn.turn_id, "clerk", "phrase"))
            await self._send_transcript(turn.turn_id, "clerk", turn.source_text, STAFF_LANGUAGE, "phrase")
            entry = book.get(phrase_id)
            if not turn.target_text:
                text = f"this phrase has no {_language_name(language)} version yet"
                self.host.send(m.Notice(text, "phrase_missing_language", turn.turn_id))
            self.host.send(
                m.Translation(
                    turn_id=turn.turn_id,
                    speaker="clerk",
                    text=turn.target_text,
                    language=language,
                    engine="phrasebook",
                    terms=[],
                    term_info={},
                    flagged=False,
                    ruby_html=await asyncio.to_thread(ruby_html, turn.target_text, language),
                    awaiting_confirm=False,
                    reviewed=entry.reviewed,
                    phrase_id=phrase_id,
                )
            )
            if self.options.back_translation:
                reason = "phrase book sentence (no MT)"
                self.host.send(m.BackTranslation(turn.turn_id, "clerk", STAFF_LANGUAGE, False, None, reason))
            voice = self.service.voice_for(language)
            if voice is None or not turn.target_text:
                text = f"no {_language_name(language)} voice: shown as text only"
                self.host.send(m.Notice(text, "voice_missing", turn.turn_id))
            else:
                readings = pipe_readings(self.service.pipeline, turn.target_text, language)
                await self.service.run_locked(
                    self._speak_text, voice, turn.target_text, turn.turn_id, readings
                )
            self.host.send(m.TurnEnd(turn.turn_id, "clerk", "phrasebook"))
            usage = _PhraseUsage(source_language=STAFF_LANGUAGE, target_language=language)
            await asyncio.to_thread(self.service.count_turn, usage, phrase_id)
        finally:
            self.host.busy = False
            self.host.send_state()

    def _speak_text(self, voice: Any, text: str, turn_id: str, readings: Any = None) -> None:
        """Synthesise ``text`` (worker thread), sending each sentence as soon as it is ready; with
        ``readings`` (Easy Japanese furigana) the voice says what the furigana show."""
        count = 0
        with_readings = getattr(voice, "synthesize_readings", None) if readings else None
        for chunk in with_readings(readings) if with_readings else voice.synthesize(text):
            self.host.send_threadsafe(_speech_audio(turn_id, count, chunk.pcm, chunk.sample_rate))
            count += 1
        self.host.send_threadsafe(m.SpeechEnd(turn_id, count))

    async def _finish_turn(self, turn: Turn, result: Any) -> None:
        await self._back_translate(turn, getattr(result, "back_translation", None))
        timings = dict(getattr(result, "timings_ms", {}) or {})
        self.host.send(m.TurnEnd(turn.turn_id, turn.speaker, turn.mt_engine, timings))
        await asyncio.to_thread(self.service.count_turn, result)

    async def _back_translate(self, turn: Turn, done: str | None = None) -> None:
        """Send the turn's back-translation: ``done`` when the pipeline made one, else translate now.

        Nothing is sent when back-translation is off at this counter.
        """
        if not self.options.back_translation:
            return
        text, reason = None, None
        router = getattr(self.service.pipeline, "mt_router", None)
        source, target = turn.source_language, turn.target_language
        if not turn.target_text or source == target:
            reason = "nothing to translate back"
        elif done:
            text = done
        elif router is None or not router.can_translate(target, source):
            reason = f"no MT pack for {target}→{source}"
        else:
            try:
                text = (
                    await self.service.run_locked(router.translate, turn.target_text, target, source)
                ).text
            except EdgeError as exc:
                reason = str(exc)
        turn.back_translation = text
        self.host.send(m.BackTranslation(turn.turn_id, turn.speaker, source, text is not None, text, reason))

    async def _send_transcript(self, turn_id: str, speaker: str, text: str, language: str, kind: str) -> None:
        spans, ids = self.service.mark_terms(text, language, [])
        info = self.service.term_info(ids, language)
        furigana = await asyncio.to_thread(ruby_html, text, language)  # SudachiPy: off the event loop
        self.host.send(m.Transcript(turn_id, speaker, kind, text, language, spans, info, furigana))

    def _emitter(self, turn_id: str, speaker: str, kind: str, hold: bool = False) -> Callable[[Any], None]:
        """Map pipeline events (worker thread) to protocol messages."""
        source_terms: list[str] = []
        send = self.host.send_threadsafe

        def emit(event: Any) -> None:
            if isinstance(event, events.TranscriptEvent):
                spans, ids = self.service.mark_terms(event.text, event.language, [])
                source_terms[:] = ids
                info = self.service.term_info(ids, event.language)
                furigana = ruby_html(event.text, event.language)
                send(
                    m.Transcript(turn_id, speaker, kind, event.text, event.language, spans, info, furigana,
                                 language_probability=event.language_probability,
                                 corrections=list(event.corrections) or None,
                                 recognised_text=event.recognised_text)
                )  # fmt: skip
            elif isinstance(event, events.TranslationReady):
                hints = list(event.terms_applied) + source_terms
                spans, ids = self.service.mark_terms(event.text, event.target_language, hints)
                info = self.service.term_info(ids, event.target_language)
                send(
                    m.Translation(turn_id, speaker, event.text, event.target_language, event.engine, spans,
                                  info, event.flagged, event.ruby_html, hold,
                                  verified=event.verified_phrase,
                                  maybe_cut=True if event.maybe_cut else None)
                )  # fmt: skip
            elif isinstance(event, events.SpeechAudio):
                if event.pcm:
                    send(_speech_audio(turn_id, event.index, event.pcm, event.sample_rate))
                if event.is_last:
                    send(m.SpeechEnd(turn_id, event.index + (1 if event.pcm else 0)))
            elif isinstance(event, events.TurnError):
                send(m.Error(event.text, event.code, turn_id))
            elif isinstance(event, events.Notice):
                send(m.Notice(event.text, event.code, turn_id))

        return emit


def pipe_readings(pipe: Any, text: str, language: str) -> Any:
    """The furigana shown for an Easy Japanese phrase (None for other languages or without analyser)."""
    if language != "ja-easy" or pipe is None or not hasattr(pipe, "readings_for"):
        return None
    return pipe.readings_for(text)
