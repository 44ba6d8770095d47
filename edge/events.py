"""Typed messages of a turn, shared by the pipeline, the counter UI (as JSON) and the CLI.

Each event is a small dataclass with a ``type`` tag and ``to_dict()``; audio travels as int16 PCM
bytes and is base64-encoded only in ``to_dict()``.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass
class _Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-able dict with its ``type`` tag."""
        data = asdict(self)
        data["type"] = self.type
        return data


@dataclass
class SpeechStarted(_Event):
    """The VAD heard speech begin (``timestamp_ms`` from the start of the stream)."""

    type: ClassVar[str] = "speech-started"
    timestamp_ms: float = 0.0


@dataclass
class SpeechStopped(_Event):
    """The VAD heard speech end (after the configured silence)."""

    type: ClassVar[str] = "speech-stopped"
    timestamp_ms: float = 0.0
    duration_ms: float = 0.0


@dataclass
class TranscriptEvent(_Event):
    """What the recogniser heard."""

    type: ClassVar[str] = "transcript"
    text: str = ""
    language: str = ""
    language_probability: float = 0.0
    corrections: list[dict[str, Any]] = field(default_factory=list)
    """Glossary terms put in by reading (``edge.speech.terms.Correction.to_dict``; offsets into ``text``)."""
    recognised_text: str | None = None
    """The recogniser's own best hypothesis when ``corrections`` or n-best rescoring changed it."""


@dataclass
class TranslationReady(_Event):
    """The translation of the turn (before it is spoken)."""

    type: ClassVar[str] = "translation"
    text: str = ""
    source_language: str = ""
    target_language: str = ""
    engine: str = ""
    terms_applied: list[str] = field(default_factory=list)
    flagged: bool = False
    back_translation: str | None = None
    ruby_html: str | None = None
    """Easy Japanese (target ``ja-easy``): the text as escaped HTML with ``<ruby>`` furigana."""
    verified_phrase: dict[str, Any] | None = None
    """The phrase-book sentence the utterance matched (its verified translation is ``text``)."""
    maybe_cut: bool = False
    """The translation reached the model's maximum length: show it as "may be cut"."""


@dataclass
class SpeechAudio(_Event):
    """One synthesised sentence: int16 little-endian mono PCM, emitted as soon as it is ready.

    The turn's speech ends with an empty chunk (``pcm == b""``) whose ``is_last`` is True.
    """

    type: ClassVar[str] = "speech-audio"
    pcm: bytes = b""
    sample_rate: int = 22050
    index: int = 0
    is_last: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The chunk with its PCM base64-encoded."""
        return {
            "type": self.type,
            "pcm_base64": base64.b64encode(self.pcm).decode("ascii"),
            "sample_rate": self.sample_rate,
            "index": self.index,
            "is_last": self.is_last,
        }


@dataclass
class TurnError(_Event):
    """A turn failed; ``text`` is a one-line message staff can read, ``code`` a machine code."""

    type: ClassVar[str] = "error"
    text: str = ""
    code: str = "edge_error"


@dataclass
class Notice(_Event):
    """Something the user should know that is not an error (a missing voice or MT pack)."""

    type: ClassVar[str] = "notice"
    text: str = ""
    code: str = ""


Event = SpeechStarted | SpeechStopped | TranscriptEvent | TranslationReady | SpeechAudio | TurnError | Notice

#: Contract D calls the recogniser event ``Transcript``; the ASR result class owns that name in
#: ``edge.speech.asr_types``.
Transcript = TranscriptEvent
