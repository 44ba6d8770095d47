"""The page's messages to the counter as typed dataclasses: ``parse_request`` is the one JSON reader.

Each class checks its own fields in ``from_dict`` and raises ``ProtocolError`` with a one-line reason;
the connection stays usable. The schema is in ``edge.counter.protocol``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from edge.audio.decode import SAMPLE_RATE
from edge.counter.protocol import (
    MODES,
    PROTOCOL_VERSION,
    SOURCES,
    SUPPORTED_PROTOCOLS,
    ProtocolError,
)
from edge.turn.conversation import SPEAKERS


def _speaker(value: Any) -> str:
    if value not in SPEAKERS:
        raise ProtocolError('speaker must be "clerk" or "resident"')
    return str(value)


def _turn_id(value: Any, message_type: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{message_type} needs a turn_id")
    return value


def _device(value: Any) -> int | str | None:
    """A PortAudio index, a part of a device name, or None (the default input)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProtocolError("device must be a PortAudio index or a device name")
    if isinstance(value, str) and len(value) > 200:
        raise ProtocolError("device name too long")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _text(value: Any, message_type: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"{message_type} needs {what}")
    return value.strip()


@dataclass(frozen=True)
class ClientRequest:
    """A message from the page."""

    TYPE: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> ClientRequest:
        """Check the fields of a decoded message (the base: no fields)."""
        return cls()


@dataclass(frozen=True)
class HelloRequest(ClientRequest):
    """``hello``: the page's protocol version (1 and 2 are accepted)."""

    TYPE: ClassVar[str] = "hello"
    protocol: int = PROTOCOL_VERSION

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> HelloRequest:
        version = message.get("protocol", PROTOCOL_VERSION)
        if version not in SUPPORTED_PROTOCOLS:
            raise ProtocolError(
                f"protocol version {version!r} is not supported (this counter speaks "
                f"{', '.join(map(str, SUPPORTED_PROTOCOLS))})"
            )
        return cls(protocol=int(version))


@dataclass(frozen=True)
class Start(ClientRequest):
    """``start``: open the microphone for one speaker (browser stream or the device microphone)."""

    TYPE: ClassVar[str] = "start"
    speaker: str
    mode: str = "ptt"
    source: str = "browser"
    device: int | str | None = None
    sample_rate: Any = SAMPLE_RATE

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> Start:
        mode = message.get("mode", "ptt")
        source = message.get("source", "browser")
        speaker = _speaker(message.get("speaker"))
        if mode not in MODES:
            raise ProtocolError(f"mode must be one of {', '.join(MODES)}")
        if source not in SOURCES:
            raise ProtocolError(f"source must be one of {', '.join(SOURCES)}")
        device = _device(message.get("device"))
        return cls(speaker, mode, source, device, message.get("sample_rate", SAMPLE_RATE))


@dataclass(frozen=True)
class Stop(ClientRequest):
    """``stop``: push-to-talk released, or hands-free off."""

    TYPE: ClassVar[str] = "stop"


@dataclass(frozen=True)
class EndUtterance(ClientRequest):
    """``end_utterance``: hands-free, the speaker tapped "done": end the utterance now."""

    TYPE: ClassVar[str] = "end_utterance"


@dataclass(frozen=True)
class SetLanguage(ClientRequest):
    """``set_language``: the resident chose or confirmed a language (locks the pair)."""

    TYPE: ClassVar[str] = "set_language"
    language: str

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> SetLanguage:
        code = message.get("language")
        if not isinstance(code, str):
            raise ProtocolError("set_language needs a language code")
        return cls(code)


@dataclass(frozen=True)
class Edit(ClientRequest):
    """``edit``: a corrected transcript (re-translated and re-spoken)."""

    TYPE: ClassVar[str] = "edit"
    turn_id: str
    text: str

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> Edit:
        text, turn_id = message.get("text"), message.get("turn_id")
        if not isinstance(text, str) or not text.strip() or not isinstance(turn_id, str):
            raise ProtocolError("edit needs a turn_id and a non-empty text")
        return cls(turn_id, text.strip())


@dataclass(frozen=True)
class PhraseRequest(ClientRequest):
    """``phrase``: say a phrase-book sentence (no MT)."""

    TYPE: ClassVar[str] = "phrase"
    phrase_id: str

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> PhraseRequest:
        phrase_id = message.get("phrase_id")
        if not isinstance(phrase_id, str):
            raise ProtocolError("phrase needs a phrase_id")
        return cls(phrase_id)


@dataclass(frozen=True)
class TextTurn(ClientRequest):
    """``text``: a typed turn."""

    TYPE: ClassVar[str] = "text"
    speaker: str
    text: str

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> TextTurn:
        speaker = _speaker(message.get("speaker"))
        return cls(speaker, _text(message.get("text"), "text", "a non-empty text"))


@dataclass(frozen=True)
class Speak(ClientRequest):
    """``speak``: "OK, speak" a translation held for confirmation."""

    TYPE: ClassVar[str] = "speak"
    turn_id: str

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> Speak:
        return cls(_turn_id(message.get("turn_id"), "speak"))


@dataclass(frozen=True)
class Playback(ClientRequest):
    """``playback``: the page is (not) playing speech; the microphone is muted meanwhile."""

    TYPE: ClassVar[str] = "playback"
    playing: bool

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> Playback:
        return cls(bool(message.get("playing")))


@dataclass(frozen=True)
class ClerkVoice(ClientRequest):
    """``clerk_voice``: speak the resident's translated replies to the clerk in Japanese, or not."""

    TYPE: ClassVar[str] = "clerk_voice"
    on: bool

    @classmethod
    def from_dict(cls, message: dict[str, Any]) -> ClerkVoice:
        value = message.get("on")
        if not isinstance(value, bool):
            raise ProtocolError("clerk_voice needs on: true or false")
        return cls(value)


@dataclass(frozen=True)
class EndConversation(ClientRequest):
    """``end_conversation``: erase everything now."""

    TYPE: ClassVar[str] = "end_conversation"


REQUESTS: dict[str, type[ClientRequest]] = {
    cls.TYPE: cls
    for cls in (HelloRequest, Start, Stop, EndUtterance, SetLanguage, Edit, PhraseRequest, TextTurn, Speak,
                Playback, ClerkVoice, EndConversation)
}  # fmt: skip


def parse_request(raw: str, max_bytes: int) -> ClientRequest:
    """Decode and check one JSON control message.

    Raises:
        ProtocolError: too large, not JSON, not an object with a known string ``type``, or a bad field.
    """
    if len(raw.encode("utf-8")) > max_bytes:
        raise ProtocolError(f"message too large (max {max_bytes} bytes)")
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc.msg}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError('a message must be a JSON object with a "type"')
    kind = REQUESTS.get(message["type"])
    if kind is None:
        raise ProtocolError(f"unknown message type {message['type'][:40]!r}")
    return kind.from_dict(message)
