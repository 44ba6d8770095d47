"""What every counter connection shares: the pipeline and its lock, the glossary, the outbox, the device mic.

One ``TurnPipeline`` (models loaded once) serves every connection, one call at a time
(``run_locked``: blocking inference in ``asyncio.to_thread``). The glossary is the signed one synced
from the central server when the device holds one (``GlossaryStore``), else the bundled one; a sync that
installs a newer version swaps it in between turns (term marks, phrase book and MT enforcement).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from edge.audio.endpoint import EndpointOptions
from edge.audio.vad import VadOptions
from edge.counter.messages import Error, GlossaryChanged, Notice, ServerMessage
from edge.counter.pairing import LOOPBACK_HOSTS
from edge.counter.phrases import PhraseBook
from edge.counter.protocol import PROTOCOL_VERSION
from edge.counter.readiness import language_rows
from edge.errors import AudioDeviceError, EdgeError
from edge.speech.streaming import StreamingOptions
from glossary.languages import RESIDENT_LANGUAGES, STAFF_LANGUAGE

if TYPE_CHECKING:
    from edge.config import EdgeSettings


class Session(Protocol):
    """What the service needs of a connection: a way to reach its page and to feed it audio."""

    def send(self, message: ServerMessage) -> None: ...

    def send_threadsafe(self, message: ServerMessage) -> None: ...

    def feed(self, samples: np.ndarray) -> None: ...


_LOGGER = logging.getLogger(__name__)


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
        reviewed_only: Offer reviewed phrases only and withhold draft terms' translations.
        mic_device: The device microphone: PortAudio index or part of its name (None = default input).
        confirm_before_speaking: Show each translation and speak it only after "OK, speak" (bool).
        speak_to_clerk: Speak the resident's translated replies to the clerk in Japanese, at first (the
            clerk switches it per conversation page with ``clerk_voice``).
        pairing: Tablets on other addresses must pair with the device's code (None: only when the
            counter listens on a non-loopback address).
        trusted_hosts: Client addresses that never need pairing (the device itself).
        allowed_hosts: Names the counter answers to in ``Host`` (None: loopback names, plus the
            device's host name, LAN address and ``lan_names`` when it listens beyond loopback).
        live_transcript: Recognise while the speaker speaks: tentative transcripts on the page, a
            shorter final decode, hands-free end-pointing that waits for the end of a sentence.
        streaming: Cadence and reuse of recognition while speaking.
        endpoint: Hands-free end-of-utterance silences (finished / unfinished sentence).
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
    confirm_before_speaking: bool = False
    speak_to_clerk: bool = True
    pairing: bool | None = None
    trusted_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    allowed_hosts: tuple[str, ...] | None = None
    live_transcript: bool = True
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)

    @classmethod
    def from_settings(cls, settings: EdgeSettings, **overrides: Any) -> CounterOptions:
        """The counter's options from the device settings (the only way the app makes them).

        ``overrides`` set what the settings do not hold (``mic_device``, ``pairing``, ...).
        """
        values: dict[str, Any] = {
            "idle_timeout_s": settings.idle_timeout_s,
            "reviewed_only": settings.reviewed_only,
            "confirm_before_speaking": settings.confirm_before_speaking,
            "speak_to_clerk": settings.speak_to_clerk,
            "back_translation": settings.back_translation,
        }
        return cls(**{**values, **overrides})


@dataclass(frozen=True)
class GlossaryInfo:
    """Which glossary the counter uses: ``source`` is ``synced`` or ``bundled``."""

    version: str | None
    source: str
    number: int | None = None


def installed_glossary(home: Path, pubkey_path: Path | None = None) -> tuple[Any, GlossaryInfo] | None:
    """The verified glossary synced from the central server, or None (not enrolled / none installed)."""
    from edge.sync.enrollment import enrollment_paths
    from edge.sync.glossary_store import GlossaryStore
    from glossary.errors import GlossaryError
    from glossary.signing import load_public_key

    paths = enrollment_paths(home, pubkey_path=pubkey_path)
    try:
        key = load_public_key(paths.pubkey_path.read_bytes())
    except (OSError, GlossaryError) as exc:
        _LOGGER.debug("no synced glossary: %s", exc)
        return None
    installed = GlossaryStore(paths.glossary_dir, key).load()
    if installed is None:
        return None
    statement = installed.statement
    return installed.glossary, GlossaryInfo(statement.version, "synced", statement.number)


class CounterService:
    """What all connections share: the pipeline and its lock, glossary, phrase book, outbox, device mic."""

    def __init__(
        self,
        pipeline: Any | None,
        *,
        glossary: Any | None = None,
        glossary_info: GlossaryInfo | None = None,
        outbox: Any | None = None,
        options: CounterOptions = CounterOptions(),
        languages: tuple[str, ...] | None = None,
        capture_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.outbox = outbox
        self.options = options
        enabled = languages or tuple(
            getattr(pipeline, "languages", ()) or (STAFF_LANGUAGE, *RESIDENT_LANGUAGES)
        )
        self.languages = enabled
        self.resident_languages = tuple(code for code in enabled if code != STAFF_LANGUAGE)
        self.lock = asyncio.Lock()
        self.sessions: dict[int, Session] = {}
        self._capture_factory = capture_factory
        self._capture: Any | None = None
        self._capture_device: int | str | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._capture_owner: Session | None = None
        self.glossary: Any | None = None
        self.glossary_info = GlossaryInfo(None, "none")
        self.phrases = PhraseBook(None)
        self.matcher: Any | None = None
        self.set_glossary(glossary, glossary_info)

    # -- glossary -------------------------------------------------------------------------------------

    def set_glossary(self, glossary: Any | None, info: GlossaryInfo | None = None) -> None:
        """Use ``glossary`` for marks, the phrase book and MT enforcement (call between turns)."""
        self.glossary = glossary
        self.glossary_info = info or GlossaryInfo(
            getattr(glossary, "version", None), "bundled" if glossary is not None else "none"
        )
        self.phrases = PhraseBook(glossary, reviewed_only=self.options.reviewed_only)
        self.matcher = _matcher(glossary)
        setter = getattr(self.pipeline, "set_glossary", None)
        if setter is not None and glossary is not None:
            setter(_reviewed_terms(glossary) if self.options.reviewed_only else glossary)

    async def reload_glossary(self, glossary: Any, info: GlossaryInfo) -> None:
        """Swap in a newly synced glossary once no turn is running, and tell every page."""
        async with self.lock:
            self.set_glossary(glossary, info)
        _LOGGER.info("counter now uses glossary %s (%s)", info.version, info.source)
        for session in list(self.sessions.values()):
            session.send(GlossaryChanged(info.version, info.source))

    # -- blocking work ------------------------------------------------------------------------------

    async def run_locked(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run blocking inference in a worker thread, one call at a time."""
        async with self.lock:
            return await asyncio.to_thread(fn, *args, **kwargs)

    def count_turn(self, result: Any, phrase_id: str | None = None) -> None:
        """Add a finished turn's counters (ids and counts only) to the outbox."""
        if self.outbox is None:
            return
        try:
            from edge.sync.outbox import TurnUsage

            self.outbox.add_turn(TurnUsage.from_turn(result, phrase_id=phrase_id))
        except EdgeError as exc:
            _LOGGER.warning("usage not counted: %s", exc)

    def voice_for(self, language: str) -> Any | None:
        """The loaded voice that speaks ``language`` (``ja-easy`` uses the Japanese voice)."""
        voices = getattr(self.pipeline, "voices", {}) or {}
        return voices.get(STAFF_LANGUAGE if language == "ja-easy" else language)

    # -- glossary marks -------------------------------------------------------------------------------

    def _withheld(self, term: Any) -> bool:
        """Reviewed-only counters show no approved translation of a draft term."""
        return self.options.reviewed_only and not bool(term.reviewed)

    def mark_terms(
        self, text: str, language: str, hints: list[str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Spans of glossary terms in ``text`` and their ids (Japanese by matching, others by hint ids).

        On a reviewed-only counter a draft term is marked in Japanese (as unreviewed) but its
        translation is not marked as approved in other languages.
        """
        spans: list[dict[str, Any]] = []
        glossary = self.glossary
        if not text or glossary is None:
            return spans, []
        if language == STAFF_LANGUAGE and self.matcher is not None:
            for match in self.matcher.find(text):
                spans.append({"start": match.start, "end": match.end, "term_id": match.term_id})
        else:
            lowered = text.lower()
            taken: list[tuple[int, int]] = []
            for term_id in dict.fromkeys(hints):
                try:
                    term = glossary.term(term_id)
                    surface = term.translation(language)
                except Exception:  # an unknown id must not break a turn
                    continue
                if not surface or self._withheld(term):
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
        """Details of each term for the tap-to-explain popup (``withheld``: translations not shown)."""
        info: dict[str, dict[str, Any]] = {}
        for term_id in term_ids:
            try:
                term = self.glossary.term(term_id)
            except Exception:
                continue
            withheld = self._withheld(term)
            translation = term.ja if language == STAFF_LANGUAGE else term.translation(language)
            info[term_id] = {
                "ja": term.ja,
                "reading": term.reading,
                "translation": None if withheld and language != STAFF_LANGUAGE else translation,
                "translations": {} if withheld else dict(term.translations),
                "easy_ja": term.easy_ja,
                "explanation_en": None if withheld else term.explanation_en,
                "reviewed": bool(term.reviewed),
                "withheld": withheld,
            }
        return info

    # -- status ---------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Per-language readiness and counts of live conversations (no conversation content)."""
        from madoguchi import __version__

        pipe = self.pipeline
        info = self.glossary_info
        return {
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "ready": pipe is not None,
            "asr_pack": getattr(pipe, "asr_pack", None),
            "languages": language_rows(pipe, self.languages),
            "phrases": len(self.phrases),
            "glossary_version": info.version,
            "glossary": {"version": info.version, "source": info.source, "number": info.number},
            "interpreter_note": self.options.interpreter_note,
            "idle_timeout_s": self.options.idle_timeout_s,
            "confirm_before_speaking": self.options.confirm_before_speaking,
            "reviewed_only": self.options.reviewed_only,
            "conversations": self._conversation_counts(),
            "device_microphone": {
                "owner": self._capture_owner is not None,
                "connected": bool(getattr(self._capture, "connected", False)),
                "device": self._capture_device,
            },
        }

    def _conversation_counts(self) -> dict[str, int]:
        """How many pages are connected, hold content, have turns, and are recording (counts only)."""
        sessions = list(self.sessions.values())
        return {
            "connected": len(sessions),
            "holding_content": sum(not s.conversation.is_empty for s in sessions),
            "turns": sum(len(s.conversation.turns) for s in sessions),
            "recording": sum(s.recording is not None for s in sessions),
        }

    # -- device microphone ------------------------------------------------------------------------

    async def attach_capture(self, session: Session, device: int | str | None = None) -> None:
        """Route the device microphone (``device``, default: the counter's setting) to ``session``.

        Opening and closing the audio device block (up to seconds): they run in a worker thread.

        Raises:
            AudioDeviceError: another conversation uses it, or it cannot start.
        """
        if self._capture_owner is not None and self._capture_owner is not session:
            raise AudioDeviceError("the device microphone is in use by another screen")
        from edge.audio.capture import CaptureOptions, MicrophoneCapture

        await self._stopped()
        wanted = device if device is not None else self.options.mic_device
        if self._capture is not None and wanted != self._capture_device:
            capture, self._capture = self._capture, None
            await asyncio.to_thread(capture.stop)
        loop = asyncio.get_running_loop()

        def on_frames(frames: np.ndarray) -> None:
            loop.call_soon_threadsafe(self._device_frames, frames)

        def on_status(state: str, error: AudioDeviceError | None) -> None:
            loop.call_soon_threadsafe(self._device_status, state, error)

        self._capture_owner = session
        if self._capture is None:
            kwargs: dict[str, Any] = {"on_status": on_status, "options": CaptureOptions(device=wanted)}
            if self._capture_factory is not None:
                kwargs["stream_factory"] = self._capture_factory
            self._capture = MicrophoneCapture(on_frames, **kwargs)
            self._capture_device = wanted
        try:
            await asyncio.to_thread(self._capture.start)
        except AudioDeviceError:
            self._capture_owner = None
            raise

    def detach_capture(self, session: Session) -> None:
        """Stop the device microphone if ``session`` holds it (the stop runs in a worker thread)."""
        if self._capture_owner is session:
            self._capture_owner = None
            if self._capture is not None:
                capture, self._capture = self._capture, None
                self._stopping = asyncio.get_running_loop().run_in_executor(None, capture.stop)

    async def _stopped(self) -> None:
        """Wait until a microphone being stopped has let go of the device."""
        stopping, self._stopping = self._stopping, None
        if stopping is not None:
            with contextlib.suppress(Exception):
                await stopping

    def owns_capture(self, session: Session) -> bool:
        """True when ``session`` holds the device microphone."""
        return self._capture_owner is session

    def mute_capture(self, muted: bool) -> None:
        """Mute the device microphone while speech plays."""
        if self._capture is not None:
            self._capture.muted = muted

    def _device_frames(self, frames: np.ndarray) -> None:
        owner = self._capture_owner
        if owner is not None:
            owner.feed(frames)

    def _device_status(self, state: str, exc: AudioDeviceError | None) -> None:
        owner = self._capture_owner
        if owner is None:
            return
        if state == "lost" and exc is not None:
            owner.abandon_recording()
            owner.send(Error(str(exc), exc.code))
        elif state == "resumed":
            owner.send(Notice("the microphone is back; listening again", "mic_resumed"))


def _reviewed_terms(glossary: Any) -> Any:
    """The glossary MT enforces on a reviewed-only counter: reviewed terms only, same version."""
    try:
        from glossary.schema import Glossary

        terms = {key: term for key, term in glossary.terms.items() if term.reviewed}
        return Glossary(terms, glossary.phrases, version=glossary.version, created_at=glossary.created_at)
    except Exception as exc:  # an unusual glossary object: enforce it as it is
        _LOGGER.warning("reviewed-only filter not applied to MT: %s", exc)
        return glossary


def _matcher(glossary: Any | None) -> Any | None:
    if glossary is None:
        return None
    try:
        from glossary import TermMatcher

        return TermMatcher(glossary)
    except Exception as exc:  # marks are an aid; a broken matcher must not stop the counter
        _LOGGER.warning("glossary marks unavailable: %s", exc)
        return None
