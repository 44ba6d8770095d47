"""The counter device: audio in, one conversation turn through VAD, ASR, MT and TTS, events out.

The public names below load lazily (PEP 562), so ``import edge.errors`` or the CLI's ``--help`` does
not load the speech and translation runtimes.
"""

import importlib
import os
from typing import Any

# onnxruntime (Silero VAD, Piper) sends usage telemetry by default on Linux; a counter device must
# send nothing. Set before any engine is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

_EXPORTS: dict[str, str] = {
    "AsrOptions": "edge.speech.asr_types",
    "AudioDecodeError": "edge.audio.decode",
    "AudioDeviceError": "edge.errors",
    "AudioFileNotFound": "edge.audio.decode",
    "AudioInputError": "edge.errors",
    "AudioLimits": "edge.audio.decode",
    "AudioTooLong": "edge.audio.decode",
    "AudioTooShort": "edge.audio.decode",
    "ConfigError": "edge.errors",
    "EdgeError": "edge.errors",
    "EdgeSettings": "edge.config",
    "EmptyAudio": "edge.audio.decode",
    "EngineFailed": "edge.errors",
    "EngineUnavailable": "edge.errors",
    "InvalidSamples": "edge.audio.decode",
    "LanguageError": "edge.errors",
    "MtUnavailable": "edge.errors",
    "NoSpeechError": "edge.errors",
    "Notice": "edge.events",
    "PiperSynthesizer": "edge.speech.tts",
    "SAMPLE_RATE": "edge.audio.decode",
    "Segmenter": "edge.audio.vad",
    "SpeechAudio": "edge.events",
    "SpeechChunk": "edge.speech.tts",
    "SpeechStarted": "edge.events",
    "SpeechStopped": "edge.events",
    "SyncError": "edge.errors",
    "Synthesizer": "edge.speech.tts",
    "Transcriber": "edge.speech.asr_types",
    "Transcript": "edge.speech.asr_types",
    "TranscriptEvent": "edge.events",
    "TranslationReady": "edge.events",
    "TrimmedSpeech": "edge.audio.vad",
    "TtsOptions": "edge.speech.tts",
    "TurnError": "edge.events",
    "TurnPipeline": "edge.turn.pipeline",
    "TurnResult": "edge.turn.result",
    "Utterance": "edge.audio.vad",
    "VadOptions": "edge.audio.vad",
    "WhisperTranscriber": "edge.speech.asr",
    "check_samples": "edge.audio.decode",
    "float_to_int16": "edge.audio.decode",
    "int16_to_float": "edge.audio.decode",
    "load_audio": "edge.audio.decode",
    "load_settings": "edge.config",
    "trim_silence": "edge.audio.vad",
    "write_wav": "edge.audio.decode",
}


__all__ = [
    "SAMPLE_RATE",
    "AsrOptions",
    "AudioDecodeError",
    "AudioDeviceError",
    "AudioFileNotFound",
    "AudioInputError",
    "AudioLimits",
    "AudioTooLong",
    "AudioTooShort",
    "ConfigError",
    "EdgeError",
    "EdgeSettings",
    "EmptyAudio",
    "EngineFailed",
    "EngineUnavailable",
    "InvalidSamples",
    "LanguageError",
    "MtUnavailable",
    "NoSpeechError",
    "Notice",
    "PiperSynthesizer",
    "Segmenter",
    "SpeechAudio",
    "SpeechChunk",
    "SpeechStarted",
    "SpeechStopped",
    "SyncError",
    "Synthesizer",
    "Transcriber",
    "Transcript",
    "TranscriptEvent",
    "TranslationReady",
    "TrimmedSpeech",
    "TtsOptions",
    "TurnError",
    "TurnPipeline",
    "TurnResult",
    "Utterance",
    "VadOptions",
    "WhisperTranscriber",
    "check_samples",
    "float_to_int16",
    "int16_to_float",
    "load_audio",
    "load_settings",
    "trim_silence",
    "write_wav",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
