"""Voice activity detection with the Silero VAD model bundled in faster-whisper.

Two uses:

- ``trim_silence`` cuts leading/trailing silence and long pauses out of a whole clip before ASR
  (Whisper hallucinates on silence; less audio also means a shorter encoder window).
- ``Segmenter`` takes microphone frames one by one and emits ``SpeechStarted``/``SpeechStopped`` and the
  finished ``Utterance`` once ``min_silence_ms`` of silence follows speech (the live counter's
  end-of-turn detector). It keeps the model's recurrent state between frames, which
  ``get_speech_timestamps`` cannot do.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.errors import NoSpeechError
from edge.events import SpeechStarted, SpeechStopped

_LOGGER = logging.getLogger(__name__)

#: Silero VAD works on windows of 512 samples at 16 kHz (32 ms) with 64 samples of context.
FRAME_SAMPLES = 512
_CONTEXT_SAMPLES = 64


@dataclass(frozen=True)
class VadOptions:
    """Per-call VAD settings.

    Attributes:
        threshold: Speech probability above which a frame is speech (0..1).
        min_silence_ms: Silence that ends an utterance (milliseconds).
        speech_pad_ms: Audio kept before and after each speech region (milliseconds).
        max_speech_s: An utterance is cut after this long (seconds).
        min_speech_ms: Speech regions shorter than this are ignored (milliseconds).
    """

    threshold: float = 0.5
    min_silence_ms: int = 500
    speech_pad_ms: int = 200
    max_speech_s: float = 30.0
    min_speech_ms: int = 250


@dataclass(frozen=True)
class TrimmedSpeech:
    """The speech of a clip with silence removed.

    Attributes:
        audio: 16 kHz mono float32 speech.
        speech_s: Duration of ``audio`` (seconds).
        input_s: Duration of the clip before trimming (seconds).
        regions: ``(start_s, end_s)`` of each kept region in the input.
    """

    audio: np.ndarray
    speech_s: float
    input_s: float
    regions: list[tuple[float, float]]


def trim_silence(audio: np.ndarray, options: VadOptions = VadOptions()) -> TrimmedSpeech:
    """Keep only the speech regions of a 16 kHz clip (with ``speech_pad_ms`` around each).

    Raises:
        NoSpeechError: no region of speech was found.
    """
    from faster_whisper.vad import VadOptions as FwVadOptions
    from faster_whisper.vad import get_speech_timestamps

    fw_options = FwVadOptions(
        threshold=options.threshold,
        min_speech_duration_ms=options.min_speech_ms,
        max_speech_duration_s=float("inf"),
        min_silence_duration_ms=options.min_silence_ms,
        speech_pad_ms=options.speech_pad_ms,
    )
    regions = get_speech_timestamps(audio, fw_options, sampling_rate=SAMPLE_RATE)
    if not regions:
        raise NoSpeechError("no speech heard in the audio; speak closer to the microphone and try again")
    kept = np.concatenate([audio[r["start"] : r["end"]] for r in regions]).astype(np.float32, copy=False)
    return TrimmedSpeech(
        audio=kept,
        speech_s=kept.size / SAMPLE_RATE,
        input_s=audio.size / SAMPLE_RATE,
        regions=[(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in regions],
    )


def trailing_silence_ms(
    audio: np.ndarray, trimmed: TrimmedSpeech, options: VadOptions = VadOptions()
) -> float:
    """The silence after the last speech frame of ``audio`` (ms; 0 while the speech runs to its end).

    ``trimmed`` is ``trim_silence(audio, options)``. Its last region runs to the end of the clip, without
    the pad, until ``min_silence_ms`` of silence closed it; the VAD then runs once more, without pad or
    minimum silence, on the last second to find where the speech stopped.
    """
    from faster_whisper.vad import VadOptions as FwVadOptions
    from faster_whisper.vad import get_speech_timestamps

    start_s, end_s = trimmed.regions[-1]
    if end_s < trimmed.input_s - 0.5 / SAMPLE_RATE:  # closed: the pad ends before the clip does
        return (trimmed.input_s - end_s) * 1000.0 + options.speech_pad_ms
    frames = min(audio.size - int(start_s * SAMPLE_RATE), SAMPLE_RATE) // FRAME_SAMPLES
    tail = audio[audio.size - frames * FRAME_SAMPLES :]  # whole frames: none padded with zeros
    exact = FwVadOptions(
        threshold=options.threshold, min_speech_duration_ms=0, min_silence_duration_ms=0, speech_pad_ms=0
    )
    regions = get_speech_timestamps(tail, exact, sampling_rate=SAMPLE_RATE)
    if not regions:
        return 0.0  # the two passes disagree: assume the speech may still run
    return (tail.size - regions[-1]["end"]) * 1000.0 / SAMPLE_RATE


@dataclass(frozen=True)
class Utterance:
    """One finished utterance from the ``Segmenter``.

    Attributes:
        audio: 16 kHz mono float32, with ``speech_pad_ms`` before it.
        start_ms: Start in the stream (milliseconds).
        end_ms: End of speech in the stream (milliseconds).
        forced: True when the utterance was cut at ``max_speech_s`` rather than ended by silence.
    """

    audio: np.ndarray
    start_ms: float
    end_ms: float
    forced: bool = False


SegmenterOutput = SpeechStarted | SpeechStopped | Utterance


class Segmenter:
    """Streaming end-of-speech detector: push frames, get events and utterances.

    Frames may have any length; they are re-cut into 512-sample windows internally. One segmenter per
    audio stream, pushed from one thread; ``snapshot``/``current_audio`` and ``end_now`` may be called from
    another (they hold the segmenter's lock).
    """

    def __init__(self, options: VadOptions = VadOptions()) -> None:
        """Load Silero VAD (cached by faster-whisper, so a second segmenter costs nothing)."""
        from faster_whisper.vad import get_vad_model

        self.options = options
        self._session = get_vad_model().session
        self._neg_threshold = max(options.threshold - 0.15, 0.01)
        frame_ms = FRAME_SAMPLES * 1000 / SAMPLE_RATE
        self._frame_ms = frame_ms
        self._silence_frames = max(1, round(options.min_silence_ms / frame_ms))
        self._min_speech_frames = max(1, round(options.min_speech_ms / frame_ms))
        self._max_speech_frames = max(1, round(options.max_speech_s * 1000 / frame_ms))
        self._pad_frames = max(0, round(options.speech_pad_ms / frame_ms))
        self._lock = threading.Lock()  # the frames and the silence change together (``snapshot``)
        self.reset()

    def reset(self) -> None:
        """Forget all state (a new stream)."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT_SAMPLES), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._preroll: deque[np.ndarray] = deque(maxlen=self._pad_frames + 1)
        self._speech: list[np.ndarray] = []
        self._in_speech = False
        self._announced = False
        self._silent_run = 0
        self._speech_frames = 0
        self._frames_seen = 0
        self._start_frame = 0

    @property
    def in_speech(self) -> bool:
        """True while an utterance is open."""
        return self._in_speech

    @property
    def silence_ms(self) -> float:
        """Silence since the last speech frame of the open utterance (ms; 0 outside speech)."""
        return self._silent_run * self._frame_ms if self._in_speech else 0.0

    @property
    def heard_ms(self) -> float:
        """Audio of the open utterance up to its last speech frame (ms, pre-roll included)."""
        return (len(self._speech) - self._silent_run) * self._frame_ms if self._in_speech else 0.0

    def current_audio(self) -> np.ndarray:
        """The open utterance as it would be if it ended now: up to the last speech frame plus
        ``speech_pad_ms`` (a copy; safe to call from another thread). Once the silence is at least the
        pad long, this is exactly the audio ``end_now`` will return while no speech follows."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[np.ndarray, float]:
        """``current_audio`` and the silence after its last speech frame as this VAD heard it (ms; at most
        the pad), read together (safe to call from another thread while frames are pushed)."""
        with self._lock:
            frames = list(self._speech)
            in_speech = self._in_speech
            silent = self._silent_run if in_speech else 0
        keep = len(frames) - silent + self._pad_frames if in_speech else len(frames)
        frames = frames[: max(1, keep)]
        audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.float32)
        return audio, min(silent, self._pad_frames) * self._frame_ms

    def end_now(self) -> list[SegmenterOutput]:
        """End the open utterance at its last speech frame (an end-pointer decided; [] when none)."""
        with self._lock:
            if self._in_speech and self._announced:
                return self._close(forced=False)
            return []

    def probability(self, frame: np.ndarray) -> float:
        """Speech probability of one 512-sample frame (advances the model state)."""
        window = np.concatenate([self._context, frame.reshape(1, -1)], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": window, "h": self._h, "c": self._c})
        self._context = frame.reshape(1, -1)[:, -_CONTEXT_SAMPLES:]
        return float(np.asarray(out).reshape(-1)[0])

    def push(self, samples: np.ndarray) -> list[SegmenterOutput]:
        """Feed 16 kHz mono float32 samples; returns what happened, in order."""
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32).reshape(-1)])
        usable = data.size - data.size % FRAME_SAMPLES
        self._pending = data[usable:]
        outputs: list[SegmenterOutput] = []
        for start in range(0, usable, FRAME_SAMPLES):
            outputs.extend(self._step(data[start : start + FRAME_SAMPLES]))
        return outputs

    def flush(self) -> list[SegmenterOutput]:
        """End of stream (push-to-talk released): close an open utterance."""
        with self._lock:
            if self._in_speech and self._announced:
                return self._close(forced=True)
            self._speech = []
            self._in_speech = False
            return []

    def _step(self, frame: np.ndarray) -> list[SegmenterOutput]:
        prob = self.probability(frame)
        with self._lock:
            return self._advance(frame, prob)

    def _advance(self, frame: np.ndarray, prob: float) -> list[SegmenterOutput]:
        index = self._frames_seen
        self._frames_seen += 1
        outputs: list[SegmenterOutput] = []
        if not self._in_speech:
            self._preroll.append(frame)
            if prob >= self.options.threshold:
                self._in_speech = True
                self._announced = False
                self._start_frame = index
                self._speech = list(self._preroll)
                self._speech_frames = 1
                self._silent_run = 0
            return outputs
        self._speech.append(frame)
        if prob >= self.options.threshold or (prob >= self._neg_threshold and self._silent_run == 0):
            self._speech_frames += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        if not self._announced and self._speech_frames >= self._min_speech_frames:
            self._announced = True
            outputs.append(SpeechStarted(timestamp_ms=self._start_frame * self._frame_ms))
        if self._silent_run >= self._silence_frames:
            if self._announced:
                outputs.extend(self._close(forced=False))
            else:  # a click or a cough: too short to be speech
                self._discard()
        elif len(self._speech) - len(self._preroll) >= self._max_speech_frames and self._announced:
            outputs.extend(self._close(forced=True))
        return outputs

    def _discard(self) -> None:
        self._speech = []
        self._in_speech = False
        self._preroll.clear()

    def _close(self, *, forced: bool) -> list[SegmenterOutput]:
        end_frame = self._frames_seen - (0 if forced else self._silent_run)
        keep = len(self._speech) if forced else len(self._speech) - self._silent_run + self._pad_frames
        audio = np.concatenate(self._speech[: max(1, keep)])
        start_ms = self._start_frame * self._frame_ms
        end_ms = end_frame * self._frame_ms
        self._discard()
        self._silent_run = 0
        return [
            SpeechStopped(timestamp_ms=end_ms, duration_ms=end_ms - start_ms),
            Utterance(audio=audio, start_ms=start_ms, end_ms=end_ms, forced=forced),
        ]
