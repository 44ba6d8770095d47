"""One WebSocket connection of the counter page: its conversation, recording and outgoing queue.

Each connection is one conversation (``edge.conversation``), held in memory only and erased when it
ends, after ``idle_timeout_s``, or when the page disconnects. Messages are parsed by ``edge.ui_protocol``;
the turns themselves run in ``edge.ui_turns``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from edge.audio import SAMPLE_RATE
from edge.conversation import Conversation, Turn
from edge.errors import AudioDeviceError, EdgeError, LanguageError
from edge.phrases import EXTRA_PICKER_LANGUAGES
from edge.ui_live import LiveRecognition
from edge.ui_protocol import (
    MODES,
    PROTOCOL_VERSION,
    SOURCES,
    ProtocolError,
    check_device,
    check_protocol,
    check_speaker,
    check_turn_id,
    error,
    notice,
    parse_message,
)
from edge.ui_service import CounterService
from edge.ui_turns import SessionTurns
from edge.vad import Segmenter, Utterance

_LOGGER = logging.getLogger(__name__)

_NO_LANGUAGE = "choose the resident's language first"


class Session(SessionTurns):
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
        self.held: set[str] = set()  # turns whose speech waits for "OK, speak"
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.live = LiveRecognition(
            service.pipeline,
            self.send_threadsafe,
            enabled=self.options.live_transcript,
            streaming=self.options.streaming,
            endpoint=self.options.endpoint,
        )

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
        self.live.cancel()
        self.service.detach_capture(self)
        self.conversation.erase()
        self.held.clear()
        self._queue.put_nowait(None)
        for task in list(self._tasks):
            task.cancel()

    # -- receiving --------------------------------------------------------------------------------

    async def on_text(self, raw: str) -> None:
        """Handle one JSON control message."""
        message = parse_message(raw, self.options.max_text_bytes)
        self.conversation.touch()
        await _HANDLERS[message["type"]](self, message)

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
            self._segmented(self.live.push(self._segmenter, samples))
            return
        self._chunks.append(samples)
        self._samples += samples.size
        if self._samples >= self.options.max_utterance_s * SAMPLE_RATE:
            self.send(notice("the recording reached its maximum length", "max_length"))
            self._finish_ptt()

    def _segmented(self, outputs: list[Any]) -> None:
        """Hands-free segmenter outputs: VAD events to the page, a finished utterance to a turn."""
        for item in outputs:
            if isinstance(item, Utterance) and self.recording is not None:
                self.busy = True
                self.spawn(self._audio_turn(self.recording["speaker"], item.audio, self.live.take()))
            elif not isinstance(item, Utterance):
                self.send({"type": "vad", "event": item.type.replace("-", "_")})

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
        self.live.cancel()
        if self._segmenter is not None:
            self._segmenter.reset()

    # -- message handlers ------------------------------------------------------------------------

    async def on_hello(self, message: dict[str, Any]) -> None:
        check_protocol(message.get("protocol", PROTOCOL_VERSION))
        self.send(self.hello())

    def hello(self) -> dict[str, Any]:
        """The server's ``hello``."""
        from madoguchi import __version__

        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "sample_rate": SAMPLE_RATE,
            "max_frame_bytes": self.options.max_frame_bytes,
            "confirm_before_speaking": self.options.confirm_before_speaking,
            "glossary_version": self.service.glossary_info.version,
        }

    async def on_start(self, message: dict[str, Any]) -> None:
        speaker = check_speaker(message.get("speaker"))
        mode = message.get("mode", "ptt")
        source = message.get("source", "browser")
        if mode not in MODES:
            raise ProtocolError(f"mode must be one of {', '.join(MODES)}")
        if source not in SOURCES:
            raise ProtocolError(f"source must be one of {', '.join(SOURCES)}")
        device = check_device(message.get("device"))
        rate = message.get("sample_rate", SAMPLE_RATE)
        if source == "browser" and rate != SAMPLE_RATE:
            text = f"sample rate {rate!r} is not supported; send 16000 Hz mono int16 PCM"
            self.send(error(text, "sample_rate"))
            return
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        if speaker == "clerk" and self.conversation.resident_language is None:
            self.send(error(_NO_LANGUAGE, "no_language"))
            return
        if self.recording is not None and self.recording.get("source") != source:
            self.service.detach_capture(self)
        self.abandon_recording()
        self.recording = {"speaker": speaker, "mode": mode, "source": source}
        pair = self.conversation.pair(speaker)  # type: ignore[arg-type]
        if mode == "handsfree":
            self._segmenter = self.live.segmenter(self.options.vad)
            self.live.set_pair(speaker, *pair)
        else:
            chunks = self._chunks
            self.live.begin(speaker, *pair, lambda: _joined(chunks))
        if source == "device":
            try:
                self.service.attach_capture(self, device)
            except AudioDeviceError as exc:
                self.recording = None
                self.send(error(str(exc), exc.code))
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
        live = self.live.take()
        if samples < self.options.min_utterance_s * SAMPLE_RATE:
            if live is not None:
                live.cancel()
            self.send(error("too short: hold the button while speaking", "too_short"))
            return
        self.busy = True
        self.spawn(self._audio_turn(recording["speaker"], np.concatenate(chunks), live))

    async def on_end_utterance(self, _message: dict[str, Any]) -> None:
        """A tap: end the hands-free utterance now (push-to-talk: the same as releasing)."""
        if self.recording is None:
            return
        if self.recording["mode"] == "ptt":
            await self.on_stop(_message)
        elif self._segmenter is not None and not self.busy:
            self._segmented(self._segmenter.end_now())

    async def on_set_language(self, message: dict[str, Any]) -> None:
        code = message.get("language")
        if not isinstance(code, str):
            raise ProtocolError("set_language needs a language code")
        try:
            self.conversation.set_language(code)
        except LanguageError as exc:
            self.send(error(str(exc), exc.code))
        self.send_state()

    async def on_edit(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        turn_id = message.get("turn_id")
        if not isinstance(text, str) or not text.strip() or not isinstance(turn_id, str):
            raise ProtocolError("edit needs a turn_id and a non-empty text")
        turn = self._turn(turn_id)
        if turn.kind == "phrase":
            raise ProtocolError("phrase book sentences cannot be edited")
        self._claim()
        turn.source_text = text.strip()
        turn.edits += 1
        self.held.discard(turn.turn_id)
        self.spawn(self._text_turn(turn))

    async def on_text_turn(self, message: dict[str, Any]) -> None:
        speaker = check_speaker(message.get("speaker"))
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ProtocolError("text needs a non-empty text")
        source, target = self.conversation.pair(speaker)  # type: ignore[arg-type]
        if source is None or target is None:
            self.send(error(_NO_LANGUAGE, "no_language"))
            return
        self._claim()
        turn = Turn(
            turn_id=self.conversation.new_turn_id(),
            speaker=speaker,  # type: ignore[arg-type]
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
            self.send(error(_NO_LANGUAGE, "no_language"))
            return
        self._claim()
        self.spawn(self._phrase_turn(phrase_id, language))

    async def on_speak(self, message: dict[str, Any]) -> None:
        """ "OK, speak": speak a translation held for confirmation."""
        turn = self._turn(check_turn_id(message.get("turn_id"), "speak"))
        if turn.turn_id not in self.held:
            raise ProtocolError(f"turn {turn.turn_id!r} is not waiting to be spoken")
        self._claim()
        self.held.discard(turn.turn_id)
        self.spawn(self._confirmed_speech(turn))

    async def on_playback(self, message: dict[str, Any]) -> None:
        self.playing = bool(message.get("playing"))
        if self.service.owns_capture(self):
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
        self.held.clear()
        self.send({"type": "conversation_ended", "reason": reason})
        self.send_state()

    def _claim(self) -> None:
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        self.busy = True

    def _turn(self, turn_id: str) -> Turn:
        try:
            return self.conversation.get(turn_id)
        except KeyError:
            raise ProtocolError(f"no turn {turn_id[:20]!r} in this conversation") from None


_HANDLERS: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "hello": Session.on_hello,
    "start": Session.on_start,
    "stop": Session.on_stop,
    "end_utterance": Session.on_end_utterance,
    "set_language": Session.on_set_language,
    "edit": Session.on_edit,
    "phrase": Session.on_phrase,
    "text": Session.on_text_turn,
    "speak": Session.on_speak,
    "playback": Session.on_playback,
    "end_conversation": Session.on_end,
}


def _joined(chunks: list[np.ndarray]) -> np.ndarray:
    """The push-to-talk audio so far (called from the recognition worker: copies the list first)."""
    parts = list(chunks)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


async def _idle_watch(session: Session) -> None:
    timeout = session.conversation.idle_timeout_s
    if timeout <= 0:
        return
    interval = max(0.05, min(1.0, timeout / 4))
    while not session.closed:
        await asyncio.sleep(interval)
        if not session.busy and not session.hearing_speech() and session.conversation.expired():
            session.end_conversation("idle")


async def serve_socket(service: CounterService, websocket: WebSocket) -> None:
    """Run one counter connection until the page goes away (then erase its conversation)."""
    await websocket.accept()
    session = Session(service, websocket)
    service.sessions[id(session)] = session
    sender = asyncio.create_task(session.sender())
    watcher = asyncio.create_task(_idle_watch(session))
    session.send(session.hello())
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
                session.send(error(str(exc), exc.code))
    except WebSocketDisconnect:
        pass
    finally:
        service.sessions.pop(id(session), None)
        await session.close()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(sender, timeout=1.0)
        _LOGGER.debug("counter connection closed; conversation erased")
