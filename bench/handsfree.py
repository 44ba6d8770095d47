"""Hands-free end-pointing on the bench clips: false cut-offs and end-of-speech delay per setting.

Each clip is one utterance, streamed in 30 ms frames (like a microphone callback) and followed by 2 s of
silence. A setting either ends utterances on silence alone (``silence-N``: the VAD's ``min_silence_ms``)
or with the transcript-aware ``edge.endpoint.EndPointer`` (``thought-F/C``: F ms after a finished
sentence, up to C ms otherwise). For the latter, when a silence reaches ``check_after_ms`` the tentative
transcript of the speech so far is decoded for real (Whisper, same options as the counter) and becomes
available ``decode time`` later on the stream's clock, as in the counter's worker thread.

- **false cut-off**: the clip was split (an utterance ended before its last speech);
- **end-of-speech delay**: stream time from the end of the last speech to the end decision (ms).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.clips import Clip
from bench.scoring import percentile

FRAME = 480  # 30 ms at 16 kHz
TAIL_S = 2.0


@dataclass(frozen=True)
class Setting:
    """One end-pointing setting (``transcript``: use the EndPointer, else silence alone)."""

    name: str
    silence_ms: int
    max_silence_ms: int = 0
    transcript: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("silence-300", 300),
    Setting("silence-500", 500),
    Setting("silence-800", 800),
    Setting("thought-300/1200", 300, 1200, True),
    Setting("thought-300/1500", 300, 1500, True),
    Setting("thought-500/1500", 500, 1500, True),
)
DEFAULT_SETTING = "thought-300/1200"


def _clip_run(clip_audio: np.ndarray, setting: Setting, runner_factory: Any) -> dict[str, Any]:
    """Stream one clip; returns utterance count, delay of the last end (ms) and decodes run."""
    from edge.endpoint import EndPointer, EndpointOptions
    from edge.vad import Segmenter, Utterance, VadOptions

    cap = setting.max_silence_ms if setting.transcript else setting.silence_ms
    segmenter = Segmenter(VadOptions(min_silence_ms=cap))
    pointer = EndPointer(EndpointOptions(finished_silence_ms=setting.silence_ms, max_silence_ms=cap))
    audio = np.concatenate([clip_audio, np.zeros(int(TAIL_S * 16000), dtype=np.float32)])
    ends: list[tuple[float, float]] = []  # (decision ms, speech end ms)
    pending: tuple[float, str, str, float] | None = None  # (ready at ms, text, language, covers ms)
    decodes = 0
    runner = runner_factory() if setting.transcript else None
    for start in range(0, audio.size, FRAME):
        now_ms = (start + FRAME) / 16.0
        outputs = segmenter.push(audio[start : start + FRAME])
        utterance = next((o for o in outputs if isinstance(o, Utterance)), None)
        if utterance is None and runner is not None and segmenter.in_speech:
            silence = segmenter.silence_ms
            if silence <= 0:
                pending = None
            elif pending is None and pointer.wants_transcript(silence):
                clock = time.perf_counter()
                partial = runner.run(segmenter.current_audio())
                decodes += 1
                ready = now_ms + (time.perf_counter() - clock) * 1000.0
                text = partial.text if partial is not None else ""
                language = partial.language if partial is not None else None
                pending = (ready, text, language or "", segmenter.heard_ms)
            fresh = pending is not None and now_ms >= pending[0] and pending[3] + 40 >= segmenter.heard_ms
            if fresh and pending and pointer.should_end(silence, pending[1], pending[2] or None):
                outputs = segmenter.end_now()
                utterance = next((o for o in outputs if isinstance(o, Utterance)), None)
        if utterance is not None:
            decided = max(now_ms, pending[0]) if pending is not None else now_ms
            ends.append((decided, utterance.end_ms))
            pending = None
            if runner is not None:
                runner = runner_factory()
    for item in segmenter.flush():
        if isinstance(item, Utterance):
            ends.append((audio.size / 16.0, item.end_ms))
    delay = ends[-1][0] - ends[-1][1] if ends else None
    return {
        "utterances": len(ends),
        "delay_ms": None if delay is None else round(delay, 1),
        "decodes": decodes,
    }


def endpointing_table(
    clips: Sequence[tuple[Clip, np.ndarray]],
    transcriber: Any,
    settings: Sequence[Setting] = SETTINGS,
) -> dict[str, Any]:
    """Every setting on every clip: false cut-offs, end-of-speech delay p50/p90 and per-clip detail."""
    from dataclasses import replace

    from edge.streaming import PartialRunner, StreamingOptions

    rows: dict[str, Any] = {}
    per_clip: dict[str, dict[str, Any]] = {}
    saved = transcriber.options
    try:
        for setting in settings:
            cut = 0
            counted = 0
            delays: list[float] = []
            for clip, audio in clips:
                multi = "concatenated" in clip.note or "utterances" in clip.note
                pair = (clip.language, "en" if clip.language != "en" else "ja")
                transcriber.options = replace(saved, beam_size=5, short_window=True, languages=pair)

                def factory(t: Any = transcriber) -> Any:
                    return PartialRunner(t, None, options=StreamingOptions())

                run = _clip_run(audio, setting, factory)
                per_clip.setdefault(clip.name, {})[setting.name] = run
                if multi:
                    continue
                counted += 1
                cut += int(run["utterances"] > 1)
                if run["delay_ms"] is not None:
                    delays.append(run["delay_ms"])
            rows[setting.name] = {
                "false_cutoffs": cut,
                "clips": counted,
                "delay_p50_ms": _r(percentile(delays, 50)),
                "delay_p90_ms": _r(percentile(delays, 90)),
                "transcript_aware": setting.transcript,
            }
    finally:
        transcriber.options = saved
    return {"settings": rows, "per_clip": per_clip, "default": DEFAULT_SETTING}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
