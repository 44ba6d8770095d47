"""The recognition stage of a turn: trim the silence, recognise the speech, stop an unusable transcript.

The recogniser's own retries (short window, full window, sampling) live in ``edge.speech.asr``; a
transcript that still loops after them is shown ``flagged`` and neither translated nor spoken. A turn
recorded while the speaker spoke reuses the tentative work (``edge.speech.streaming.StreamedSpeech``):
the final transcript decodes with its stable prefix, Whisper's English is reused when it exists.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from edge.audio.decode import check_samples
from edge.audio.vad import VadOptions, trim_silence
from edge.events import TranscriptEvent
from edge.speech.asr_types import Transcriber, Transcript
from edge.turn.result import TurnContext, ms_since

if TYPE_CHECKING:
    from edge.speech.streaming import StreamedSpeech


def recognise(
    transcriber: Transcriber,
    audio: np.ndarray,
    language: str | None,
    vad_options: VadOptions,
    streamed: StreamedSpeech | None = None,
) -> tuple[np.ndarray, Transcript, dict[str, float]]:
    """Check the samples, trim the silence and recognise what is left.

    Returns:
        The trimmed speech, the transcript and the ``vad``/``asr`` timings (ms).

    Raises:
        AudioInputError / NoSpeechError, EngineUnavailable.
    """
    audio = check_samples(audio)
    clock = time.perf_counter()
    speech = trim_silence(audio, vad_options).audio
    vad_ms = ms_since(clock)
    clock = time.perf_counter()
    transcribe = streamed.transcribe if streamed is not None else transcriber.transcribe
    transcript = transcribe(speech, language)
    return speech, transcript, {"vad": vad_ms, "asr": ms_since(clock)}


def announce(ctx: TurnContext, transcript: Transcript) -> None:
    """Send what was heard (after the terms stage corrected it) as a ``TranscriptEvent``."""
    result = ctx.result
    ctx.emit(
        TranscriptEvent(
            text=result.source_text,
            language=transcript.language,
            language_probability=transcript.language_probability,
            corrections=[c.to_dict() for c in result.corrections],
            recognised_text=result.recognised_text,
        )
    )


def stop_unusable(ctx: TurnContext, transcript: Transcript) -> bool:
    """An empty or looping transcript ends the turn here, with a notice (True: the turn is over)."""
    result = ctx.result
    if not transcript.text:
        ctx.notice("nothing intelligible was heard; please speak again", "empty_transcript")
    elif transcript.repetition is not None:
        result.flagged = True
        result.repetition = {"where": "transcript", **transcript.repetition}
        text = "could not recognise this reliably (the words repeat); nothing was spoken, please speak again"
        ctx.notice(text, "unreliable_transcript")
    else:
        return False
    ctx.finish()
    return True


def whisper_english(
    transcriber: Transcriber, speech: np.ndarray, source: str, streamed: StreamedSpeech | None = None
) -> Transcript:
    """Whisper's own speech translation of this turn's speech into English (encoder output reused)."""
    reused = streamed.whisper_translation(speech, source) if streamed is not None else None
    return reused or transcriber.transcribe(speech, source, task="translate", reuse_encoding=True)
