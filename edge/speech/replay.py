"""The worker's schedule replayed on a recorded clip against a virtual clock (the benchmark and tests).

Partial *i* starts at ``max(start_{i-1} + interval, end_{i-1})`` on the audio captured by then, and
push-to-talk is released at the end of the clip, as ``edge.speech.streaming.StreamingRecognizer`` would
see it live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.audio.vad import VadOptions, trim_silence
from edge.errors import NoSpeechError
from edge.speech.streaming import PartialRunner, StreamedSpeech


@dataclass
class ReplayStats:
    """What a replay of a clip saw.

    Attributes:
        partials: Partial decodes run (count).
        release_wait_ms: Wait at release for the partial still running (ms).
        first_partial_s: Time after the start of speech when the first tentative text was ready (s).
        busy_ms: Time spent decoding partials (ms).
        speculated_ms: Time spent translating speculatively (ms).
        at_release: What the partial running at release did: ``stopped`` (after its current step),
            ``carried-on`` (it decoded the final speech, so it became the final decode), ``waited`` (for
            the whole partial: ``StreamingOptions.stop_at_release`` off) or ``idle``.
        stopped_after: The step after which it stopped (``vad``, ``encode``, ``language``, ``decode``,
            ``mt``; "" when it did not stop).
    """

    partials: int = 0
    release_wait_ms: float = 0.0
    first_partial_s: float | None = None
    busy_ms: float = 0.0
    speculated_ms: float = 0.0
    at_release: str = "idle"
    stopped_after: str = ""


def replay(
    runner: PartialRunner, audio: np.ndarray, *, decode_s: float | None = None
) -> tuple[StreamedSpeech, ReplayStats]:
    """Run the worker's schedule on a recorded utterance against a virtual clock.

    The clock is the capture's: partial *i* starts at ``max(start_{i-1} + interval, end_{i-1})`` on
    the audio captured by then; push-to-talk is released at the end of ``audio``. A partial still running
    at release behaves as ``StreamingRecognizer.finish`` makes it: it carries on if it decodes the final
    speech, else it stops after the step in progress (the replay ran it whole and rolls back the rest);
    the wait is ``release_wait_ms``. Each step takes the time it really took, or the steps of a partial
    are scaled to ``decode_s`` in all (a fixed schedule, independent of the machine's load).
    """
    options = runner.options
    duration = audio.size / SAMPLE_RATE
    stats = ReplayStats()
    final = _final_speech(audio, runner.vad_options)
    start = options.min_audio_s
    while start < duration:
        clock = time.perf_counter()
        partial = runner.run(audio[: int(start * SAMPLE_RATE)])
        elapsed = time.perf_counter() - clock
        scale = 1.0 if decode_s is None else decode_s / max(elapsed, 1e-9)
        elapsed *= scale
        stats.partials += 1
        stats.busy_ms += elapsed * 1000.0
        end = start + elapsed
        if end > duration:
            end = _release(runner, stats, start, duration, final, scale)
        kept = partial is not None and runner.latest is partial
        if kept and partial.text and stats.first_partial_s is None:
            stats.first_partial_s = round(end, 3)
        start = max(start + options.interval_s, end)
    stats.speculated_ms = runner.speculated_ms
    return runner.streamed(stats.release_wait_ms), stats


def _final_speech(audio: np.ndarray, vad_options: VadOptions) -> np.ndarray | None:
    try:
        return trim_silence(audio, vad_options).audio
    except NoSpeechError:
        return None


def _release(
    runner: PartialRunner,
    stats: ReplayStats,
    start: float,
    release: float,
    final: np.ndarray | None,
    scale: float,
) -> float:
    """The partial that began at ``start`` runs at ``release``: carry on or stop after the current step
    (rolled back); returns when the final decode can start."""
    boundaries = np.cumsum([ms * scale / 1000.0 for _, ms in runner.steps]) + start
    end = float(boundaries[-1]) if boundaries.size else release
    if not runner.options.stop_at_release:
        stats.at_release = "waited"
    elif runner.running_heard_all(final):
        stats.at_release = "carried-on"
    else:
        kept = int(np.searchsorted(boundaries, release)) + 1  # steps finished by the end of the current
        kept = min(kept, len(runner.steps))
        end = float(boundaries[kept - 1]) if kept else release
        stats.at_release = "stopped"
        stats.stopped_after = runner.steps[kept - 1][0] if kept else ""
        runner.rollback(kept)
    stats.release_wait_ms = max(0.0, (end - release) * 1000.0)
    return end
