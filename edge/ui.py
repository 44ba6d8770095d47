"""The counter app: the page clerks and residents touch, its static files and its WebSocket.

``create_app(settings, pipeline=...)`` builds the FastAPI app; ``madoguchi edge run`` serves it.
One ``TurnPipeline`` (models loaded once) is shared by every connection and guarded by a lock; blocking
inference runs in ``asyncio.to_thread``. Each WebSocket connection is one conversation
(``edge.conversation``), held in memory only and erased when it ends, after ``idle_timeout_s``, or when
the page disconnects. Only counts and ids reach the usage outbox.

HTTP:
    GET /                 the counter page (edge/web/index.html)
    GET /static/...       app.js, style.css, capture-worklet.js
    GET /api/status       per language: ASR, MT (ja→x, x→ja), voice, what is missing; live conversations
    GET /api/phrases      the phrase book grouped by situation
    GET /api/texts        the fixed screen texts (promise, notices) in every language
    GET /api/terms/{id}   one glossary term (approved translations, explanation, review status)

WebSocket protocol, version 1 (``/ws``):
    Client → server, JSON text frames ``{"type": ..., ...}``:
        hello            {protocol: 1}                  optional; a different major version is refused
        start            {speaker: "clerk"|"resident", mode: "ptt"|"handsfree", sample_rate: 16000,
                          source: "browser"|"device"}    open the microphone for one speaker
        stop             {}                             push-to-talk released / hands-free off
        set_language     {language}                     the resident chose or confirmed: locks the pair
        edit             {turn_id, text}                correct what was heard → re-translate, re-speak
        phrase           {phrase_id}                    a phrase book sentence (no MT)
        text             {speaker, text}                a typed turn
        playback         {playing: bool}                the page is (not) playing speech: mic muted
        end_conversation {}                             erase everything now
    Client → server, binary frames: 16 kHz mono int16 little-endian PCM (after ``start``; at most
        ``max_frame_bytes`` each, an even number of bytes).
    Server → client, JSON text frames:
        hello            {protocol, version, sample_rate, max_frame_bytes}
        state            {conversation_id, resident_language, locked, proposed_language, turns,
                          recording: {speaker, mode, source} | null, busy, idle_timeout_s}
        vad              {event: "speech_started"|"speech_stopped"}    hands-free end-pointing
        turn_started     {turn_id, speaker, kind}
        transcript       {turn_id, speaker, text, language, terms, term_info, kind, ruby_html}
                         ruby_html: Japanese only, escaped HTML with <ruby> furigana (the page's toggle)
        translation      {turn_id, speaker, text, language, engine, terms, term_info, flagged, ruby_html}
                         ruby_html: target ja-easy only, escaped HTML with <ruby> furigana (else null)
        back_translation {turn_id, speaker, available, text, language, reason}
        speech_audio     {turn_id, index, is_last, sample_rate, wav_base64}   one sentence, WAV
        turn_end         {turn_id, speaker, engine, timings_ms}
        notice           {text, code, turn_id?}     a fallback or information (missing voice, MT, ...)
        error            {text, code, turn_id?}     a refused message or a failed turn
        conversation_ended {reason: "ended"|"idle"}    the page clears everything it shows
    ``terms`` are spans ``{start, end, term_id}`` of ``text`` in Unicode code points (as Python counts);
    ``term_info`` maps each term id to ``{ja, reading, translation, translations, easy_ja,
    explanation_en, reviewed}``. A phrase turn's ``translation`` adds ``phrase_id`` and ``reviewed``;
    a spoken turn's ``transcript`` adds ``language_probability``. A malformed, unknown or oversized
    message gets an ``error`` and the connection stays usable; one turn runs at a time per connection
    (``busy``), and the page stops sending audio while it plays speech.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import logging
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from edge.audio import SAMPLE_RATE
from edge.config import EdgeSettings
from edge.conversation import SPEAKERS, Conversation, Turn
from edge.errors import AudioDeviceError, EdgeError, LanguageError
from edge.events import Notice, SpeechAudio, TranscriptEvent, TranslationReady, TurnError
from edge.phrases import EXTRA_PICKER_LANGUAGES, PhraseBook, screen_texts
from edge.vad import Segmenter, Utterance, VadOptions
from glossary.languages import ENGLISH_NAMES, NATIVE_NAMES, RESIDENT_LANGUAGES, STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)

PROTOCOL_VERSION: Final = 1
WEB_DIR: Final = Path(__file__).parent / "web"
_MODES: Final = ("ptt", "handsfree")
_SOURCES: Final = ("browser", "device")


@dataclass(frozen=True)
class CounterOptions:
    """Behaviour of the counter app.

    Attributes:
        idle_timeout_s: A conversation is erased after this much inactivity (seconds; 0 = never).
        interpreter_note: The clerk's one-tap note of the city's interpreter line (text).
        max_frame_bytes: Largest binary audio frame accepted (bytes).
        max_text_bytes: Largest JSON message accepted (bytes).
        max_utterance_s: A push-to-talk recording is cut here (seconds).
        min_utterance_s: Shorter push-to-talk recordings are refused as accidental (seconds).
        vad: End-pointing of hands-free mode.
        back_translation: Translate each turn back for the speaker when an MT path back exists.
        reviewed_only: Offer reviewed phrases only.
        mic_device: The device microphone: PortAudio index or part of its name (None = default input).
    """

    idle_timeout_s: float = 120.0
    interpreter_note: str = "通訳が必要なときは、市の通訳サービスにお電話ください（内線をここに設定）。"
    max_frame_bytes: int = 64 * 1024
    max_text_bytes: int = 16 * 1024
    max_utterance_s: float = 30.0
    min_utterance_s: float = 0.3
    vad: VadOptions = field(default_factory=VadOptions)
    back_translation: bool = True
    reviewed_only: bool = False
    mic_device: int | str | None = None


class ProtocolError(EdgeError):
    """A client message the counter cannot accept (the connection stays usable)."""

    code = "protocol"


def _wav_base64(pcm: bytes, sample_rate: int) -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class CounterService:
    """What all connections share: the pipeline and its lock, glossary, phrase book, outbox, device mic."""

    def __init__(
        self,
        pipeline: Any | None,
        *,
        glossary: Any | None = None,
        outbox: Any | None = None,
        options: CounterOptions = CounterOptions(),
        languages: tuple[str, ...] | None = None,
        capture_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.glossary = glossary
        self.outbox = outbox
        self.options = options
        enabled = languages or tuple(
            getattr(pipeline, "languages", ()) or (STAFF_LANGUAGE, *RESIDENT_LANGUAGES)
        )
        self.languages = enabled
        self.resident_languages = tuple(code for code in enabled if code != STAFF_LANGUAGE)
        self.phrases = PhraseBook(glossary, reviewed_only=options.reviewed_only)
        self.matcher = _matcher(glossary)
        self.lock = asyncio.Lock()
        self.sessions: dict[int, Session] = {}
        self._capture_factory = capture_factory
        self._capture: Any | None = None
        self._capture_owner: Session | None = None

    # -- blocking work ------------------------------------------------------------------------------

    async def run_locked(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking inference in a worker thread, one call at a time."""
        async with self.lock:
            return await asyncio.to_thread(fn, *args)

    def count_turn(self, result: Any, phrase_id: str | None = None) -> None:
        """Add a finished turn's counters (ids and counts only) to the outbox."""
        if self.outbox is None:
            return
        try:
            from edge.outbox import TurnUsage

            self.outbox.add_turn(TurnUsage.from_turn(result, phrase_id=phrase_id))
        except EdgeError as exc:
            _LOGGER.warning("usage not counted: %s", exc)

    # -- glossary marks -------------------------------------------------------------------------------

    def mark_terms(
        self, text: str, language: str, hints: list[str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Spans of glossary terms in ``text`` and their ids (Japanese by matching, others by hint ids)."""
        spans: list[dict[str, Any]] = []
        if not text or self.glossary is None:
            return spans, []
        if language == STAFF_LANGUAGE and self.matcher is not None:
            for match in self.matcher.find(text):
                spans.append({"start": match.start, "end": match.end, "term_id": match.term_id})
        else:
            lowered = text.lower()
            taken: list[tuple[int, int]] = []
            for term_id in dict.fromkeys(hints):
                try:
                    surface = self.glossary.term(term_id).translation(language)
                except Exception:  # an unknown id must not break a turn
                    continue
                if not surface:
                    continue
                start = lowered.find(surface.lower())
                while start >= 0:
                    end = start + len(surface)
                    if all(end <= a or start >= b for a, b in taken):
                        taken.append((start, end))
                        spans.append({"start": start, "end": end, "term_id": term_id})
                    start = lowered.find(surface.lower(), end)
            spans.sort(key=lambda span: span["start"])
        return spans, list(dict.fromkeys(span["term_id"] for span in spans))

    def term_info(self, term_ids: list[str], language: str) -> dict[str, dict[str, Any]]:
        """Details of each term for the tap-to-explain popup."""
        info: dict[str, dict[str, Any]] = {}
        for term_id in term_ids:
            try:
                term = self.glossary.term(term_id)
            except Exception:
                continue
            info[term_id] = {
                "ja": term.ja,
                "reading": term.reading,
                "translation": term.translation(language) if language != STAFF_LANGUAGE else term.ja,
                "translations": dict(term.translations),
                "easy_ja": term.easy_ja,
                "explanation_en": term.explanation_en,
                "reviewed": bool(term.reviewed),
            }
        return info

    # -- status ---------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Per-language readiness and counts of live conversations (no conversation content)."""
        from madoguchi import __version__

        pipe = self.pipeline
        transcriber = getattr(pipe, "transcriber", None)
        asr_languages = set(getattr(transcriber, "languages", ()) or ()) if transcriber else set()
        router = getattr(pipe, "mt_router", None)
        voices = getattr(pipe, "voices", {}) or {}
        rows = []
        for code in self.languages:
            notes: list[str] = []
            row: dict[str, Any] = {
                "code": code,
                "native_name": NATIVE_NAMES.get(code, code),
                "english_name": ENGLISH_NAMES.get(code, code),
                "asr": code in asr_languages,
                "voice": getattr(voices.get(code), "name", None) if code in voices else None,
            }
            if not row["asr"]:
                notes.append(f"no speech recognition for {ENGLISH_NAMES.get(code, code)}")
            if code != STAFF_LANGUAGE:
                to_x = bool(router is not None and router.can_translate(STAFF_LANGUAGE, code))
                from_x = bool(router is not None and router.can_translate(code, STAFF_LANGUAGE))
                row["mt_to_resident"] = (
                    "ctranslate2" if to_x else ("whisper-translate" if code == "en" else None)
                )
                row["mt_to_staff"] = "ctranslate2" if from_x else None
                for ok, (a, b) in ((to_x, (STAFF_LANGUAGE, code)), (from_x, (code, STAFF_LANGUAGE))):
                    if not ok:
                        notes.append(_missing_hint(router, a, b))
            if row["voice"] is None:
                notes.append(
                    "no Japanese voice (Japanese is text-first)"
                    if code == STAFF_LANGUAGE
                    else f"no {ENGLISH_NAMES.get(code, code)} voice: text only"
                )
            row["notes"] = notes
            rows.append(row)
        return {
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "ready": pipe is not None,
            "asr_pack": getattr(pipe, "asr_pack", None),
            "languages": rows,
            "phrases": len(self.phrases),
            "glossary_version": getattr(self.glossary, "version", None),
            "interpreter_note": self.options.interpreter_note,
            "idle_timeout_s": self.options.idle_timeout_s,
            "conversations": {
                "connected": len(self.sessions),
                "holding_content": sum(not s.conversation.is_empty for s in self.sessions.values()),
                "turns": sum(len(s.conversation.turns) for s in self.sessions.values()),
                "recording": sum(s.recording is not None for s in self.sessions.values()),
            },
            "device_microphone": {
                "owner": self._capture_owner is not None,
                "connected": bool(getattr(self._capture, "connected", False)),
            },
        }

    # -- device microphone ------------------------------------------------------------------------

    def attach_capture(self, session: Session) -> None:
        """Route the device microphone to ``session``.

        Raises:
            AudioDeviceError: another conversation uses it, or it cannot start.
        """
        if self._capture_owner is not None and self._capture_owner is not session:
            raise AudioDeviceError("the device microphone is in use by another screen")
        from edge.capture import MicrophoneCapture

        loop = asyncio.get_running_loop()

        def on_frames(frames: np.ndarray) -> None:
            loop.call_soon_threadsafe(self._device_frames, frames)

        def on_status(state: str, error: AudioDeviceError | None) -> None:
            loop.call_soon_threadsafe(self._device_status, state, error)

        self._capture_owner = session
        if self._capture is None:
            kwargs: dict[str, Any] = {"on_status": on_status}
            if self._capture_factory is not None:
                kwargs["stream_factory"] = self._capture_factory
            from edge.capture import CaptureOptions

            kwargs["options"] = CaptureOptions(device=self.options.mic_device)
            self._capture = MicrophoneCapture(on_frames, **kwargs)
        self._capture.start()

    def detach_capture(self, session: Session) -> None:
        """Stop the device microphone if ``session`` holds it."""
        if self._capture_owner is session:
            self._capture_owner = None
            if self._capture is not None:
                self._capture.stop()
                self._capture = None

    def mute_capture(self, muted: bool) -> None:
        """Mute the device microphone while speech plays."""
        if self._capture is not None:
            self._capture.muted = muted

    def _device_frames(self, frames: np.ndarray) -> None:
        owner = self._capture_owner
        if owner is not None:
            owner.feed(frames)

    def _device_status(self, state: str, error: AudioDeviceError | None) -> None:
        owner = self._capture_owner
        if owner is None:
            return
        if state == "lost" and error is not None:
            owner.abandon_recording()
            owner.send({"type": "error", "text": str(error), "code": error.code})
        elif state == "resumed":
            owner.send(
                {"type": "notice", "text": "the microphone is back; listening again", "code": "mic_resumed"}
            )


class Session:
    """One WebSocket connection: its conversation, recording and outgoing queue."""

    def __init__(self, service: CounterService, websocket: WebSocket) -> None:
        self.service = service
        self.ws = websocket
        self.options = service.options
        self.conversation = Conversation(
            languages=(*service.resident_languages, *EXTRA_PICKER_LANGUAGES),
            idle_timeout_s=service.options.idle_timeout_s,
        )
        self.recording: dict[str, str] | None = None
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._segmenter: Segmenter | None = None
        self.busy = False
        self.playing = False
        self.closed = False
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- sending --------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        """Queue an event for the page (safe from the event loop)."""
        if not self.closed:
            self._queue.put_nowait(json.dumps(message, ensure_ascii=False))

    def send_threadsafe(self, message: dict[str, Any]) -> None:
        """Queue an event from a worker thread."""
        self._loop.call_soon_threadsafe(self.send, message)

    def send_state(self) -> None:
        """Tell the page the conversation state."""
        self.send(
            {
                "type": "state",
                **self.conversation.snapshot(),
                "recording": self.recording,
                "busy": self.busy,
            }
        )

    async def sender(self) -> None:
        """Write queued events to the socket in order."""
        while True:
            message = await self._queue.get()
            if message is None:
                return
            try:
                await self.ws.send_text(message)
            except Exception:  # the page went away; the receive loop cleans up
                return

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background, keeping a reference until it finishes."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Forget everything of this connection."""
        self.closed = True
        self.abandon_recording()
        self.service.detach_capture(self)
        self.conversation.erase()
        self._queue.put_nowait(None)
        for task in list(self._tasks):
            task.cancel()

    # -- receiving --------------------------------------------------------------------------------

    async def on_text(self, raw: str) -> None:
        """Handle one JSON control message."""
        if len(raw.encode("utf-8")) > self.options.max_text_bytes:
            raise ProtocolError(f"message too large (max {self.options.max_text_bytes} bytes)")
        try:
            message = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"malformed JSON: {exc.msg}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError('a message must be a JSON object with a "type"')
        kind = message["type"]
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise ProtocolError(f"unknown message type {kind[:40]!r}")
        self.conversation.touch()
        await handler(self, message)

    def on_binary(self, data: bytes) -> None:
        """Handle one binary audio frame."""
        if len(data) > self.options.max_frame_bytes:
            raise ProtocolError(
                f"audio frame too large ({len(data)} bytes; max {self.options.max_frame_bytes})"
            )
        if self.recording is None:
            raise ProtocolError("audio before start: send {type: start} first")
        if self.recording.get("source") != "browser":
            return  # the device microphone feeds this recording
        if len(data) % 2:
            raise ProtocolError("audio frames must be 16-bit PCM (an even number of bytes)")
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        self.feed(samples)

    def feed(self, samples: np.ndarray) -> None:
        """Audio of the current recording (browser or device microphone), 16 kHz float32."""
        if self.recording is None or self.playing or self.busy or samples.size == 0:
            return
        if self.recording["mode"] == "handsfree" and self._segmenter is not None:
            for item in self._segmenter.push(samples):
                if isinstance(item, Utterance):
                    self.busy = True
                    self.spawn(self._audio_turn(self.recording["speaker"], item.audio))
                else:
                    self.send({"type": "vad", "event": item.type.replace("-", "_")})
            return
        self._chunks.append(samples)
        self._samples += samples.size
        if self._samples >= self.options.max_utterance_s * SAMPLE_RATE:
            self.send(
                {"type": "notice", "text": "the recording reached its maximum length", "code": "max_length"}
            )
            self._finish_ptt()

    def hearing_speech(self) -> bool:
        """True while push-to-talk is held or hands-free hears someone speaking."""
        if self.recording is None:
            return False
        if self.recording["mode"] == "ptt":
            return True
        return self._segmenter is not None and self._segmenter.in_speech

    def abandon_recording(self) -> None:
        """Drop the audio of an unfinished utterance."""
        self._chunks, self._samples = [], 0
        if self._segmenter is not None:
            self._segmenter.reset()

    # -- message handlers ------------------------------------------------------------------------

    async def on_hello(self, message: dict[str, Any]) -> None:
        version = message.get("protocol", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            raise ProtocolError(f"protocol version {version!r} is not supported (this counter speaks 1)")
        self.send(self._hello())

    def _hello(self) -> dict[str, Any]:
        from madoguchi import __version__

        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "sample_rate": SAMPLE_RATE,
            "max_frame_bytes": self.options.max_frame_bytes,
        }

    async def on_start(self, message: dict[str, Any]) -> None:
        speaker = _speaker(message.get("speaker"))
        mode = message.get("mode", "ptt")
        source = message.get("source", "browser")
        if mode not in _MODES:
            raise ProtocolError(f"mode must be one of {', '.join(_MODES)}")
        if source not in _SOURCES:
            raise ProtocolError(f"source must be one of {', '.join(_SOURCES)}")
        rate = message.get("sample_rate", SAMPLE_RATE)
        if source == "browser" and rate != SAMPLE_RATE:
            self.send(
                {
                    "type": "error",
                    "text": f"sample rate {rate!r} is not supported; send 16000 Hz mono int16 PCM",
                    "code": "sample_rate",
                }
            )
            return
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        if speaker == "clerk" and self.conversation.resident_language is None:
            self.send(
                {"type": "error", "text": "choose the resident's language first", "code": "no_language"}
            )
            return
        if self.recording is not None and self.recording.get("source") != source:
            self.service.detach_capture(self)
        self.abandon_recording()
        self.recording = {"speaker": speaker, "mode": mode, "source": source}
        if mode == "handsfree":
            self._segmenter = Segmenter(self.options.vad)
        if source == "device":
            try:
                self.service.attach_capture(self)
            except AudioDeviceError as exc:
                self.recording = None
                self.send({"type": "error", "text": str(exc), "code": exc.code})
                return
        self.send_state()

    async def on_stop(self, _message: dict[str, Any]) -> None:
        if self.recording is None:
            return
        if self.recording["mode"] == "ptt":
            self._finish_ptt()
        else:
            self.recording = None
            self._segmenter = None
            self.abandon_recording()
        self.service.detach_capture(self)
        self.send_state()

    def _finish_ptt(self) -> None:
        recording, chunks, samples = self.recording, self._chunks, self._samples
        self.recording = None
        self._chunks, self._samples = [], 0
        if recording is None:
            return
        if samples < self.options.min_utterance_s * SAMPLE_RATE:
            self.send(
                {"type": "error", "text": "too short: hold the button while speaking", "code": "too_short"}
            )
            return
        self.busy = True
        self.spawn(self._audio_turn(recording["speaker"], np.concatenate(chunks)))

    async def on_set_language(self, message: dict[str, Any]) -> None:
        code = message.get("language")
        if not isinstance(code, str):
            raise ProtocolError("set_language needs a language code")
        try:
            self.conversation.set_language(code)
        except LanguageError as exc:
            self.send({"type": "error", "text": str(exc), "code": exc.code})
        self.send_state()

    async def on_edit(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        turn_id = message.get("turn_id")
        if not isinstance(text, str) or not text.strip() or not isinstance(turn_id, str):
            raise ProtocolError("edit needs a turn_id and a non-empty text")
        try:
            turn = self.conversation.get(turn_id)
        except KeyError:
            raise ProtocolError(f"no turn {turn_id[:20]!r} in this conversation") from None
        if turn.kind == "phrase":
            raise ProtocolError("phrase book sentences cannot be edited")
        self._claim()
        turn.source_text = text.strip()
        turn.edits += 1
        self.spawn(self._text_turn(turn))

    async def on_text_turn(self, message: dict[str, Any]) -> None:
        speaker = _speaker(message.get("speaker"))
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ProtocolError("text needs a non-empty text")
        source, target = self.conversation.pair(speaker)
        if source is None or target is None:
            self.send(
                {"type": "error", "text": "choose the resident's language first", "code": "no_language"}
            )
            return
        self._claim()
        turn = Turn(
            turn_id=self.conversation.new_turn_id(),
            speaker=speaker,
            kind="text",
            source_language=source,
            source_text=text.strip(),
            target_language=target,
        )
        self.conversation.add(turn)
        self.spawn(self._text_turn(turn))

    async def on_phrase(self, message: dict[str, Any]) -> None:
        phrase_id = message.get("phrase_id")
        if not isinstance(phrase_id, str):
            raise ProtocolError("phrase needs a phrase_id")
        try:
            self.service.phrases.get(phrase_id)
        except KeyError:
            raise ProtocolError(f"no phrase {phrase_id[:60]!r}") from None
        language = self.conversation.resident_language
        if language is None:
            self.send(
                {"type": "error", "text": "choose the resident's language first", "code": "no_language"}
            )
            return
        self._claim()
        self.spawn(self._phrase_turn(phrase_id, language))

    async def on_playback(self, message: dict[str, Any]) -> None:
        self.playing = bool(message.get("playing"))
        if self.service._capture_owner is self:
            self.service.mute_capture(self.playing)
        if self.playing and self.recording is not None and self.recording["mode"] == "handsfree":
            self.abandon_recording()

    async def on_end(self, _message: dict[str, Any]) -> None:
        self.end_conversation("ended")

    def end_conversation(self, reason: str) -> None:
        """Erase the conversation and tell the page to clear itself."""
        self.recording = None
        self._segmenter = None
        self.abandon_recording()
        self.service.detach_capture(self)
        self.conversation.erase()
        self.send({"type": "conversation_ended", "reason": reason})
        self.send_state()

    def _claim(self) -> None:
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        self.busy = True

    # -- turns ------------------------------------------------------------------------------------

    async def _audio_turn(self, speaker: str, audio: np.ndarray) -> None:
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        try:
            source, target = self.conversation.pair(speaker)  # type: ignore[arg-type]
            if target is None:
                self.send(
                    {"type": "error", "text": "choose the resident's language first", "code": "no_language"}
                )
                return
            if pipe is None:
                self.send({"type": "error", "text": "the models are still loading", "code": "not_ready"})
                return
            turn_id = self.conversation.new_turn_id()
            self.send({"type": "turn_started", "turn_id": turn_id, "speaker": speaker, "kind": "speech"})
            emit = self._emitter(turn_id, speaker, "speech")
            try:
                result = await self.service.run_locked(pipe.run_turn, audio, source or "auto", target, emit)
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
            self.send(
                {
                    "type": "notice",
                    "text": f"heard {ENGLISH_NAMES.get(language, language)}; "
                    "ask the resident to choose their language",
                    "code": "language_unconfirmed",
                }
            )

    async def _text_turn(self, turn: Turn) -> None:
        pipe = self.service.pipeline
        conversation_id = self.conversation.conversation_id
        try:
            if pipe is None:
                self.send({"type": "error", "text": "the models are still loading", "code": "not_ready"})
                return
            self.send(
                {"type": "turn_started", "turn_id": turn.turn_id, "speaker": turn.speaker, "kind": turn.kind}
            )
            self._send_transcript(
                turn.turn_id, turn.speaker, turn.source_text, turn.source_language, turn.kind
            )
            emit = self._emitter(turn.turn_id, turn.speaker, turn.kind)
            try:
                result = await self.service.run_locked(
                    pipe.translate_text, turn.source_text, turn.source_language, turn.target_language, emit
                )
            except EdgeError:
                return
            if self.closed or self.conversation.conversation_id != conversation_id:
                return
            turn.target_text, turn.mt_engine = result.target_text, result.mt_engine
            turn.terms = list(result.terms_applied)
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
                self.send(
                    {
                        "type": "notice",
                        "text": f"this phrase has no {ENGLISH_NAMES.get(language, language)} version yet",
                        "code": "phrase_missing_language",
                        "turn_id": turn.turn_id,
                    }
                )
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
                    "ruby_html": _ruby_html(turn.target_text, language),
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
            pipe = self.service.pipeline
            voice = (getattr(pipe, "voices", {}) or {}).get(language)
            if voice is None or not turn.target_text:
                self.send(
                    {
                        "type": "notice",
                        "text": f"no {ENGLISH_NAMES.get(language, language)} voice: shown as text only",
                        "code": "voice_missing",
                        "turn_id": turn.turn_id,
                    }
                )
            else:
                await self.service.run_locked(self._speak_phrase, voice, turn.target_text, turn.turn_id)
            self.send(
                {"type": "turn_end", "turn_id": turn.turn_id, "speaker": "clerk", "engine": "phrasebook"}
            )
            usage = _PhraseUsage(source_language=STAFF_LANGUAGE, target_language=language)
            await asyncio.to_thread(self.service.count_turn, usage, phrase_id)
        finally:
            self.busy = False
            self.send_state()

    def _speak_phrase(self, voice: Any, text: str, turn_id: str) -> None:
        chunks = list(voice.synthesize(text))
        for position, chunk in enumerate(chunks):
            self.send_threadsafe(
                {
                    "type": "speech_audio",
                    "turn_id": turn_id,
                    "index": position,
                    "is_last": position == len(chunks) - 1,
                    "sample_rate": chunk.sample_rate,
                    "wav_base64": _wav_base64(chunk.pcm, chunk.sample_rate),
                }
            )

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
                "ruby_html": _ruby_html(text, language),
            }
        )
        return ids

    def _emitter(self, turn_id: str, speaker: str, kind: str) -> Callable[[Any], None]:
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
                        "ruby_html": _ruby_html(event.text, event.language),
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
                    }
                )
            elif isinstance(event, SpeechAudio):
                self.send_threadsafe(
                    {
                        "type": "speech_audio",
                        "turn_id": turn_id,
                        "index": event.index,
                        "is_last": event.is_last,
                        "sample_rate": event.sample_rate,
                        "wav_base64": _wav_base64(event.pcm, event.sample_rate),
                    }
                )
            elif isinstance(event, TurnError | Notice):
                self.send_threadsafe(
                    {"type": event.type, "text": event.text, "code": event.code, "turn_id": turn_id}
                )

        return emit


