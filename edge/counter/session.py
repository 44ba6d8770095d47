"""One WebSocket connection of the counter page: its conversation, recording and outgoing queue.

Each connection is one conversation (``edge.turn.conversation``), held in memory only and erased when it
ends, after ``idle_timeout_s``, or when the page disconnects. Messages are parsed by
``edge.counter.protocol``; the turns themselves run in ``edge.counter.turns``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from edge.audio.decode import SAMPLE_RATE
from edge.audio.vad import Segmenter, Utterance
from edge.counter.live import LiveRecognition
from edge.counter.messages import ConversationEnded, Error, Hello, Notice, ServerMessage, State, Vad
from edge.counter.phrases import EXTRA_PICKER_LANGUAGES
from edge.counter.protocol import PROTOCOL_VERSION, ProtocolError
from edge.counter.requests import (
    ClerkVoice,
    ClientRequest,
    Edit,
    EndConversation,
    EndUtterance,
    HelloRequest,
    PhraseRequest,
    Playback,
    SetLanguage,
    Speak,
    Start,
    Stop,
    TextTurn,
    parse_request,
)
from edge.counter.service import CounterService
from edge.counter.turns import TurnRunner
from edge.errors import AudioDeviceError, EdgeError, LanguageError
from edge.turn.conversation import Conversation, Turn

_LOGGER = logging.getLogger(__name__)

_NO_LANGUAGE = "choose the resident's language first"


class Session:
    """One WebSocket connection: its conversation, recording and outgoing queue.

    Turns run in its ``TurnRunner`` (``self.turns``), which reports back through ``send``.
    """

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
        self._vad_frames: asyncio.Queue[tuple[Segmenter, np.ndarray | None]] = asyncio.Queue()
        self.busy = False
        self.playing = False
        self.closed = False
        self.clerk_voice = bool(getattr(service.options, "speak_to_clerk", True))
        self.held: set[str] = set()  # turns whose speech waits for "OK, speak"
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.turns = TurnRunner(self)
        self.live = LiveRecognition(
            service.pipeline,
            self.send_threadsafe,
            enabled=self.options.live_transcript,
            streaming=self.options.streaming,
            endpoint=self.options.endpoint,
        )

    # -- sending --------------------------------------------------------------------------------

    def send(self, message: ServerMessage) -> None:
        """Queue an event for the page (safe from the event loop)."""
        if not self.closed:
            self._queue.put_nowait(message.to_json())

    def send_threadsafe(self, message: ServerMessage) -> None:
        """Queue an event from a worker thread."""
        self._loop.call_soon_threadsafe(self.send, message)

    def send_state(self) -> None:
        """Tell the page the conversation state."""
        self.send(State(self.conversation.snapshot(), self.recording, self.busy))

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
        self._forget_conversation()
        self._queue.put_nowait(None)
        for task in list(self._tasks):
            task.cancel()

    # -- receiving --------------------------------------------------------------------------------

    async def on_text(self, raw: str) -> None:
        """Handle one JSON control message."""
        request = parse_request(raw, self.options.max_text_bytes)
        self.conversation.touch()
        await _HANDLERS[type(request)](self, request)

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
            self._vad_frames.put_nowait((self._segmenter, samples))  # Silero runs in a worker thread
            return
        self._chunks.append(samples)
        self._samples += samples.size
        if self._samples >= self.options.max_utterance_s * SAMPLE_RATE:
            self.send(Notice("the recording reached its maximum length", "max_length"))
            self._finish_ptt()

    def hearing_speech(self) -> bool:
        """True while push-to-talk is held or hands-free hears someone speaking."""
        if self.recording is None:
            return False
        if self.recording["mode"] == "ptt":
            return True
        return self._segmenter is not None and self._segmenter.in_speech

    async def vad_worker(self) -> None:
        """Run hands-free end-pointing off the event loop, one frame after the other.

        Frames queued for a segmenter that has since been replaced (a reset, a new recording) are
        dropped, and so is what it found.
        """
        while True:
            segmenter, samples = await self._vad_frames.get()
            if segmenter is not self._segmenter:
                continue
            if samples is None:  # a tap: end the utterance now
                found = await asyncio.to_thread(segmenter.end_now)
            else:  # end-pointing waits for the end of a sentence (edge.counter.live)
                found = await asyncio.to_thread(self.live.push, segmenter, samples)
            for item in found:
                if segmenter is not self._segmenter or self.recording is None or self.busy:
                    break
                if isinstance(item, Utterance):
                    self.busy = True
                    live = self.live.take()
                    self.spawn(self.turns.audio_turn(self.recording["speaker"], item.audio, live))
                else:
                    self.send(Vad(item.type.replace("-", "_")))

    def abandon_recording(self) -> None:
        """Drop the audio of an unfinished utterance (hands-free starts afresh with a new segmenter)."""
        self._chunks, self._samples = [], 0
        self.live.cancel()
        if self._segmenter is not None:
            self._segmenter = self.live.segmenter(self.options.vad)

    # -- message handlers ------------------------------------------------------------------------

    async def on_hello(self, _request: HelloRequest) -> None:
        self.send(self.hello())

    def hello(self) -> Hello:
        """The counter's ``hello``."""
        from madoguchi import __version__

        return Hello(
            protocol=PROTOCOL_VERSION,
            version=__version__,
            sample_rate=SAMPLE_RATE,
            max_frame_bytes=self.options.max_frame_bytes,
            confirm_before_speaking=self.options.confirm_before_speaking,
            glossary_version=self.service.glossary_info.version,
            speak_to_clerk=self.clerk_voice,
        )

    async def on_start(self, request: Start) -> None:
        if request.source == "browser" and request.sample_rate != SAMPLE_RATE:
            text = f"sample rate {request.sample_rate!r} is not supported; send 16000 Hz mono int16 PCM"
            self.send(Error(text, "sample_rate"))
            return
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        if request.speaker == "clerk" and self.conversation.resident_language is None:
            self.send(Error(_NO_LANGUAGE, "no_language"))
            return
        if self.recording is not None and self.recording.get("source") != request.source:
            self.service.detach_capture(self)
        self.abandon_recording()
        self.recording = {"speaker": request.speaker, "mode": request.mode, "source": request.source}
        pair = self.conversation.pair(request.speaker)  # type: ignore[arg-type]
        if request.mode == "handsfree":
            self._segmenter = self.live.segmenter(self.options.vad)
            self.live.set_pair(request.speaker, *pair)
        else:  # recognise while the button is held
            chunks = self._chunks
            self.live.begin(request.speaker, *pair, lambda: _joined(chunks))
        if request.source == "device":
            try:
                await self.service.attach_capture(self, request.device)
            except AudioDeviceError as exc:
                self.recording = None
                self.send(Error(str(exc), exc.code))
                return
        self.send_state()

    async def on_stop(self, _request: Stop) -> None:
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
            self.send(Error("too short: hold the button while speaking", "too_short"))
            return
        self.busy = True
        self.spawn(self.turns.audio_turn(recording["speaker"], np.concatenate(chunks), live))

    async def on_end_utterance(self, request: EndUtterance) -> None:
        """A tap: end the hands-free utterance now (push-to-talk: the same as releasing)."""
        if self.recording is None:
            return
        if self.recording["mode"] == "ptt":
            await self.on_stop(Stop())
        elif self._segmenter is not None and not self.busy:
            self._vad_frames.put_nowait((self._segmenter, None))  # after the frames already queued

    async def on_set_language(self, request: SetLanguage) -> None:
        try:
            self.conversation.set_language(request.language)
        except LanguageError as exc:
            self.send(Error(str(exc), exc.code))
        self.send_state()

    async def on_edit(self, request: Edit) -> None:
        turn = self._turn(request.turn_id)
        if turn.kind == "phrase":
            raise ProtocolError("phrase book sentences cannot be edited")
        self._claim()
        turn.source_text = request.text
        turn.edits += 1
        self.held.discard(turn.turn_id)
        self.spawn(self.turns.text_turn(turn))

    async def on_text_turn(self, request: TextTurn) -> None:
        source, target = self.conversation.pair(request.speaker)  # type: ignore[arg-type]
        if source is None or target is None:
            self.send(Error(_NO_LANGUAGE, "no_language"))
            return
        self._claim()
        turn = Turn(
            turn_id=self.conversation.new_turn_id(),
            speaker=request.speaker,  # type: ignore[arg-type]
            kind="text",
            source_language=source,
            source_text=request.text,
            target_language=target,
        )
        self.conversation.add(turn)
        self.spawn(self.turns.text_turn(turn))

    async def on_phrase(self, request: PhraseRequest) -> None:
        try:
            self.service.phrases.get(request.phrase_id)
        except KeyError:
            raise ProtocolError(f"no phrase {request.phrase_id[:60]!r}") from None
        language = self.conversation.resident_language
        if language is None:
            self.send(Error(_NO_LANGUAGE, "no_language"))
            return
        self._claim()
        self.spawn(self.turns.phrase_turn(request.phrase_id, language))

    async def on_speak(self, request: Speak) -> None:
        """ "OK, speak": speak a translation held for confirmation."""
        turn = self._turn(request.turn_id)
        if turn.turn_id not in self.held:
            raise ProtocolError(f"turn {turn.turn_id!r} is not waiting to be spoken")
        self._claim()
        self.held.discard(turn.turn_id)
        self.spawn(self.turns.confirmed_speech(turn))

    async def on_playback(self, request: Playback) -> None:
        self.playing = request.playing
        if self.service.owns_capture(self):
            self.service.mute_capture(self.playing)
        if self.playing and self.recording is not None and self.recording["mode"] == "handsfree":
            self.abandon_recording()

    async def on_clerk_voice(self, request: ClerkVoice) -> None:
        """The clerk turns the spoken Japanese replies on or off (from the next turn on)."""
        self.clerk_voice = request.on

    async def on_end(self, _request: EndConversation) -> None:
        self.end_conversation("ended")

    def end_conversation(self, reason: str) -> None:
        """Erase the conversation and tell the page to clear itself."""
        self.recording = None
        self._segmenter = None
        self._forget_conversation()
        self.send(ConversationEnded(reason))
        self.send_state()

    def _forget_conversation(self) -> None:
        """Drop the recording, the recogniser's held speech, the capture, the texts and held replies."""
        self.abandon_recording()
        self.live.forget()
        self.service.detach_capture(self)
        self.conversation.erase()
        self.held.clear()

    def turn_finished(self) -> None:
        """A turn ended: hands-free listens afresh."""
        if self._segmenter is not None:
            self._segmenter = self.live.segmenter(self.options.vad)

    def _claim(self) -> None:
        if self.busy:
            raise ProtocolError("still working on the previous turn; wait for it to finish")
        self.busy = True

    def _turn(self, turn_id: str) -> Turn:
        try:
            return self.conversation.get(turn_id)
        except KeyError:
            raise ProtocolError(f"no turn {turn_id[:20]!r} in this conversation") from None


_HANDLERS: dict[type[ClientRequest], Callable[[Session, Any], Any]] = {
    HelloRequest: Session.on_hello,
    Start: Session.on_start,
    Stop: Session.on_stop,
    EndUtterance: Session.on_end_utterance,
    SetLanguage: Session.on_set_language,
    Edit: Session.on_edit,
    PhraseRequest: Session.on_phrase,
    TextTurn: Session.on_text_turn,
    Speak: Session.on_speak,
    Playback: Session.on_playback,
    ClerkVoice: Session.on_clerk_voice,
    EndConversation: Session.on_end,
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
    vad = asyncio.create_task(session.vad_worker())
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
                session.send(Error(str(exc), exc.code))
    except WebSocketDisconnect:
        pass
    finally:
        service.sessions.pop(id(session), None)
        await session.close()
        watcher.cancel()
        vad.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(sender, timeout=1.0)
        _LOGGER.debug("counter connection closed; conversation erased")
