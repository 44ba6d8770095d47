"""Speech recognition: a small ``Transcriber`` ABC and the faster-whisper backend.

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

import abc
import copy
import logging
import math
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.errors import EngineUnavailable, LanguageError
from edge.speech.repetition import find_repetition, find_token_repetition

_LOGGER = logging.getLogger(__name__)

#: Whisper's fixed window (seconds) and its length in mel frames.
FULL_WINDOW_S = 30
_FRAMES_PER_S = 100


@dataclass(frozen=True)
class AsrOptions:
    """Per-call ASR settings.

    Attributes:
        beam_size: Beam width (1 = greedy).
        compute_type: CTranslate2 compute type (``int8`` on CPU).
        cpu_threads: Threads of the encoder/decoder (count).
        languages: Languages language ID may choose from (ISO 639-1); None = any Whisper language.
        task: ``transcribe`` or ``translate`` (Whisper's speech translation into English).
        short_window: Encode only the speech padded to ``min_window_s`` instead of 30 s.
        min_window_s: Smallest encoder window of the short path (seconds).
        window_pad_s: Silence added after the speech before rounding up (seconds).
        max_compression_ratio: Guard: a gzip ratio above this means repetition (ratio).
        min_avg_logprob: Guard (transcribe only): a mean token log-probability below this means a garbled
            decode (nats).
        guard_beam_size: Beam width of the guard's full-window retry (count; at least ``beam_size``): a
            greedy retry can fall into the same repetition loop.
        fallback_temperatures: Sampling temperatures tried, in order, when the full-window retry still
            loops (empty: no sampling retry).
        fallback_best_of: Samples drawn per fallback temperature (count).
        hotwords: Text given to the decoder as previous context (terms to favour; None = none).
        num_hypotheses: Beam hypotheses returned as ``Transcript.alternatives`` (count; ≤ ``beam_size``).
        timestamps: Decode in Whisper's timestamp mode (as plain faster-whisper does) instead of
            ``<|notimestamps|>``; the timestamps themselves are dropped from the text. Measured on 120
            synthetic counter utterances and 2 real clips with Whisper base: CER 21.3 % / 17.2 % against
            21.5 % / 19.0 % without, at the same speed; off by default because Whisper tiny then returns
            nothing on some clips.
    """

    beam_size: int = 1
    compute_type: str = "int8"
    cpu_threads: int = 2
    languages: tuple[str, ...] | None = None
    task: str = "transcribe"
    short_window: bool = True
    min_window_s: float = 10.0
    window_pad_s: float = 1.0
    max_compression_ratio: float = 2.4
    min_avg_logprob: float = -1.0
    guard_beam_size: int = 5
    fallback_temperatures: tuple[float, ...] = (0.2, 0.5, 0.8)
    fallback_best_of: int = 3
    hotwords: str | None = None
    num_hypotheses: int = 1
    timestamps: bool = False


@dataclass
class Transcript:
    """What the recogniser heard, with the context needed to explain it.

    Attributes:
        text: The transcript (or the English translation when ``task == "translate"``).
        language: Spoken language (ISO 639-1).
        language_probability: Whisper's probability of ``language`` (0..1; 1.0 when it was given).
        duration_s: Duration of the audio that was recognised (seconds).
        window_s: Encoder window used for the final decode (seconds).
        guard_fired: True when the short window result was rejected and decoded again with 30 s.
        avg_logprob: Mean token log-probability of the final decode (nats).
        compression_ratio: gzip ratio of the final text.
        task: ``transcribe`` or ``translate``.
        timings_ms: ``features``, ``encode``, ``language``, ``decode`` and ``total`` (milliseconds).
        options: The ``AsrOptions`` used, as a dict.
        model: The model directory name.
        repetition: The loop still found in ``text`` after every retry (None: no loop).
        temperature: Sampling temperature of the final decode (0 = beam search).
        alternatives: Other beam hypotheses with their scores, best first (when ``num_hypotheses`` > 1).
    """

    text: str
    language: str
    language_probability: float
    duration_s: float
    window_s: float
    guard_fired: bool
    avg_logprob: float
    compression_ratio: float
    task: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    repetition: dict[str, Any] | None = None
    temperature: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


class Transcriber(abc.ABC):
    """A speech recogniser for 16 kHz mono float32 audio."""

    options: AsrOptions

    @abc.abstractmethod
    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        task: str | None = None,
        reuse_encoding: bool = False,
        prefix: str | None = None,
    ) -> Transcript:
        """Recognise one utterance.

        Args:
            audio: 16 kHz mono float32 samples.
            language: The spoken language, or None to detect it among ``options.languages``.
            task: Overrides ``options.task`` (``transcribe`` or ``translate``).
            reuse_encoding: ``audio`` is the very array of the previous call (same turn): reuse its
                encoder output instead of encoding again (e.g. translate after transcribe).
            prefix: Text already known to start the transcript (e.g. the stable part of a tentative
                transcript): the decoder is forced through it and only decodes what follows; the
                result's ``text`` includes it.
        """

    @property
    @abc.abstractmethod
    def languages(self) -> tuple[str, ...]:
        """Languages this recogniser can hear."""

    def warm(self) -> None:  # noqa: B027 - optional hook
        """Run once on silence so the first real turn is not slower."""


def compression_ratio(text: str) -> float:
    """gzip compression ratio of ``text`` (high = repetitive)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


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
                result = self._transcribe_window(audio, language, task, timings, reuse_encoding, prefix)
        except RuntimeError as exc:
            raise EngineUnavailable(
                f"Whisper failed while recognising ({exc}); reinstall the ASR pack"
            ) from exc
        result.timings_ms = {**timings, "total": (time.perf_counter() - started) * 1000}
        result.duration_s = duration_s
        result.options = asdict(replace(self.options, task=task))
        result.model = self.model_dir.name
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(  # the length only: conversation text never reaches a log
                "ASR %s p=%.2f window=%.0fs guard=%s, %d characters",
                result.language,
                result.language_probability,
                result.window_s,
                result.guard_fired,
                len(result.text),
            )
        return result

    # -- the short/full window path (clips up to 30 s) -------------------------------------------------

    def _window_s(self, duration_s: float) -> float:
        if not self.options.short_window:
            return FULL_WINDOW_S
        wanted = math.ceil(duration_s + self.options.window_pad_s)
        return float(min(FULL_WINDOW_S, max(self.options.min_window_s, wanted)))

    def _transcribe_window(
        self,
        audio: np.ndarray,
        language: str | None,
        task: str,
        timings: dict[str, float],
        reuse: bool,
        prefix: str | None = None,
    ) -> Transcript:
        window_s = self._window_s(audio.size / SAMPLE_RATE)
        result = self._decode_window(audio, window_s, language, task, timings, reuse, prefix=prefix)
        if window_s < FULL_WINDOW_S and self._guard_trips(result, task):
            _LOGGER.debug(
                "short-window guard fired (cr=%.2f lp=%.2f)", result.compression_ratio, result.avg_logprob
            )
            retry: dict[str, float] = {}
            beam = max(self.options.beam_size, self.options.guard_beam_size)
            full = self._decode_window(audio, FULL_WINDOW_S, result.language, task, retry, beam_size=beam)
            full.language_probability = result.language_probability
            for key, value in retry.items():
                timings[f"guard_{key}"] = value
            # Keep the full-window decode unless it is the worse of two non-repetitive results.
            short_ok = (
                result.compression_ratio <= self.options.max_compression_ratio
                and result.text
                and result.repetition is None
            )
            if not short_ok or (full.repetition is None and full.avg_logprob >= result.avg_logprob):
                result = full
            result.guard_fired = True
        if result.repetition is not None and self.options.fallback_temperatures:
            result = self._sample_fallback(audio, result, task, timings)
        return result

    def _sample_fallback(
        self, audio: np.ndarray, looped: Transcript, task: str, timings: dict[str, float]
    ) -> Transcript:
        """Decode a looping segment again with temperature sampling; the first loop-free sample wins."""
        clock = time.perf_counter()
        for temperature in self.options.fallback_temperatures:
            sampled = self._decode_window(
                audio, looped.window_s, looped.language, task, {}, reuse=True, temperature=temperature
            )
            if sampled.repetition is None and sampled.text:
                sampled.language_probability = looped.language_probability
                sampled.guard_fired = True
                looped = sampled
                break
        timings["fallback"] = _lap(clock)
        return looped

    def _guard_trips(self, result: Transcript, task: str) -> bool:
        # Speech translation is naturally less confident than transcription: there only repetition
        # (compression ratio, running into the length limit) and empty output trip the guard.
        low_confidence = task == "transcribe" and result.avg_logprob < self.options.min_avg_logprob
        return (
            result.compression_ratio > self.options.max_compression_ratio
            or result.repetition is not None
            or result.avg_logprob == -math.inf
            or low_confidence
            or result.text == ""
        )

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
        encoder_output = self._encode(audio, window_s, timings, reuse)
        model = self._model
        clock = time.perf_counter()
        probability = 1.0
        if language is None:
            language, probability = self._pick_language(model.model.detect_language(encoder_output)[0])
        timings["language"] = _lap(clock)
        clock = time.perf_counter()
        tokenizer = self._tokenizer(language, task)
        prompt, forced = self._prompt(tokenizer, prefix)
        start_length = len(prompt) - forced
        beam = beam_size or self.options.beam_size
        if temperature > 0:
            import ctranslate2

            ctranslate2.set_random_seed(int(temperature * 1000) + audio.size)
            sampling = {
                "beam_size": 1,
                "num_hypotheses": max(1, self.options.fallback_best_of),
                "sampling_topk": 0,
                "sampling_temperature": temperature,
            }
        else:
            sampling = {"beam_size": beam, "num_hypotheses": max(1, min(self.options.num_hypotheses, beam))}
        if self.options.timestamps:
            sampling["max_initial_timestamp_index"] = 50  # 1 s, faster-whisper's default
        generated = model.model.generate(
            encoder_output,
            [prompt],
            max_length=448,
            return_scores=True,
            suppress_blank=True,
            suppress_tokens=[-1],
            **sampling,
        )[0]
        hypotheses = []
        for ids, score in zip(generated.sequences_ids, generated.scores, strict=True):
            tokens = [t for t in ids if t < tokenizer.eot]
            text = tokenizer.decode(tokens).strip()
            # The result holds the forced prefix too: count only the start sequence before it.
            hit_limit = start_length + len(ids) >= 447
            loop = find_repetition(text) or find_token_repetition(tokens)
            hypotheses.append((text, float(score) if not hit_limit else -math.inf, loop))
        if temperature > 0:  # best loop-free sample first
            hypotheses.sort(key=lambda h: (h[2] is not None, -h[1]))
        timings["decode"] = _lap(clock)
        text, score, loop = hypotheses[0]
        return Transcript(
            text=text,
            language=language,
            language_probability=probability,
            duration_s=audio.size / SAMPLE_RATE,
            window_s=window_s,
            guard_fired=False,
            avg_logprob=score,
            compression_ratio=compression_ratio(text),
            task=task,
            repetition=loop.to_dict() if loop is not None else None,
            temperature=temperature,
            alternatives=[(t, sc) for t, sc, _ in hypotheses[1:]] if temperature == 0 else [],
        )

    def _encode(self, audio: np.ndarray, window_s: float, timings: dict[str, float], reuse: bool) -> Any:
        model = self._model
        key = (id(audio), audio.size, window_s, float(np.abs(audio[:: max(1, audio.size // 512)]).sum()))
        clock = time.perf_counter()
        if reuse and self._last_encoded is not None and self._last_encoded[0] == key:
            # The same utterance again (the whisper-translate fallback after transcribing): the encoder
            # output does not depend on the task or language, so reuse it. Only on request: a freed
            # array's id can be reused by the next one, and benchmarks must never skip the encoder.
            timings["features"] = timings["encode"] = 0.0
            return self._last_encoded[1]
        n_samples = int(window_s * SAMPLE_RATE)
        n_frames = int(window_s * _FRAMES_PER_S)
        padded = np.zeros(n_samples, dtype=np.float32)
        padded[: min(audio.size, n_samples)] = audio[:n_samples]
        features = model.feature_extractor(padded, padding=0)[:, :n_frames]
        timings["features"] = _lap(clock)
        clock = time.perf_counter()
        encoder_output = model.encode(features)
        timings["encode"] = _lap(clock)
        self._last_encoded = (key, encoder_output)
        return encoder_output

    def _prompt(self, tokenizer: Any, prefix: str | None = None) -> tuple[list[int], int]:
        """Whisper's start sequence after the hotwords as previous context, then the forced ``prefix``
        (as faster-whisper's ``get_prompt``); with the number of prefix tokens at its end."""
        prompt: list[int] = []
        if self.options.hotwords:
            prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + self.options.hotwords.strip())[:223]]
        prompt.extend(tokenizer.sot_sequence)
        if not self.options.timestamps:
            prompt.append(tokenizer.no_timestamps)
        forced: list[int] = []
        if prefix and prefix.strip():  # as faster-whisper's ``prefix=``: the result starts with it
            forced = tokenizer.encode(" " + prefix.strip())[: 448 // 2 - 1]
            if self.options.timestamps:
                forced = [tokenizer.timestamp_begin, *forced]
            prompt.extend(forced)
        return prompt, len(forced)

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
            head = np.zeros((features.shape[0], FULL_WINDOW_S * _FRAMES_PER_S), dtype=np.float32)
            head[:, : min(features.shape[1], head.shape[1])] = features[:, : head.shape[1]]
            language, probability = self._pick_language(model.model.detect_language(model.encode(head))[0])
            timings["language"] = _lap(clock)
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
        timings["decode"] = _lap(clock)
        text = " ".join(segment.text.strip() for segment in parts).strip()
        avg = float(np.mean([segment.avg_logprob for segment in parts])) if parts else -math.inf
        loop = find_repetition(text)
        return Transcript(
            text=text,
            language=language,
            language_probability=probability,
            duration_s=audio.size / SAMPLE_RATE,
            window_s=FULL_WINDOW_S,
            guard_fired=False,
            avg_logprob=avg,
            compression_ratio=compression_ratio(text),
            task=task,
            repetition=loop.to_dict() if loop is not None else None,
        )


def _lap(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
