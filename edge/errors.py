"""Errors of the counter device.

EdgeError
 ├── AudioInputError      a file or stream is not usable audio (missing, corrupt, empty, too short)
 │    └── NoSpeechError   the audio holds no speech (silence, noise only)
 ├── AudioDeviceError     the microphone or speaker is missing or was unplugged
 ├── LanguageError        an unknown or disabled language code
 ├── EngineUnavailable    a required engine (ASR model) is missing or corrupt
 ├── EngineFailed         an engine crashed during one turn (the next turn may well work)
 ├── MtUnavailable        no MT pack for the pair (not fatal for a turn: it falls back)
 ├── ConfigError          the device settings are wrong
 └── SyncError            the central server could not be reached or answered wrongly
"""

from __future__ import annotations

import traceback


class EdgeError(Exception):
    """Base of every edge error; the message is one line a clerk or IT can act on."""

    #: A short machine code for the UI and the heartbeat (never contains conversation text).
    code: str = "edge_error"


class AudioInputError(EdgeError):
    """The input is not usable audio."""

    code = "audio_input"


class NoSpeechError(AudioInputError):
    """The audio contains no speech."""

    code = "no_speech"


class AudioDeviceError(EdgeError):
    """The audio device is missing, busy or was unplugged."""

    code = "audio_device"


class LanguageError(EdgeError):
    """Unknown or disabled language."""

    code = "language"


class EngineUnavailable(EdgeError):
    """A required engine cannot run (missing or corrupt model)."""

    code = "engine_unavailable"


class EngineFailed(EdgeError):
    """An engine raised an unexpected error during one turn; the session goes on."""

    code = "engine_failed"


class ConfigError(EdgeError):
    """The device configuration is invalid."""

    code = "config"


class SyncError(EdgeError):
    """Talking to the central server failed."""

    code = "sync"


class MtUnavailable(EdgeError):
    """No installed MT pack covers the language pair (the message names the pack to install)."""

    code = "mt_unavailable"


def failure_trace(exc: BaseException) -> str:
    """``exc``'s type and traceback frames (``file:line:function``, outermost first), causes included,
    without any message: engines' messages may quote the conversation, which never reaches a log."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 8:
        frames = traceback.extract_tb(current.__traceback__)
        where = " > ".join(f"{f.filename}:{f.lineno}:{f.name}" for f in frames)
        parts.append(f"{type(current).__name__} at {where or '?'}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "; from ".join(parts)
