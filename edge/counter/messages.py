"""The counter protocol's messages as typed dataclasses, with one place that turns them into JSON.

Server → page: every class below ``ServerMessage`` has a ``TYPE`` (the wire ``type``) and its fields in
wire order; ``to_json()`` is the only serialiser. A field with ``metadata=OPTIONAL`` is left out of the
JSON while it is None (``turn_id`` of a notice, ``timings_ms`` of a phrase turn's end, ...); every other
field is always sent, null included. Page → server messages are parsed in ``edge.counter.requests``.
The schema and its version history are in ``edge.counter.protocol``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

_OMIT_NONE = "omit_none"
#: Metadata of a field left out of the JSON while it is None: ``field(default=None, metadata=OPTIONAL)``.
OPTIONAL: Any = {_OMIT_NONE: True}


@dataclass(frozen=True)
class ServerMessage:
    """A message to the page."""

    TYPE: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"type": TYPE, <fields>}``."""
        out: dict[str, Any] = {"type": self.TYPE}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.metadata.get(_OMIT_NONE):
                continue
            out[item.name] = value
        return out

    def to_json(self) -> str:
        """The JSON text frame sent to the page."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class Hello(ServerMessage):
    """The counter's greeting: protocol version and audio format."""

    TYPE: ClassVar[str] = "hello"
    protocol: int
    version: str
    sample_rate: int
    max_frame_bytes: int
    confirm_before_speaking: bool
    glossary_version: str | None
    speak_to_clerk: bool = True


@dataclass(frozen=True)
class State(ServerMessage):
    """The conversation state (``Conversation.snapshot()``), the open recording and whether a turn runs."""

    TYPE: ClassVar[str] = "state"
    conversation: dict[str, Any]
    recording: dict[str, str] | None
    busy: bool

    def to_dict(self) -> dict[str, Any]:
        """The snapshot's keys sit at the top level of the message."""
        return {"type": self.TYPE, **self.conversation, "recording": self.recording, "busy": self.busy}


@dataclass(frozen=True)
class Vad(ServerMessage):
    """Hands-free end-pointing: ``speech_started`` or ``speech_stopped``."""

    TYPE: ClassVar[str] = "vad"
    event: str


@dataclass(frozen=True)
class TranscriptPartial(ServerMessage):
    """A tentative transcript of the speech so far, while the speaker speaks (shown greyed);
    ``stable`` is the start of ``text`` that will not change."""

    TYPE: ClassVar[str] = "transcript_partial"
    speaker: str
    text: str
    stable: str
    language: str
    index: int
    audio_s: float
    finished: bool


@dataclass(frozen=True)
class TurnStarted(ServerMessage):
    """A turn began."""

    TYPE: ClassVar[str] = "turn_started"
    turn_id: str
    speaker: str
    kind: str


@dataclass(frozen=True)
class Transcript(ServerMessage):
    """What was heard (or typed), with glossary marks and furigana."""

    TYPE: ClassVar[str] = "transcript"
    turn_id: str
    speaker: str
    kind: str
    text: str
    language: str
    terms: list[dict[str, Any]]
    term_info: dict[str, Any]
    ruby_html: str | None
    language_probability: float | None = field(default=None, metadata=OPTIONAL)
    corrections: list[dict[str, Any]] | None = field(default=None, metadata=OPTIONAL)
    """Glossary terms put in by reading (spoken turns): ``{term_id, start, end, original, replacement}``."""
    recognised_text: str | None = field(default=None, metadata=OPTIONAL)
    """The recogniser's own best hypothesis when ``corrections`` or n-best rescoring changed it."""


@dataclass(frozen=True)
class Translation(ServerMessage):
    """The translation shown to the listener."""

    TYPE: ClassVar[str] = "translation"
    turn_id: str
    speaker: str
    text: str
    language: str
    engine: str
    terms: list[dict[str, Any]]
    term_info: dict[str, Any]
    flagged: bool
    ruby_html: str | None
    awaiting_confirm: bool
    reviewed: bool | None = field(default=None, metadata=OPTIONAL)
    phrase_id: str | None = field(default=None, metadata=OPTIONAL)
    verified: dict[str, Any] | None = field(default=None, metadata=OPTIONAL)
    """The phrase-book sentence a spoken turn matched (its verified translation is ``text``)."""
    maybe_cut: bool | None = field(default=None, metadata=OPTIONAL)
    """True when MT reached the model's maximum length: shown as "may be cut"."""


@dataclass(frozen=True)
class BackTranslation(ServerMessage):
    """The translation translated back for the speaker, or why there is none."""

    TYPE: ClassVar[str] = "back_translation"
    turn_id: str
    speaker: str
    language: str
    available: bool
    text: str | None
    reason: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class SpeechAudio(ServerMessage):
    """One synthesised sentence as a base64 WAV (``is_last`` is always false: the end is ``SpeechEnd``)."""

    TYPE: ClassVar[str] = "speech_audio"
    turn_id: str
    index: int
    sample_rate: int
    wav_base64: str
    is_last: bool = False


@dataclass(frozen=True)
class SpeechEnd(ServerMessage):
    """Every sentence of the turn's speech has been sent."""

    TYPE: ClassVar[str] = "speech_end"
    turn_id: str
    chunks: int


@dataclass(frozen=True)
class TurnEnd(ServerMessage):
    """A turn is complete."""

    TYPE: ClassVar[str] = "turn_end"
    turn_id: str
    speaker: str
    engine: str
    timings_ms: dict[str, float] | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class GlossaryChanged(ServerMessage):
    """A newer glossary is in use (term marks, phrase book, MT enforcement)."""

    TYPE: ClassVar[str] = "glossary"
    version: str | None
    source: str


@dataclass(frozen=True)
class Notice(ServerMessage):
    """A fallback or information (missing voice or MT pack, microphone back, ...)."""

    TYPE: ClassVar[str] = "notice"
    text: str
    code: str
    turn_id: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class Error(ServerMessage):
    """A refused message or a failed turn (the connection stays usable)."""

    TYPE: ClassVar[str] = "error"
    text: str
    code: str
    turn_id: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class ConversationEnded(ServerMessage):
    """The conversation was erased (``ended`` by a person, or ``idle``): the page clears everything."""

    TYPE: ClassVar[str] = "conversation_ended"
    reason: str


#: Every server message type, by its wire name.
SERVER_MESSAGES: dict[str, type[ServerMessage]] = {
    cls.TYPE: cls
    for cls in (
        Hello, State, Vad, TranscriptPartial, TurnStarted, Transcript, Translation, BackTranslation,
        SpeechAudio, SpeechEnd, TurnEnd, GlossaryChanged, Notice, Error, ConversationEnded,
    )
}  # fmt: skip
