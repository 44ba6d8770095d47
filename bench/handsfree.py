"""Hands-free end-pointing on the bench clips: false cut-offs and end-of-speech delay per setting.

Each clip is one utterance, streamed in 30 ms frames (like a microphone callback) and followed by at
least 2 s of silence (the cap + 1 s when longer). A setting either ends utterances on silence alone
(``silence-N``: the VAD's ``min_silence_ms``) or with the transcript-aware ``edge.endpoint.EndPointer``
(``thought-F/C``: F ms after a finished sentence, up to C ms otherwise). For the latter, when a silence
reaches ``check_after_ms`` the tentative transcript of the speech so far is decoded for real (Whisper,
same options as the counter) and becomes available ``decode time`` later on the stream's clock; a decode
still running on the speech before the silence is stopped after its current step first (as
``StreamingRecognizer.poke`` does), unless the setting says ``no preempt``. During speech the worker also
decodes every ``interval_s``, as the counter's worker thread does. Decode times are wall-clock times of
this machine: on a loaded machine they, and so the delays of the transcript-aware settings, grow (the
check decode's process CPU time, reported beside its wall time, grows much less).

- **false cut-off**: the clip was split (an utterance ended before its last speech);
- **end-of-speech delay**: stream time from the end of the last speech to the end decision (ms).

``endpointing_cutoffs`` counts the false cut-offs of the streaming VAD alone at a few silence lengths."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.clips import Clip
from bench.scoring import percentile, rounded

FRAME = 480  # 30 ms at 16 kHz
TAIL_S = 2.0  # seconds of silence after each clip, at least (the cap + 1 s when longer)


@dataclass(frozen=True)
class Setting:
    """One end-pointing setting (``transcript``: use the EndPointer, else silence alone).

    ``check_after_ms`` is when a silence asks for a fresh transcript; ``preempt``: that request stops
    a tentative decode still running on the speech before the silence (``StreamingOptions.stop_at_poke``);
    ``decode_scale`` multiplies every decode's measured time on the stream's clock (0: transcripts are
    ready at once, as on a much faster machine: the most a fast decode lets a pause cut, independent of
    this machine's load). ``live_vad``: the worker decodes ``Segmenter.snapshot`` with the silence the
    live VAD heard (as the counter's hands-free does); False: that silence is measured on the snapshot
    again (``trailing_silence_ms``), as before the live VAD's judgement was passed on.
    """

    name: str
    silence_ms: int
    max_silence_ms: int = 0
    transcript: bool = False
    check_after_ms: int = 100
    preempt: bool = True
    decode_scale: float = 1.0
    live_vad: bool = True


SETTINGS: tuple[Setting, ...] = (
    Setting("silence-300", 300),
    Setting("silence-500", 500),
    Setting("silence-800", 800),
    Setting("thought-300/1200, check at 200 ms, no preempt", 300, 1200, True, 200, False),
    Setting("thought-300/2000", 300, 2000, True),
    Setting("thought-500/2000, check at 200 ms, no preempt", 500, 2000, True, 200, False),
    Setting("thought-500/2000", 500, 2000, True),
    Setting("thought-500/2000, instant decodes", 500, 2000, True, decode_scale=0.0),
)
DEFAULT_SETTING = "thought-500/2000"


class _Worker:
    """The counter's recognition worker on the stream's clock: one decode at a time, each available
    ``decode time`` after it started; periodic partials every ``interval_s`` during speech. A poke (a
    silence began) stops a running decode after its current step, as ``StreamingRecognizer.poke`` does."""

    def __init__(
        self, runner: Any, decode_ms: list[float], scale: float = 1.0, live_vad: bool = True
    ) -> None:
        self.runner = runner
        self.scale = scale
        self.live_vad = live_vad
        self.free_at = 0.0
        self.next_due = runner.options.min_audio_s * 1000.0
        self.results: list[tuple[float, str, str, float]] = []  # (ready ms, text, language, covers ms)
        self.decode_ms = decode_ms
        self.last_cpu_ms = 0.0
        self.preempted = 0
        self._started = 0.0
        self._steps: list[tuple[str, float]] = []
        self._result_of_last: bool = False

    def run(self, now_ms: float, segmenter: Any) -> None:
        start = max(now_ms, self.free_at)
        clock, cpu = time.perf_counter(), time.process_time()
        audio, silence = segmenter.snapshot() if self.live_vad else (segmenter.current_audio(), None)
        partial = self.runner.run(audio, heard_silence_ms=silence)
        latest = self.runner.latest
        if partial is None and latest is not None and latest.audio_s * 16000 == audio.size:
            partial = latest  # only silence was added: the last transcript holds
        elapsed = (time.perf_counter() - clock) * 1000.0 * self.scale
        # The process CPU time of the last decode (ms): less sensitive than its wall time to other work
        # on a shared machine (every thread of the process counts, so with 2 engine threads on an idle
        # machine it exceeds the wall time).
        self.last_cpu_ms = (time.process_time() - cpu) * 1000.0
        self._started = start
        self._steps = [(name, ms * self.scale) for name, ms in self.runner.steps]
        self.free_at = start + elapsed
        self.decode_ms.append(elapsed)
        self.next_due = start + self.runner.options.interval_s * 1000.0
        self._result_of_last = partial is not None
        if partial is not None:
            self.results.append((self.free_at, partial.text, partial.language, segmenter.heard_ms))

    def preempt(self, now_ms: float) -> None:
        """A poke at ``now_ms``: the decode still running stops after its current step (rolled back)."""
        if now_ms >= self.free_at or not self._steps or not self.runner.options.stop_at_poke:
            return
        boundaries = np.cumsum([ms for _, ms in self._steps]) + self._started
        kept = min(int(np.searchsorted(boundaries, now_ms)) + 1, len(self._steps))
        if kept >= len(self._steps):
            return  # in its last step (one uninterruptible decoder call): it finishes
        before = self.runner.latest
        self.runner.rollback(kept)
        self.preempted += 1
        self.free_at = float(boundaries[kept - 1])
        if self._result_of_last and self.runner.latest is not before and self.results:
            self.results.pop()
        elif self._result_of_last and self.results:  # kept (decoded), but ready when its step ended
            ready, text, language, covers = self.results[-1]
            self.results[-1] = (min(ready, self.free_at), text, language, covers)
        self._steps = []

    def latest(self, now_ms: float, heard_ms: float) -> tuple[str | None, str | None]:
        """The newest transcript ready by ``now_ms`` that heard all ``heard_ms`` of speech."""
        ready = [r for r in self.results if r[0] <= now_ms]
        if not ready or ready[-1][3] + 40 < heard_ms:
            return None, None
        return ready[-1][1], ready[-1][2]


class _Stream:
    """One clip streamed frame by frame through the segmenter, the end-pointer and the worker."""

    def __init__(self, setting: Setting, runner_factory: Any) -> None:
        from edge.audio.endpoint import EndPointer, EndpointOptions
        from edge.audio.vad import Segmenter, VadOptions

        self.setting = setting
        self.cap = setting.max_silence_ms if setting.transcript else setting.silence_ms
        self.segmenter = Segmenter(VadOptions(min_silence_ms=self.cap))
        self.pointer = EndPointer(
            EndpointOptions(
                finished_silence_ms=setting.silence_ms,
                max_silence_ms=self.cap,
                check_after_ms=setting.check_after_ms,
            )
        )
        self.factory = runner_factory
        self.decode_ms: list[float] = []
        self.worker = self._worker()
        #: (decision ms, speech end ms, ended by, the transcript's last words it ended on)
        self.ends: list[tuple[float, float, str, str | None]] = []
        self.poked = False
        self.check: dict[str, float] = {}
        self.decodes = 0
        self.preempted = 0
        #: The last utterance's final transcript would be its last partial (no decode after the end).
        self.final_reuses: bool | None = None

    def _worker(self) -> _Worker | None:
        if not self.setting.transcript:
            return None
        return _Worker(self.factory(), self.decode_ms, self.setting.decode_scale, self.setting.live_vad)

    def push(self, now_ms: float, samples: np.ndarray) -> None:
        """One 30 ms frame of the microphone at stream time ``now_ms``."""
        from edge.audio.vad import Utterance

        outputs = self.segmenter.push(samples)
        utterance = next((o for o in outputs if isinstance(o, Utterance)), None)
        ended_by, text = ("cap" if self.setting.transcript else "silence"), None
        if utterance is None and self.worker is not None and self.segmenter.in_speech:
            silence = self.segmenter.silence_ms
            text, language = self._transcript(now_ms, silence, self.worker)
            if silence > 0 and self.pointer.should_end(silence, text, language):
                ended = self.segmenter.end_now()
                utterance = next((o for o in ended if isinstance(o, Utterance)), None)
                ended_by = "cap" if silence >= self.cap else "finished"
        if utterance is not None:
            self.ends.append((now_ms, utterance.end_ms, ended_by, None if text is None else text[-30:]))
            if self.worker is not None:
                self.final_reuses = _reusable(self.worker.runner, utterance.audio)
                self.preempted += self.worker.preempted
                self.worker, self.poked = self._worker(), False

    def _transcript(self, now_ms: float, silence: float, worker: _Worker) -> tuple[str | None, str | None]:
        """Poke or run the worker as the counter does; the transcript ready now that heard all speech."""
        self.poked = self.poked and silence > 0
        poke = not self.poked and self.pointer.wants_transcript(silence)
        if poke:
            worker.preempt(now_ms)
            self.check = {"check_wait_ms": max(0.0, worker.free_at - now_ms)}
        if poke or (silence <= 0 and now_ms >= worker.next_due and now_ms >= worker.free_at):
            worker.run(now_ms, self.segmenter)
            self.decodes += 1
            if poke:
                self.check["check_decode_ms"] = worker.decode_ms[-1]
                self.check["check_cpu_ms"] = worker.last_cpu_ms
            self.poked = self.poked or poke
        return worker.latest(now_ms, self.segmenter.heard_ms)

    def result(self, end_ms: float) -> dict[str, Any]:
        """Flush at stream time ``end_ms``; the clip's figures (see ``_clip_run``)."""
        from edge.audio.vad import Utterance

        for item in self.segmenter.flush():
            if isinstance(item, Utterance):
                self.ends.append((end_ms, item.end_ms, "flush", None))
        delay = self.ends[-1][0] - self.ends[-1][1] if self.ends else None
        return {
            "utterances": len(self.ends),
            "preempted": self.preempted + (self.worker.preempted if self.worker is not None else 0),
            "delay_ms": None if delay is None else round(delay, 1),
            "ended_by": self.ends[-1][2] if self.ends else None,
            **{key: round(value, 1) for key, value in self.check.items()},
            "ends": [[round(at), round(end), by, text] for at, end, by, text in self.ends],
            "final_reuses_partial": self.final_reuses,
            "decodes": self.decodes,
            "decode_ms": self.decode_ms,
        }


def _reusable(runner: Any, utterance_audio: np.ndarray) -> bool:
    """True when the final recognition of ``utterance_audio`` reuses the runner's last partial
    (``StreamedSpeech.transcribe``: it heard all the speech), so nothing is decoded after the end."""
    from edge.audio.vad import trim_silence
    from edge.errors import NoSpeechError

    try:
        speech = trim_silence(utterance_audio, runner.vad_options).audio
    except NoSpeechError:
        return False
    return bool(runner.heard_all(runner.latest, speech))


def _clip_run(clip_audio: np.ndarray, setting: Setting, runner_factory: Any) -> dict[str, Any]:
    """Stream one clip; returns utterance count, delay of the last end (ms), decodes run and where the
    delay of the last end went (``ended_by``: finished / cap / flush / silence; ``check_wait_ms``: how
    long the decode the last silence asked for waited for the worker; ``check_decode_ms``: that decode's
    time; ``check_cpu_ms``: its process CPU time), and every end (``ends``: decision ms, speech end ms,
    ended by, the transcript's last words)."""
    cap = setting.max_silence_ms if setting.transcript else setting.silence_ms
    tail_s = max(TAIL_S, cap / 1000.0 + 1.0)
    audio = np.concatenate([clip_audio, np.zeros(int(tail_s * 16000), dtype=np.float32)])
    stream = _Stream(setting, runner_factory)
    for start in range(0, audio.size, FRAME):
        stream.push((start + FRAME) / 16.0, audio[start : start + FRAME])
    return stream.result(audio.size / 16.0)


@dataclass(frozen=True)
class TentativeAsr:
    """The recognition options of the tentative decodes (those of the configuration measured)."""

    beam_size: int = 5
    short_window: bool = True
    pair_languages: bool = True


def endpointing_table(
    clips: Sequence[tuple[Clip, np.ndarray]],
    transcriber: Any,
    settings: Sequence[Setting] = SETTINGS,
    asr: TentativeAsr = TentativeAsr(),
) -> dict[str, Any]:
    """Every setting on every clip: false cut-offs, end-of-speech delay p50/p90 and per-clip detail."""
    from dataclasses import replace

    from edge.speech.streaming import PartialRunner, StreamingOptions

    rows: dict[str, Any] = {}
    per_clip: dict[str, dict[str, Any]] = {}
    saved = transcriber.options
    try:
        for setting in settings:
            cut = 0
            counted = 0
            delays: list[float] = []
            decode_times: list[float] = []
            waits: list[float] = []
            checks: list[float] = []
            cpus: list[float] = []
            finished = 0
            reused = 0
            preempted = 0
            for clip, audio in clips:
                multi = clip.multi_utterance
                pair = (clip.language, "en" if clip.language != "en" else "ja")
                transcriber.options = replace(
                    saved,
                    beam_size=asr.beam_size,
                    short_window=asr.short_window,
                    languages=pair if asr.pair_languages else None,
                )

                def factory(t: Any = transcriber, preempt: bool = setting.preempt) -> Any:
                    return PartialRunner(t, None, options=StreamingOptions(stop_at_poke=preempt))

                run = _clip_run(audio, setting, factory)
                decode_times.extend(run.pop("decode_ms"))
                preempted += run["preempted"]
                per_clip.setdefault(clip.name, {})[setting.name] = run
                if multi:
                    continue
                counted += 1
                cut += int(run["utterances"] > 1)
                finished += int(run["ended_by"] == "finished")
                reused += int(bool(run["final_reuses_partial"]))
                waits += [run["check_wait_ms"]] if "check_wait_ms" in run else []
                checks += [run["check_decode_ms"]] if "check_decode_ms" in run else []
                cpus += [run["check_cpu_ms"]] if "check_cpu_ms" in run else []
                if run["delay_ms"] is not None:
                    delays.append(run["delay_ms"])
            rows[setting.name] = {
                "false_cutoffs": cut,
                "clips": counted,
                "delay_p50_ms": rounded(percentile(delays, 50)),
                "delay_p90_ms": rounded(percentile(delays, 90)),
                "transcript_aware": setting.transcript,
                "tentative_decode_p50_ms": rounded(percentile(decode_times, 50)),
                "preempted": preempted,
                "ended_on_finished_sentence": finished,
                "final_reuses_partial": reused,
                "check_wait_p50_ms": rounded(percentile(waits, 50)),
                "check_cpu_p50_ms": rounded(percentile(cpus, 50)),
                "check_decode_p50_ms": rounded(percentile(checks, 50)),
            }
    finally:
        transcriber.options = saved
    return {"settings": rows, "per_clip": per_clip, "default": DEFAULT_SETTING}


def endpointing_cutoffs(
    clips: Sequence[tuple[Clip, np.ndarray]], silences_ms: Sequence[int] = (300, 500, 800)
) -> dict[str, Any]:
    """How many clips the streaming VAD would cut mid-utterance at each end-of-speech silence length.

    A clip is "cut" when the ``Segmenter`` emits more than one utterance for it (every clip is one turn;
    clips noted as concatenated utterances are reported but not counted).
    """
    from edge.audio.vad import Segmenter, Utterance, VadOptions

    out: dict[str, Any] = {"silences_ms": list(silences_ms), "per_clip": {}, "cut": {}, "clips": 0}
    for silence in silences_ms:
        out["cut"][str(silence)] = 0
    for clip, audio in clips:
        multi = clip.multi_utterance
        counts: dict[str, int] = {}
        for silence in silences_ms:
            segmenter = Segmenter(VadOptions(min_silence_ms=silence))
            utterances = 0
            for start in range(0, audio.size, FRAME):  # 30 ms frames, like a microphone callback
                utterances += sum(
                    isinstance(o, Utterance) for o in segmenter.push(audio[start : start + FRAME])
                )
            utterances += sum(isinstance(o, Utterance) for o in segmenter.flush())
            counts[str(silence)] = utterances
            if utterances > 1 and not multi:
                out["cut"][str(silence)] += 1
        out["per_clip"][clip.name] = {"utterances": counts, "multi_utterance_clip": multi}
        out["clips"] += 0 if multi else 1
    return out


def config_rows(
    table: dict[str, Any],
    configs: Sequence[Any],
    clips: Sequence[tuple[Clip, np.ndarray]],
    transcriber: Any,
    silence_setting: str = "silence-500",
) -> dict[str, Any]:
    """Hands-free per configuration: a configuration that recognises while the speaker speaks ends
    utterances with the default end-of-thought setting, decoded with its own recognition options (measured
    once per distinct option set); one that does not has only silence (the VAD's default 500 ms)."""
    measured: dict[TentativeAsr, dict[str, Any]] = {TentativeAsr(): table["settings"]}
    default = next(s for s in SETTINGS if s.name == DEFAULT_SETTING)
    rows: dict[str, Any] = {}
    for config in configs:
        if not config.asr_streaming:
            found = table["settings"].get(silence_setting)
            rows[config.name] = {"setting": silence_setting, **_brief(found)}
            continue
        asr = TentativeAsr(
            config.partial_beam or config.asr_beam, config.asr_short_window, config.asr_pair_languages
        )
        if asr not in measured:
            measured[asr] = endpointing_table(clips, transcriber, [default], asr)["settings"]
        rows[config.name] = {"setting": DEFAULT_SETTING, **_brief(measured[asr].get(DEFAULT_SETTING))}
    return rows


def _brief(row: dict[str, Any] | None) -> dict[str, Any]:
    keys = ("false_cutoffs", "clips", "delay_p50_ms", "delay_p90_ms")
    return {k: (row or {}).get(k) for k in keys}