@dataclass
class _PhraseUsage:
    """The countable facts of a phrase turn (shaped like a ``TurnResult`` for ``TurnUsage.from_turn``)."""

    source_language: str
    target_language: str
    terms_applied: list[str] = field(default_factory=list)
    terms_fallback: list[str] = field(default_factory=list)
    flagged: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)


_HANDLERS: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "hello": Session.on_hello,
    "start": Session.on_start,
    "stop": Session.on_stop,
    "set_language": Session.on_set_language,
    "edit": Session.on_edit,
    "phrase": Session.on_phrase,
    "text": Session.on_text_turn,
    "playback": Session.on_playback,
    "end_conversation": Session.on_end,
}


def _ruby_html(text: str, language: str) -> str | None:
    """Furigana as escaped ruby HTML for Japanese text (``ja``, or a phrase-book ``ja-easy`` sentence
    used as written); None for other languages or when SudachiPy is missing."""
    if language not in (STAFF_LANGUAGE, "ja-easy") or not text:
        return None
    try:
        from edge.easy_ja import default_easy_japanese

        return str(default_easy_japanese().furigana(text).ruby_html)
    except (ImportError, EdgeError) as exc:
        _LOGGER.debug("no furigana: %s", exc)
        return None


def _speaker(value: Any) -> str:
    if value not in SPEAKERS:
        raise ProtocolError('speaker must be "clerk" or "resident"')
    return str(value)


