"""The counter device: audio in, one conversation turn through VAD, ASR, MT and TTS, events out."""

import os

# onnxruntime (Silero VAD, Piper) sends usage telemetry by default on Linux; a counter device must
# send nothing. Set before any engine is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


from edge.asr import AsrOptions, Transcriber, Transcript, WhisperTranscriber
from edge.audio import (
    SAMPLE_RATE,
    AudioDecodeError,
    AudioFileNotFound,
    AudioLimits,
    AudioTooLong,
    AudioTooShort,
    EmptyAudio,
    InvalidSamples,
    check_samples,
    float_to_int16,
    int16_to_float,
    load_audio,
    write_wav,
)
from edge.config import EdgeSettings, load_settings
from edge.errors import (
    AudioDeviceError,
    AudioInputError,
    ConfigError,
    EdgeError,
    EngineFailed,
    EngineUnavailable,
    LanguageError,
    MtUnavailable,
    NoSpeechError,
    SyncError,
)
from edge.events import (
    Notice,
    SpeechAudio,
    SpeechStarted,
    SpeechStopped,
    TranscriptEvent,
    TranslationReady,
    TurnError,
)
from edge.pipeline import TurnPipeline, TurnResult
from edge.tts import PiperSynthesizer, SpeechChunk, Synthesizer, TtsOptions
from edge.vad import Segmenter, TrimmedSpeech, Utterance, VadOptions, trim_silence

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
