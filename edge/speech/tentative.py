"""A tentative Whisper decode that can be stopped between its steps.

A tentative decode (``edge.speech.streaming``) runs while the speaker is still speaking. When the button is
released, the final decode must start at once; a CTranslate2 call cannot be interrupted, so the tentative
decode is cut into short steps and asks ``should_stop`` between them:

1. ``encode``: log-mel features and the encoder pass over the short window (the recogniser's own
   ``_encode``, which keeps the output: a final decode of the same speech reuses it instead of encoding
   again);
2. ``language``: language ID from that encoder output, when no language is given;
3. ``decode``: beam search of at most ``chunk_tokens`` new tokens per CTranslate2 call, each call forced
   through the text decoded so far (as faster-whisper's ``prefix``): a release waits for one chunk at
   most, never for the whole decode.

Beam search restarted every ``chunk_tokens`` tokens keeps only the best hypothesis at each restart, so a
long tentative decode may differ slightly from one uninterrupted beam search; the final decode is always
one uninterrupted beam search (with the full guard) unless it reuses a partial.

A tentative result is checked like a short-window result (compression ratio, repetition, mean
log-probability, empty text); if that check fails it is dropped rather than retried with the 30 s window,
which only the final decode does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.speech.asr_types import Transcriber, Transcript, compression_ratio
from edge.speech.asr_window import MAX_LENGTH, guard_trips, prompt_tokens, window_seconds
from edge.speech.repetition import find_repetition, find_token_repetition

StepLog = list[tuple[str, float]]


class Stopped(Exception):
    """The tentative decode was asked to stop (the speaker released the button)."""


def stepwise(transcriber: Transcriber) -> bool:
    """True when ``transcriber`` can be decoded step by step (the faster-whisper recogniser)."""
    return all(hasattr(transcriber, name) for name in ("_encode", "_pick_language", "_tokenizer", "_model"))


class TentativeDecoder:
    """Decodes one snapshot of the speech in stoppable steps (see the module docstring)."""

    def __init__(self, transcriber: Any, chunk_tokens: int = 8) -> None:
        """``transcriber``: a ``WhisperTranscriber``; ``chunk_tokens``: new tokens per decoder call
        (0: one call for the whole decode)."""
        self.transcriber = transcriber
        self.chunk_tokens = chunk_tokens

    def decode(
        self,
        speech: np.ndarray,
        language: str | None,
        prefix: str | None,
        should_stop: Callable[[], bool],
        steps: StepLog,
    ) -> Transcript | None:
        """The transcript of ``speech``, or None when the quick guard rejects it.

        Each finished step is appended to ``steps`` as (name, ms).

        Raises:
            Stopped: ``should_stop`` turned true between two steps.
        """
        asr = self.transcriber
        options = asr.options
        clock = time.perf_counter()
        timings: dict[str, float] = {}
        window_s = window_seconds(options, speech.size / SAMPLE_RATE)
        encoded = asr._encode(speech, window_s, timings, False)
        _step(steps, "encode", clock, should_stop)
        probability = 1.0
        if language is None:
            clock = time.perf_counter()
            language, probability = asr._pick_language(asr._model.model.detect_language(encoded)[0])
            _step(steps, "language", clock, should_stop)
        tokenizer = asr._tokenizer(language, "transcribe")
        prompt, forced = prompt_tokens(options, tokenizer, prefix)
        ids, score = self._generate(encoded, prompt, forced, should_stop, steps)
        tokens = [t for t in ids if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        loop = find_repetition(text) or find_token_repetition(tokens)
        result = Transcript(
            text=text,
            language=language,
            language_probability=probability,
            duration_s=speech.size / SAMPLE_RATE,
            window_s=window_s,
            guard_fired=False,
            avg_logprob=score,
            compression_ratio=compression_ratio(text),
            task="transcribe",
            repetition=loop.to_dict() if loop is not None else None,
            timings_ms={**timings, "total": sum(ms for _, ms in steps)},
            model=asr.model_dir.name,
        )
        result.options = {"beam_size": options.beam_size, "tentative": True}
        return None if guard_trips(options, result, "transcribe") else result

    def _generate(
        self,
        encoded: Any,
        prompt: list[int],
        forced: int,
        should_stop: Callable[[], bool],
        steps: StepLog,
    ) -> tuple[list[int], float]:
        """Beam search in chunks; returns every token after the start sequence (the forced prefix
        included) and the mean log-probability (-inf when the decoder ran into its length limit)."""
        model = self.transcriber._model.model
        beam = self.transcriber.options.beam_size
        start = len(prompt) - forced  # the start sequence before the forced text
        budget = MAX_LENGTH // 2 - 1
        known = prompt[start:]  # tokens after the start sequence: the forced text, then what was decoded
        chunk = self.chunk_tokens if self.chunk_tokens > 0 else budget
        while True:
            clock = time.perf_counter()
            wanted = min(budget, len(known) + chunk)
            # CTranslate2 decodes min(max_length / 2, max_length - start step) tokens, forced ones included.
            result = model.generate(
                encoded,
                [prompt[:start] + known],
                beam_size=beam,
                max_length=min(MAX_LENGTH, max(2 * wanted, start - 1 + wanted)),
                return_scores=True,
                suppress_blank=True,
                suppress_tokens=[-1],
            )[0]
            known = list(result.sequences_ids[0])
            score = float(result.scores[0])
            ended = len(known) < wanted
            if not ended and find_token_repetition(known) is not None:
                # a loop: the guard rejects it anyway; decoding on would redo it chunk after chunk
                _step(steps, "decode", clock, lambda: False)
                return known, -math.inf
            if ended or wanted >= budget:
                _step(steps, "decode", clock, lambda: False)
                return known, score if ended else -math.inf
            _step(steps, "decode", clock, should_stop)


def _step(steps: StepLog, name: str, started: float, should_stop: Callable[[], bool]) -> None:
    steps.append((name, (time.perf_counter() - started) * 1000.0))
    if should_stop():
        raise Stopped(name)
