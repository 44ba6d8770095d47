"""Whisper's short-window path: the window, one decode's prompt, sampling and hypotheses, and the retries.

A clip up to 30 s is encoded padded to ``AsrOptions.min_window_s`` only; ``guard_trips`` rejects a
short-window result (gzip ratio, mean log-probability, the length limit, a loop, nothing heard) and
``transcribe_window`` then decodes again with the full 30 s window. A result that still loops is decoded
again with temperature sampling (``sample_fallback``, as Whisper's own fallback does). The decode itself
(encoder, language ID, ``generate``) is ``edge.speech.asr.WhisperTranscriber``'s; the helpers here read
its prompt and output the way faster-whisper does.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.speech.asr_types import FULL_WINDOW_S, AsrOptions, Transcript
from edge.speech.repetition import Repetition, find_repetition, find_token_repetition

_LOGGER = logging.getLogger(__name__)

#: Whisper's decoder length (tokens): a decode reaching it ran into the limit.
MAX_LENGTH = 448

#: One hypothesis of a decode: its text, its score (``-inf`` at the length limit) and any loop in it.
Hypothesis = tuple[str, float, Repetition | None]


#: One decode of ``audio`` in a ``window_s`` encoder window: ``WhisperTranscriber._decode_window(audio,
#: window_s, language, task, timings, reuse=False, beam_size=None, temperature=0.0, prefix=None)``.
Decode = Callable[..., Transcript]


def window_seconds(options: AsrOptions, duration_s: float) -> float:
    """The encoder window for ``duration_s`` of speech: padded, rounded up, at least ``min_window_s``."""
    if not options.short_window:
        return FULL_WINDOW_S
    wanted = math.ceil(duration_s + options.window_pad_s)
    return float(min(FULL_WINDOW_S, max(options.min_window_s, wanted)))


def transcribe_window(
    decode: Decode,
    options: AsrOptions,
    audio: np.ndarray,
    language: str | None,
    task: str,
    timings: dict[str, float],
    reuse: bool,
    prefix: str | None = None,
) -> Transcript:
    """Decode in the short window; when the guard trips, again in the full window; a loop, by sampling."""
    window_s = window_seconds(options, audio.size / SAMPLE_RATE)
    result = decode(audio, window_s, language, task, timings, reuse, prefix=prefix)
    if window_s < FULL_WINDOW_S and guard_trips(options, result, task):
        _LOGGER.debug(
            "short-window guard fired (cr=%.2f lp=%.2f)", result.compression_ratio, result.avg_logprob
        )
        retry: dict[str, float] = {}
        beam = max(options.beam_size, options.guard_beam_size)
        full = decode(audio, FULL_WINDOW_S, result.language, task, retry, beam_size=beam)
        full.language_probability = result.language_probability
        for key, value in retry.items():
            timings[f"guard_{key}"] = value
        # Keep the full-window decode unless it is the worse of two non-repetitive results.
        short_ok = (
            result.compression_ratio <= options.max_compression_ratio
            and result.text
            and result.repetition is None
        )
        if not short_ok or (full.repetition is None and full.avg_logprob >= result.avg_logprob):
            result = full
        result.guard_fired = True
    if result.repetition is not None and options.fallback_temperatures:
        result = sample_fallback(decode, options, audio, result, task, timings)
    return result


def sample_fallback(
    decode: Decode,
    options: AsrOptions,
    audio: np.ndarray,
    looped: Transcript,
    task: str,
    timings: dict[str, float],
) -> Transcript:
    """Decode a looping segment again with temperature sampling; the first loop-free sample wins."""
    clock = time.perf_counter()
    for temperature in options.fallback_temperatures:
        sampled = decode(
            audio, looped.window_s, looped.language, task, {}, reuse=True, temperature=temperature
        )
        if sampled.repetition is None and sampled.text:
            sampled.language_probability = looped.language_probability
            sampled.guard_fired = True
            looped = sampled
            break
    timings["fallback"] = lap(clock)
    return looped


def guard_trips(options: AsrOptions, result: Transcript, task: str) -> bool:
    """True when a short-window result must be decoded again with the full window."""
    # Speech translation is naturally less confident than transcription: there only repetition
    # (compression ratio, running into the length limit) and empty output trip the guard.
    low_confidence = task == "transcribe" and result.avg_logprob < options.min_avg_logprob
    return (
        result.compression_ratio > options.max_compression_ratio
        or result.repetition is not None
        or result.avg_logprob == -math.inf
        or low_confidence
        or result.text == ""
    )


def prompt_tokens(options: AsrOptions, tokenizer: Any, prefix: str | None = None) -> tuple[list[int], int]:
    """Whisper's start sequence after the hotwords as previous context, then the forced ``prefix``
    (as faster-whisper's ``get_prompt``); with the number of prefix tokens at its end."""
    prompt: list[int] = []
    if options.hotwords:
        prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + options.hotwords.strip())[:223]]
    prompt.extend(tokenizer.sot_sequence)
    if not options.timestamps:
        prompt.append(tokenizer.no_timestamps)
    forced: list[int] = []
    if prefix and prefix.strip():  # as faster-whisper's ``prefix=``: the result starts with it
        forced = tokenizer.encode(" " + prefix.strip())[: MAX_LENGTH // 2 - 1]
        if options.timestamps:
            forced = [tokenizer.timestamp_begin, *forced]
        prompt.extend(forced)
    return prompt, len(forced)


def decoding_options(options: AsrOptions, beam: int, temperature: float) -> dict[str, Any]:
    """The ``generate`` arguments of one decode: beam search, or sampling at ``temperature`` > 0."""
    sampling: dict[str, Any]
    if temperature > 0:
        sampling = {
            "beam_size": 1,
            "num_hypotheses": max(1, options.fallback_best_of),
            "sampling_topk": 0,
            "sampling_temperature": temperature,
        }
    else:
        sampling = {"beam_size": beam, "num_hypotheses": max(1, min(options.num_hypotheses, beam))}
    if options.timestamps:
        sampling["max_initial_timestamp_index"] = 50  # 1 s, faster-whisper's default
    return sampling


def read_hypotheses(
    generated: Any, tokenizer: Any, start_length: int, temperature: float
) -> list[Hypothesis]:
    """The decoded hypotheses, best first (a sampled decode: the best loop-free sample first)."""
    hypotheses: list[Hypothesis] = []
    for ids, score in zip(generated.sequences_ids, generated.scores, strict=True):
        tokens = [t for t in ids if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        # The result holds the forced prefix too: count only the start sequence before it.
        hit_limit = start_length + len(ids) >= MAX_LENGTH - 1
        loop = find_repetition(text) or find_token_repetition(tokens)
        hypotheses.append((text, float(score) if not hit_limit else -math.inf, loop))
    if temperature > 0:  # best loop-free sample first
        hypotheses.sort(key=lambda h: (h[2] is not None, -h[1]))
    return hypotheses


def lap(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` value), to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)
