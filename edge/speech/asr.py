"""Speech recognition with faster-whisper (``WhisperTranscriber``), behind the ``Transcriber`` interface.

The interface and its types are ``edge.speech.asr_types`` (re-exported here); the short-window
decoding and its retries are ``edge.speech.asr_window``.

Design decisions:

- **Language ID restricted to the counter.** With ``source=auto`` Whisper's language probabilities are
  read from the same encoder pass that decodes, and the best language *among the enabled counter
  languages* wins; a Japanese clerk is never "detected" as Cantonese or Javanese.
- **Short encoder window.** faster-whisper always pads a clip to Whisper's 30 s window; the encoder
  then costs the same for a 3 s utterance as for a 30 s one. On a 2-core x86 that is ≈ 0.7 s of a
  ≈ 1.0 s turn. We encode only the speech, padded with silence to at least ``min_window_s`` (10 s):
  without trailing padding Whisper falls into repetition loops on some clips, with ≥ 10 s it keeps
  the full window's accuracy. A guard checks every short-window result (compression ratio, average
  log-probability, running into the length limit) and, if it trips, decodes again with the full
  30 s window; ``Transcript.guard_fired`` records it.
- **Loops are looked for directly** (``edge.speech.repetition``: repeated clauses and token runs, which a
  gzip ratio misses in a short text). A loop trips the guard too; if the full-window retry loops as well, the
  segment is decoded again with temperature sampling (``fallback_temperatures``, as Whisper's own
  fallback does) and the first loop-free result is kept. If every decode loops, the result carries
  ``repetition`` and the pipeline shows it without speaking it.
- **Hotwords**: ``AsrOptions.hotwords`` is given to the decoder as previous-context text (faster-whisper's
  ``hotwords`` prompt), e.g. a counter's most frequent glossary terms. ``num_hypotheses`` > 1 returns the
  beam's alternatives (``Transcript.alternatives``) for rescoring.
- Clips longer than 30 s go through faster-whisper's own sequential ``transcribe`` (rare at a counter).
- ``task="translate"`` is Whisper's own speech translation into English, the fallback when no MT pack
  covers a turn into English.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.errors import EngineUnavailable, LanguageError
from edge.speech.asr_types import (
    FRAMES_PER_S,
    FULL_WINDOW_S,
    AsrOptions,
    Transcriber,
    Transcript,
    compression_ratio,
)
from edge.speech.asr_window import (
    MAX_LENGTH,
    decoding_options,
    lap,
    prompt_tokens,
    read_hypotheses,
    transcribe_window,
)
from edge.speech.forced import TextScore, score_texts
from edge.speech.repetition import Repetition, find_repetition

__all__ = [
    "FULL_WINDOW_S",
    "AsrOptions",
    "Transcriber",
    "Transcript",
    "WhisperTranscriber",
    "compression_ratio",
]

_LOGGER = logging.getLogger(__name__)


class WhisperTranscriber(Transcriber):
    """faster-whisper (CTranslate2) recogniser with restricted language ID and a short encoder window."""

    def __init__(self, model_dir: Path, options: AsrOptions = AsrOptions()) -> None:
        """Load the model (seconds; do it once).

        Raises:
            EngineUnavailable: the directory is missing, incomplete or corrupt, or faster-whisper is absent.
        """
        model_dir = Path(model_dir)
        self.options = options
        self.model_dir = model_dir
        if not (model_dir / "model.bin").is_file() or not (model_dir / "config.json").is_file():
            raise EngineUnavailable(
                f"no Whisper model in {model_dir}; run `madoguchi models install whisper-base`"
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise EngineUnavailable(
                "faster-whisper is not installed; install the edge extra: pip install 'madoguchi[edge]'"
            ) from exc
        started = time.perf_counter()
        try:
            self._model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type=options.compute_type,
                cpu_threads=options.cpu_threads,
                num_workers=1,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineUnavailable(
                f"the Whisper model in {model_dir} is corrupt ({type(exc).__name__}); "
                "run `madoguchi models verify` and reinstall it"
            ) from exc
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        self._whisper_languages: tuple[str, ...] = tuple(_LANGUAGE_CODES)
        self._tokenizers: dict[tuple[str, str], Any] = {}
        #: The encoder output of the last utterance (in memory only), keyed by the audio it came from.
        self._last_encoded: tuple[tuple[Any, ...], Any] | None = None
        _LOGGER.info("Whisper model %s loaded in %.1f s", model_dir.name, time.perf_counter() - started)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages Whisper can hear (restricted to ``options.languages`` when set)."""
        if self.options.languages:
            return tuple(code for code in self.options.languages if code in self._whisper_languages)
        return self._whisper_languages

    def with_options(self, options: AsrOptions) -> WhisperTranscriber:
        """A recogniser sharing this one's loaded model but using other options (no reload)."""
        clone = copy.copy(self)
        clone.options = options
        clone._last_encoded = None
        return clone

    def warm(self) -> None:
        """Encode and decode one second of silence so lazy allocations happen now."""
        started = time.perf_counter()
        self.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), language="en")
        _LOGGER.info("Whisper warmed up in %.1f s", time.perf_counter() - started)

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        task: str | None = None,
        reuse_encoding: bool = False,
        prefix: str | None = None,
    ) -> Transcript:
        """Recognise one utterance (see the module docstring for the window and the guard).

        Raises:
            LanguageError: ``language`` is not a Whisper language.
            EngineUnavailable: CTranslate2 failed while running the model.
        """
        task = task or self.options.task
        if task not in ("transcribe", "translate"):
            raise ValueError(f"unknown ASR task {task!r}; use transcribe or translate")
        if language is not None and language not in self._whisper_languages:
            raise LanguageError(f"Whisper cannot recognise {language!r}")
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration_s = audio.size / SAMPLE_RATE
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            if duration_s > FULL_WINDOW_S:
                result = self._transcribe_long(audio, language, task, timings)
            else:
                result = transcribe_window(
                    self._decode_window, self.options, audio, language, task, timings, reuse_encoding, prefix
                )
        except RuntimeError as exc:
            raise EngineUnavailable(
                f"Whisper failed while recognising ({exc}); reinstall the ASR pack"
            ) from exc
        result.timings_ms = {**timings, "total": (time.perf_counter() - started) * 1000}
        result.duration_s = duration_s
        result.options = asdict(replace(self.options, task=task))
        result.model = self.model_dir.name
        _log_result(result)
        return result

    # -- the short/full window path (clips up to 30 s) -------------------------------------------------

    def _decode_window(
        self,
        audio: np.ndarray,
        window_s: float,
        language: str | None,
        task: str,
        timings: dict[str, float],
        reuse: bool = False,
        beam_size: int | None = None,
        temperature: float = 0.0,
        prefix: str | None = None,
    ) -> Transcript:
        """One decode in a ``window_s`` encoder window (``edge.speech.asr_window.Decode``)."""
        encoder_output = self._encode(audio, window_s, timings, reuse)
        clock = time.perf_counter()
        probability = 1.0
        if language is None:
            language, probability = self._pick_language(self._model.model.detect_language(encoder_output)[0])
        timings["language"] = lap(clock)
        clock = time.perf_counter()
        tokenizer = self._tokenizer(language, task)
        prompt, forced = prompt_tokens(self.options, tokenizer, prefix)
        if temperature > 0:
            import ctranslate2

            ctranslate2.set_random_seed(int(temperature * 1000) + audio.size)
        generated = self._model.model.generate(
            encoder_output,
            [prompt],
            max_length=MAX_LENGTH,
            return_scores=True,
            suppress_blank=True,
            suppress_tokens=[-1],
            **decoding_options(self.options, beam_size or self.options.beam_size, temperature),
        )[0]
        hypotheses = read_hypotheses(generated, tokenizer, len(prompt) - forced, temperature)
        timings["decode"] = lap(clock)
        text, score, loop = hypotheses[0]
        return _decoded(
            text,
            loop,
            (language, probability),
            audio,
            window_s,
            score,
            task,
            temperature=temperature,
            alternatives=[(t, sc) for t, sc, lp in hypotheses[1:] if lp is None] if temperature == 0 else [],
        )

    def _encode(self, audio: np.ndarray, window_s: float, timings: dict[str, float], reuse: bool) -> Any:
        model = self._model
        key = (id(audio), window_s, *_fingerprint(audio))
        clock = time.perf_counter()
        if reuse and self._last_encoded is not None and self._last_encoded[0] == key:
            # The same utterance again (the whisper-translate fallback after transcribing): the encoder
            # output does not depend on the task or language, so reuse it. Only on request: a freed
            # array's id can be reused by the next one, and benchmarks must never skip the encoder.
            timings["features"] = timings["encode"] = 0.0
            return self._last_encoded[1]
        n_samples = int(window_s * SAMPLE_RATE)
        n_frames = int(window_s * FRAMES_PER_S)
        padded = np.zeros(n_samples, dtype=np.float32)
        padded[: min(audio.size, n_samples)] = audio[:n_samples]
        features = model.feature_extractor(padded, padding=0)[:, :n_frames]
        timings["features"] = lap(clock)
        clock = time.perf_counter()
        encoder_output = model.encode(features)
        timings["encode"] = lap(clock)
        self._last_encoded = (key, encoder_output)
        return encoder_output

    def score_texts(self, audio: np.ndarray, texts: Sequence[str], language: str) -> list[TextScore] | None:
        """Forced-decoding scores of ``texts`` as transcripts of ``audio``, the utterance just recognised
        (``edge.speech.forced``: one batched decoder pass on its encoder output, no second encoder pass).

        Returns None when that encoder output is no longer held (another utterance was encoded since, or
        ``release`` ran): scoring would need the encoder again.
        """
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        held = self._last_encoded
        if held is None or held[0][2:] != _fingerprint(samples):
            return None
        frames = samples.size * FRAMES_PER_S // SAMPLE_RATE
        tokenizer = self._tokenizer(language, "transcribe")
        try:
            return score_texts(self._model.model, held[1], tokenizer, texts, frames)
        except RuntimeError as exc:
            raise EngineUnavailable(f"Whisper failed while scoring ({exc}); reinstall the ASR pack") from exc

    def release(self) -> None:
        """Forget the last utterance's encoder output (at the end of a turn: memory and privacy)."""
        self._last_encoded = None

    def _pick_language(self, probabilities: list[tuple[str, float]]) -> tuple[str, float]:
        allowed = set(self.languages)
        for token, probability in probabilities:
            code = token[2:-2]
            if code in allowed:
                return code, float(probability)
        raise LanguageError("none of the enabled languages is a Whisper language")

    def _tokenizer(self, language: str, task: str) -> Any:
        key = (language, task)
        if key not in self._tokenizers:
            from faster_whisper.tokenizer import Tokenizer

            self._tokenizers[key] = Tokenizer(self._model.hf_tokenizer, True, task=task, language=language)
        return self._tokenizers[key]

    # -- long clips -------------------------------------------------------------------------------------

    def _transcribe_long(
        self, audio: np.ndarray, language: str | None, task: str, timings: dict[str, float]
    ) -> Transcript:
        probability = 1.0
        if language is None:
            clock = time.perf_counter()
            model = self._model
            features = model.feature_extractor(audio[: FULL_WINDOW_S * SAMPLE_RATE], padding=0)
            head = np.zeros((features.shape[0], FULL_WINDOW_S * FRAMES_PER_S), dtype=np.float32)
            head[:, : min(features.shape[1], head.shape[1])] = features[:, : head.shape[1]]
            language, probability = self._pick_language(model.model.detect_language(model.encode(head))[0])
            timings["language"] = lap(clock)
        clock = time.perf_counter()
        segments, _info = self._model.transcribe(
            audio,
            language=language,
            task=task,
            beam_size=self.options.beam_size,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        parts = [segment for segment in segments]
        timings["decode"] = lap(clock)
        text = " ".join(segment.text.strip() for segment in parts).strip()
        avg = float(np.mean([segment.avg_logprob for segment in parts])) if parts else -math.inf
        return _decoded(text, find_repetition(text), (language, probability), audio, FULL_WINDOW_S, avg, task)


def _fingerprint(audio: np.ndarray) -> tuple[int, float]:
    """What tells one utterance's samples from another's (size and a strided checksum)."""
    return audio.size, float(np.abs(audio[:: max(1, audio.size // 512)]).sum())


def _decoded(
    text: str,
    loop: Repetition | None,
    language: tuple[str, float],
    audio: np.ndarray,
    window_s: float,
    avg_logprob: float,
    task: str,
    **extra: Any,
) -> Transcript:
    """The ``Transcript`` of one decode (``language``: the code and its probability; the retries set
    ``guard_fired``, ``transcribe`` the timings and options)."""
    return Transcript(
        text=text,
        language=language[0],
        language_probability=language[1],
        duration_s=audio.size / SAMPLE_RATE,
        window_s=window_s,
        guard_fired=False,
        avg_logprob=avg_logprob,
        compression_ratio=compression_ratio(text),
        task=task,
        repetition=loop.to_dict() if loop is not None else None,
        **extra,
    )


def _log_result(result: Transcript) -> None:
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug(  # the length only: conversation text never reaches a log
            "ASR %s p=%.2f window=%.0fs guard=%s, %d characters",
            result.language,
            result.language_probability,
            result.window_s,
            result.guard_fired,
            len(result.text),
        )