def _matcher(glossary: Any | None) -> Any | None:
    if glossary is None:
        return None
    try:
        from glossary import TermMatcher

        return TermMatcher(glossary)
    except Exception as exc:  # marks are an aid; a broken matcher must not stop the counter
        _LOGGER.warning("glossary marks unavailable: %s", exc)
        return None


def _missing_hint(router: Any | None, source: str, target: str) -> str:
    if router is not None:
        with contextlib.suppress(Exception):
            return str(router.missing_hint(source, target))
    return f"no MT pack for {source}→{target}"


async def _idle_watch(session: Session) -> None:
    timeout = session.conversation.idle_timeout_s
    if timeout <= 0:
        return
    interval = max(0.05, min(1.0, timeout / 4))
    while not session.closed:
        await asyncio.sleep(interval)
        if not session.busy and not session.hearing_speech() and session.conversation.expired():
            session.end_conversation("idle")


async def _serve_socket(service: CounterService, websocket: WebSocket) -> None:
    await websocket.accept()
    session = Session(service, websocket)
    service.sessions[id(session)] = session
    sender = asyncio.create_task(session.sender())
    watcher = asyncio.create_task(_idle_watch(session))
    session.send(session._hello())
    session.send_state()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                if message.get("bytes") is not None:
                    session.on_binary(message["bytes"])
                elif message.get("text") is not None:
                    await session.on_text(message["text"])
            except EdgeError as exc:
                session.send({"type": "error", "text": str(exc), "code": exc.code})
    except WebSocketDisconnect:
        pass
    finally:
        service.sessions.pop(id(session), None)
        await session.close()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(sender, timeout=1.0)
        _LOGGER.debug("counter connection closed; conversation erased")


