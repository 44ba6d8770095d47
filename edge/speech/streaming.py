"""Recognition while they speak: tentative transcripts at a steady cadence, then a short final decode.

While push-to-talk is held (or hands-free hears speech), ``StreamingRecognizer`` decodes the audio so far
in its own worker thread about every ``interval_s`` (never on the capture path or the event loop) and
reports each tentative transcript (``Partial``). Two consecutive partials agree on a prefix
(*local agreement*); that agreed text is the *stable* part. At release, ``finish`` hands a
``StreamedSpeech`` to the turn pipeline, whose final recognition then:

1. **reuses** the last partial outright when it heard all the same speech (after silence trimming; it may
   lack part of the silence padding after the last word, ``heard_the_same``)
   with the same settings (the speaker had stopped before releasing the button): no ASR after release;
2. else encodes the final window once and decodes with the stable part as a **prefix** (faster-whisper's
   ``prefix``), so only the last words are decoded after release;
3. else (no partial yet) decodes normally.

The worker stops as soon as the button is released: a tentative decode runs in short steps (silence
trimming, encoder pass, language ID, decoding; ``edge.speech.tentative``) and asks between two steps whether
the speaker has let go. Only when the running partial heard exactly the final speech (the speaker had
stopped before releasing) does it carry on, because it *is* the final decode. Otherwise the final decode
starts after the current step instead of after the whole tentative decode.

Finished sentences of a partial are translated speculatively (MT is deterministic); the pipeline reuses
that translation when the final text is the same. Everything stays in memory and is dropped with the
turn; nothing of the speech or text is logged.

The partials, their settings and how they compare are in ``edge.speech.partials``;
``edge.speech.replay`` runs the same schedule on a recorded clip against a virtual clock (the benchmark).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.audio.endpoint import sentence_finished
from edge.audio.vad import VadOptions, trailing_silence_ms, trim_silence
from edge.errors import NoSpeechError
from edge.speech.asr_types import Transcriber, Transcript
from edge.speech.partials import (
    Partial,
    StreamingOptions,
    agreed_prefix,
    heard_the_same,
)
from edge.speech.tentative import StepLog, Stopped, TentativeDecoder, stepwise

_LOGGER = logging.getLogger(__name__)


def _never() -> bool:
    return False


class PartialRunner:
    """Decodes snapshots of one utterance, keeps the partials and the speculative translations."""

    def __init__(
        self,
        transcriber: Transcriber,
        language: str | None,
        *,
        options: StreamingOptions = StreamingOptions(),
        vad_options: VadOptions = VadOptions(),
        translate_to: tuple[Any, str] | None = None,
    ) -> None:
        """``translate_to``: (MT router, target language) for speculative translation, or None."""
        self.transcriber = transcriber
        self.options = options
        self.vad_options = vad_options
        self.language = language
        self.partial_asr = transcriber
        if options.partial_beam is not None and hasattr(transcriber, "with_options"):
            tuned = replace(transcriber.options, beam_size=options.partial_beam)
            self.partial_asr = transcriber.with_options(tuned)
        self.translate_to = translate_to
        self.partials: list[Partial] = []
        self.translations: dict[tuple[str, str, str], Any] = {}
        self.speculated_ms = 0.0
        #: Steps of the last run as (name, ms): vad, encode, language, decode (one per chunk), mt.
        self.steps: StepLog = []
        #: The speech the running (or last) partial decodes; None before its silence is trimmed.
        self.current_speech: np.ndarray | None = None
        #: The silence after the last speech frame of the running (or last) partial's audio (ms).
        self.current_silence_ms = 0.0
        #: Partials stopped by a release before they finished (count).
        self.stopped = 0

    @property
    def latest(self) -> Partial | None:
        """The newest partial, or None."""
        return self.partials[-1] if self.partials else None

    def heard_all(self, partial: Partial | None, speech: np.ndarray | None) -> bool:
        """``partial`` heard all of ``speech`` (``heard_the_same`` with this runner's VAD padding)."""
        if partial is None:
            return False
        return heard_the_same(partial.speech, speech, self.vad_options.speech_pad_ms, partial.silence_ms)

    def running_heard_all(self, speech: np.ndarray | None) -> bool:
        """The running (or last) partial's speech holds all of ``speech`` (``heard_the_same``)."""
        pad_ms = self.vad_options.speech_pad_ms
        return heard_the_same(self.current_speech, speech, pad_ms, self.current_silence_ms)

    def run(
        self,
        audio: np.ndarray,
        should_stop: Callable[[], bool] = _never,
        heard_silence_ms: float | None = None,
    ) -> Partial | None:
        """Decode ``audio`` (the utterance so far); None when it holds no speech yet, no new speech (only
        silence was added since the last partial: the decode would give the same result, so the worker
        stays idle and a release finds nothing running), or when ``should_stop`` turned true between two
        steps (the partial is dropped; ``steps`` shows how far it got).

        ``heard_silence_ms``: the silence after the last speech frame of ``audio`` as the live VAD heard
        it (hands-free: the ``Segmenter`` whose judgement ends the utterance); None: measured on ``audio``
        by ``trailing_silence_ms``, whose offline pass counts a quiet tail (a breath, reverberation) as
        speech where the live VAD already counts silence, so a partial decoded early in the silence would
        not be reused as the final transcript."""
        self.steps = []
        self.current_speech = None
        try:
            return self._run(audio, should_stop, self.steps, heard_silence_ms)
        except Stopped:
            self.stopped += 1
            return None

    def _run(
        self, audio: np.ndarray, should_stop: Callable[[], bool], steps: StepLog, heard: float | None
    ) -> Partial | None:
        started = time.perf_counter()
        try:
            trimmed = trim_silence(audio, self.vad_options)
            silence_ms = trailing_silence_ms(audio, trimmed, self.vad_options) if heard is None else heard
        except NoSpeechError:
            return None
        finally:
            steps.append(("vad", (time.perf_counter() - started) * 1000.0))
        speech = trimmed.audio
        if speech.size < self.options.min_speech_s * SAMPLE_RATE:
            return None
        previous = self.latest
        if previous is not None and self.heard_all(previous, speech):
            previous.audio_s = audio.size / SAMPLE_RATE  # the same transcript holds for the longer audio
            self._speculate_after_pause(previous, trimmed, should_stop, steps)  # the pause may be long now
            return None
        self.current_speech, self.current_silence_ms = speech, silence_ms
        if should_stop():
            raise Stopped("vad")
        committed = previous.stable if previous is not None and self.options.incremental else ""
        language_hint = self.language or (previous.language if committed and previous else None)
        transcript = self._decode(speech, language_hint, committed, should_stop, steps)
        if transcript is None:
            return None
        language = transcript.language
        stable = ""
        if previous is not None and previous.language == language:
            stable = agreed_prefix(previous.text, transcript.text, language, self.options.margin_chars)
            if committed and transcript.text.startswith(committed) and len(stable) < len(committed):
                stable = committed  # committed text only grows
        partial = Partial(
            index=len(self.partials),
            text=transcript.text,
            stable=stable,
            language=language,
            language_probability=transcript.language_probability,
            audio_s=audio.size / SAMPLE_RATE,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            finished=sentence_finished(transcript.text, language),
            silence_ms=silence_ms,
            speech=speech,
            transcript=transcript,
        )
        self.partials.append(partial)
        self._speculate_after_pause(partial, trimmed, should_stop, steps)
        return partial

    def _speculate_after_pause(
        self, partial: Partial, trimmed: Any, should_stop: Callable[[], bool], steps: StepLog
    ) -> None:
        """Translate a finished ``partial`` once the audio (``trimmed``) ends in a long enough pause."""
        pause_s = trimmed.input_s - trimmed.regions[-1][1]
        wanted = self.options.speculate_pause_s
        if partial.finished and (wanted is None or pause_s >= wanted) and not should_stop():
            clock = time.perf_counter()
            if self._speculate(partial):
                steps.append(("mt", (time.perf_counter() - clock) * 1000.0))

    def _decode(
        self,
        speech: np.ndarray,
        language: str | None,
        committed: str,
        should_stop: Callable[[], bool],
        steps: StepLog,
    ) -> Transcript | None:
        """A tentative decode in stoppable steps (one step for a recogniser that cannot be split)."""
        if stepwise(self.partial_asr):
            decoder = TentativeDecoder(self.partial_asr, self.options.chunk_tokens)
            return decoder.decode(speech, language, committed or None, should_stop, steps)
        clock = time.perf_counter()
        transcript = self.partial_asr.transcribe(speech, language, prefix=committed or None)
        steps.append(("decode", (time.perf_counter() - clock) * 1000.0))
        return transcript

    def rollback(self, kept: int) -> None:
        """Undo what a run did after its first ``kept`` steps (a replayed release stopped it there)."""
        done = [name for name, _ in self.steps[:kept]]
        partial = self.latest
        if partial is None or partial.speech is not self.current_speech:
            return
        calls = max(1, [name for name, _ in self.steps].count("decode"))
        if done.count("decode") < calls:  # stopped before its last decoder call: ``run`` drops it
            self.partials.pop()
            self.stopped += 1
        if "mt" not in done:
            self.translations.pop((partial.text, partial.language, self._target()), None)
            partial.whisper_translation = None
        self.steps = self.steps[:kept]

    def _target(self) -> str:
        return self.translate_to[1] if self.translate_to is not None else ""

    def _speculate(self, partial: Partial) -> bool:
        """Translate a finished partial now: with MT, or (into English without an MT pack) with
        Whisper's own speech translation of the same speech, reusing its encoder output; False when
        there was nothing (more) to translate."""
        if self.translate_to is None:
            return False
        router, target = self.translate_to
        key = (partial.text, partial.language, target)
        if key in self.translations or partial.language == target or partial.whisper_translation:
            return False
        started = time.perf_counter()
        try:
            if router is not None and router.can_translate(partial.language, target):
                self.translations[key] = router.translate(partial.text, partial.language, target)
            elif target == "en" and partial.speech is not None and self.partial_asr is self.transcriber:
                partial.whisper_translation = self.transcriber.transcribe(
                    partial.speech, partial.language, task="translate", reuse_encoding=True
                )
        except Exception as exc:  # speculation only; the final turn translates for real
            _LOGGER.debug("speculative translation failed: %s", type(exc).__name__)
        self.speculated_ms += (time.perf_counter() - started) * 1000.0
        return True

    def streamed(self, release_wait_ms: float = 0.0) -> StreamedSpeech:
        """What the pipeline needs at release."""
        return StreamedSpeech(self, release_wait_ms)


class StreamedSpeech:
    """The tentative work of one utterance, handed to ``TurnPipeline.run_turn(streamed=...)``.

    Attributes:
        mode: How the final transcript was made: ``reused``, ``prefix``, ``full`` ("" before).
        prefix: The stable text forced as the prefix ("" when none).
        release_wait_ms: Time the final waited for a partial still running at release (ms).
        translation_reused: The final translation came from speculation.
    """

    def __init__(self, runner: PartialRunner, release_wait_ms: float = 0.0) -> None:
        self.runner = runner
        self.release_wait_ms = release_wait_ms
        self.mode = ""
        self.prefix = ""
        self.translation_reused = False

    @property
    def partials(self) -> list[Partial]:
        """Every partial of the utterance, in order."""
        return self.runner.partials

    def transcribe(self, speech: np.ndarray, language: str | None) -> Transcript:
        """The final transcript of ``speech`` (reused, prefix-decoded or decoded in full)."""
        runner, last = self.runner, self.runner.latest
        options = runner.options
        same_language = last is not None and language in (None, last.language)
        if (
            last is not None
            and same_language
            and options.reuse_final
            and runner.partial_asr is runner.transcriber
            and last.transcript is not None
            and runner.heard_all(last, speech)
        ):
            self.mode = "reused"
            result = copy.copy(last.transcript)
            result.timings_ms = {"reused": 1.0, "total": 0.0}
            return result
        self.prefix = last.stable if last is not None and same_language and options.use_prefix else ""
        decode_language = language or (last.language if same_language and self.prefix else None)
        self.mode = "prefix" if self.prefix else "full"
        result = runner.transcriber.transcribe(speech, decode_language, prefix=self.prefix or None)
        if language is None and self.prefix and last is not None:
            result.language_probability = last.language_probability
        return result

    def whisper_translation(self, speech: np.ndarray, language: str) -> Transcript | None:
        """Whisper's speculative English translation of ``speech`` (``heard_the_same``), or None."""
        last = self.runner.latest
        if (
            last is None
            or last.whisper_translation is None
            or last.language != language
            or not self.runner.heard_all(last, speech)
        ):
            return None
        self.translation_reused = True
        return last.whisper_translation

    def translation(self, text: str, source: str, target: str) -> Any | None:
        """The speculative translation of exactly ``text``, or None."""
        found = self.runner.translations.get((text, source, target))
        if found is not None:
            self.translation_reused = True
        return found

    def discard(self) -> None:
        """Forget the audio and text (the turn is over)."""
        self.runner.partials.clear()
        self.runner.translations.clear()


class StreamingRecognizer:
    """Runs ``PartialRunner`` in a worker thread on snapshots of the growing utterance."""

    def __init__(
        self,
        runner: PartialRunner,
        snapshot: Callable[[], np.ndarray],
        on_partial: Callable[[Partial], None] | None = None,
        *,
        live_vad: Callable[[], tuple[np.ndarray, float]] | None = None,
    ) -> None:
        """``snapshot`` returns the utterance so far (called from the worker; must be thread-safe).

        ``live_vad`` (hands-free): returns the utterance so far together with the silence after its last
        speech frame as the live VAD heard it (``Segmenter.snapshot``); used instead of ``snapshot`` so
        that a partial decoded early in a silence counts as having heard all the speech
        (``PartialRunner.run``'s ``heard_silence_ms``)."""
        self.runner = runner
        self._snapshot = snapshot
        self._live_vad = live_vad
        self._on_partial = on_partial
        self._cond = threading.Condition()
        self._stop = False
        self._final_speech: np.ndarray | None = None
        self._poked = False
        self._preempt = False
        self._poke_speech: np.ndarray | None = None
        self._thread = threading.Thread(target=self._work, name="partial-asr", daemon=True)
        self._cancelled = False
        self.failed = False

    def start(self) -> StreamingRecognizer:
        """Start the worker."""
        self._thread.start()
        return self

    def poke(self) -> None:
        """Decode the audio so far as soon as possible (hands-free, at the start of a silence).

        A partial still running stops after its current step unless it decodes exactly the speech the
        audio so far holds: it started before the silence, so it cannot tell whether the speaker finished
        their sentence, and the end-pointer would wait for it and then for the fresh decode.
        """
        with self._cond:
            self._poked = True
            self._preempt = True
            self._cond.notify()

    @property
    def latest(self) -> Partial | None:
        """The newest partial."""
        return self.runner.latest

    def finish(self, audio: np.ndarray | None = None, timeout_s: float = 60.0) -> StreamedSpeech:
        """Stop and hand over the work; the wait for the worker is timed as ``release_wait_ms``.

        ``audio``: the whole recording. A partial still running carries on only when it decodes exactly
        the speech of ``audio`` (it is then the final decode); any other stops after its current step.
        """
        started = time.perf_counter()
        final = None
        if audio is not None:
            try:
                final = trim_silence(audio, self.runner.vad_options).audio
            except NoSpeechError:
                final = None
        with self._cond:
            self._final_speech = final
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout_s)
        return self.runner.streamed((time.perf_counter() - started) * 1000.0)

    def _take(self) -> tuple[np.ndarray, float | None]:
        """The utterance so far and, with a live VAD, the silence it heard after the last speech frame."""
        if self._live_vad is not None:
            return self._live_vad()
        return self._snapshot(), None

    def _should_stop(self) -> bool:
        """Called by the worker between two steps of a partial (see ``finish`` and ``poke``)."""
        if self._stop:
            if not self.runner.options.stop_at_release:
                return False
            return not self.runner.running_heard_all(self._final_speech)
        if not self._preempt or not self.runner.options.stop_at_poke:
            return False
        if self._poke_speech is None:
            try:
                self._poke_speech = trim_silence(self._take()[0], self.runner.vad_options).audio
            except NoSpeechError:
                return False
        return not self.runner.running_heard_all(self._poke_speech)

    def cancel(self) -> None:
        """Stop without waiting and forget everything (the recording was abandoned): the worker releases
        the recogniser's encoder output of the partials when it exits (at once when it is not running)."""
        with self._cond:
            self._cancelled = True
        self._halt()
        self.runner.partials.clear()
        self.runner.translations.clear()
        if not self._thread.is_alive():
            self.runner.transcriber.release()  # the partials' encoder output

    def _halt(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()

    def _wait_turn(self, due: float) -> bool:
        with self._cond:
            while not self._stop and not self._poked and time.monotonic() < due:
                self._cond.wait(max(0.0, due - time.monotonic()))
            self._poked = False
            self._preempt, self._poke_speech = False, None  # the next decode is the one a poke asked for
            return not self._stop

    def _work(self) -> None:
        try:
            self._decode_while_recording()
        finally:
            if self._cancelled:
                self.runner.partials.clear()
                self.runner.translations.clear()
                self.runner.transcriber.release()  # the partials' encoder output

    def _decode_while_recording(self) -> None:
        options = self.runner.options
        due = time.monotonic() + options.interval_s
        heard = 0
        grew = time.monotonic()
        while self._wait_turn(due):
            audio, heard_silence = self._take()
            started = time.monotonic()
            if audio.size < options.min_audio_s * SAMPLE_RATE or audio.size == heard:
                if started - grew > options.idle_stop_s:
                    return
                due = started + 0.1
                continue
            heard, grew = audio.size, started
            due = started + options.interval_s
            try:
                partial = self.runner.run(audio, self._should_stop, heard_silence)
            except Exception as exc:  # partials are an aid; the final decode still runs
                _LOGGER.warning("tentative recognition failed: %s", type(exc).__name__)
                self.failed = True
                return
            if partial is not None and self._on_partial is not None and not self._stop:
                self._on_partial(partial)