def create_app(
    settings: EdgeSettings | None = None,
    *,
    pipeline: Any | None = None,
    glossary: Any | None = None,
    outbox: Any | None = None,
    options: CounterOptions | None = None,
    capture_factory: Callable[..., Any] | None = None,
) -> FastAPI:
    """Build the counter app.

    Args:
        settings: Device settings (enabled languages, idle timeout); default from the environment.
        pipeline: A loaded ``TurnPipeline`` (None: text-less status page; turns answer "not ready").
        glossary: The glossary for term marks and the phrase book (default: the bundled one).
        outbox: An ``edge.outbox.Outbox`` for usage counters (None: nothing is counted).
        options: Counter behaviour (default: from ``settings``).
        capture_factory: Opens the device microphone (default: sounddevice).
    """
    if settings is None:
        from edge.config import load_settings

        settings = load_settings()
    if options is None:
        options = CounterOptions(idle_timeout_s=settings.idle_timeout_s, reviewed_only=settings.reviewed_only)
    if glossary is None:
        from edge import engines

        glossary = engines.load_glossary()
    service = CounterService(
        pipeline,
        glossary=glossary,
        outbox=outbox,
        options=options,
        languages=tuple(settings.languages),
        capture_factory=capture_factory,
    )
    app = FastAPI(title="madoguchi counter", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.counter = service

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/status")
    async def status() -> JSONResponse:
        return JSONResponse(service.status())

    @app.get("/api/phrases")
    async def phrases() -> JSONResponse:
        return JSONResponse(
            {"situations": service.phrases.grouped(), "languages": service.resident_languages}
        )

    @app.get("/api/texts")
    async def texts() -> JSONResponse:
        data = screen_texts()
        data["interpreter_note"] = options.interpreter_note
        data["resident_languages"] = list(service.resident_languages)
        return JSONResponse(data)

    @app.get("/api/devices")
    async def devices() -> JSONResponse:
        from edge.capture import list_input_devices

        try:
            found = await asyncio.to_thread(list_input_devices)
        except AudioDeviceError as exc:
            return JSONResponse({"devices": [], "selected": options.mic_device, "error": str(exc)})
        return JSONResponse({"devices": found, "selected": options.mic_device, "error": None})

    @app.get("/api/terms/{term_id}")
    async def term(term_id: str) -> JSONResponse:
        info = service.term_info([term_id], "en") if glossary is not None else {}
        if term_id not in info:
            raise HTTPException(status_code=404, detail="Term not found")
        return JSONResponse({"id": term_id, **info[term_id]})

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await _serve_socket(service, websocket)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


# --- ``madoguchi edge run`` ----------------------------------------------------------------------------


@dataclass
class LocalServer:
    """A central server started beside the counter (``--with-local-server``)."""

    process: Any
    url: str
    home: Path


def start_local_server(home: Path, port: int, *, timeout_s: float = 60.0) -> LocalServer:
    """Start ``madoguchi server run`` on SQLite under ``home/local-server`` and wait until it answers.

    Raises:
        ConfigError: the server package is missing or the server did not come up.
    """
    import os
    import subprocess
    import sys
    import time

    import httpx

    from edge.errors import ConfigError

    try:
        import server.cli  # noqa: F401 - only checks that the server package is installed
    except ImportError as exc:
        raise ConfigError(
            f"the central server is not installed ({exc}); run without --with-local-server"
        ) from exc
    server_home = home / "local-server"
    server_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(server_home)}
    log = (server_home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "server", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(
                f"the local server exited (code {process.returncode}); see {server_home / 'server.log'}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2.0).status_code == 200:
                return LocalServer(process, url, server_home)
        time.sleep(0.5)
    process.terminate()
    raise ConfigError(
        f"the local server did not answer within {timeout_s:.0f} s; see {server_home / 'server.log'}"
    )


def enroll_with_local_server(local: LocalServer, settings: EdgeSettings) -> str:
    """Enroll this device with the local server unless it already is; returns what happened."""
    import os
    import socket
    import subprocess
    import sys

    from edge.errors import ConfigError
    from edge.sync import enroll, enrollment_paths

    paths = enrollment_paths(settings.home, settings.token_path, settings.pubkey_path)
    if paths.server_url == local.url and paths.token_path.exists():
        return f"already enrolled with {local.url}"
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(local.home)}
    device = f"{socket.gethostname()}-{os.getpid()}"
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi", "server", "enroll", "--site", "local", "--device", device],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    token = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not token:
        raise ConfigError(f"could not enroll with the local server: {done.stderr.strip()[-200:]}")
    enroll(local.url, token, local.home / "glossary-signing.pub", settings.home)
    return f"enrolled as local/{device} with {local.url}"


def run_command(
    port: int | None = None,
    host: str | None = None,
    with_local_server: bool = False,
    server_port: int = 8470,
    interpreter_note: str | None = None,
    https: bool = False,
    mic_device: str | None = None,
) -> None:
    """Start the counter: load the models, serve the page and print its URL."""
    import os

    import typer
    import uvicorn

    from edge.config import load_settings
    from edge.errors import ConfigError
    from edge.pipeline import TurnPipeline

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    local: LocalServer | None = None
    if with_local_server:
        try:
            local = start_local_server(settings.home, server_port)
            typer.echo(f"local central server: {local.url} (console {local.url}/, data {local.home})")
            typer.echo(enroll_with_local_server(local, settings))
        except (ConfigError, EdgeError) as exc:
            typer.echo(f"note: --with-local-server: {exc}; the counter runs standalone", err=True)
    typer.echo("loading models (speech recognition, translation, voices)...")
    pipeline = TurnPipeline.from_settings(settings)
    outbox = _open_outbox(settings)
    note = interpreter_note or os.environ.get("MADOGUCHI_INTERPRETER_NOTE")
    device: int | str | None = int(mic_device) if mic_device and mic_device.isdigit() else mic_device
    options = CounterOptions(
        idle_timeout_s=settings.idle_timeout_s, reviewed_only=settings.reviewed_only, mic_device=device
    )
    if note:
        options = dataclasses.replace(options, interpreter_note=note)
    app = create_app(settings, pipeline=pipeline, outbox=outbox, options=options)
    _attach_sync(app, settings, outbox)
    status = app.state.counter.status()
    for row in status["languages"]:
        if row["notes"]:
            typer.echo(f"  {row['code']}: " + "; ".join(row["notes"]))
    ssl: dict[str, str] = {}
    if https:
        from edge.tls import default_names, ensure_tls

        tls = ensure_tls(settings.home / "tls", default_names(host))
        ssl = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
        typer.echo(f"HTTPS for {', '.join(tls.names)}; install {tls.ca_cert} once on the tablets as a root")
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    scheme = "https" if https else "http"
    typer.echo(f"counter ready: {scheme}://{shown}:{port}/  (Ctrl+C to stop)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", **ssl)  # type: ignore[arg-type]
    finally:
        if local is not None:
            local.process.terminate()
            with contextlib.suppress(Exception):
                local.process.wait(timeout=10)


def _open_outbox(settings: EdgeSettings) -> Any | None:
    try:
        from edge.outbox import Outbox
        from edge.sync import enrollment_paths

        return Outbox(enrollment_paths(settings.home).outbox_path)
    except EdgeError as exc:
        _LOGGER.warning("usage outbox unavailable: %s", exc)
        return None


def _attach_sync(app: FastAPI, settings: EdgeSettings, outbox: Any | None) -> None:
    """Sync glossary, usage and heartbeats in the background when the device is enrolled."""
    from edge.sync import client_from_home

    try:
        client = client_from_home(
            settings.home, token_path=settings.token_path, pubkey_path=settings.pubkey_path
        )
    except EdgeError:
        return
    if outbox is not None:
        client.outbox.close()
        client.outbox = outbox
    stop = asyncio.Event()

    @app.on_event("startup")
    async def _start_sync() -> None:
        app.state.sync_task = asyncio.create_task(client.run(stop))

    @app.on_event("shutdown")
    async def _stop_sync() -> None:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.state.sync_task, timeout=5)
        await client.aclose()
