"""Partials decoded while the speaker still speaks are stopped within one decoder chunk (hands-free: the
decode of all the speech starts sooner after a silence begins); a partial that may become the final
transcript stays one uninterrupted beam search. Real Whisper base on real clips."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.vad import trim_silence
from edge.speech.asr import AsrOptions, WhisperTranscriber
from edge.speech.streaming import PartialRunner, StreamingOptions, StreamingRecognizer
from tests.shared_data import SPEECH_DIR


@pytest.fixture(scope="module")
def transcriber(whisper_base: WhisperTranscriber) -> WhisperTranscriber:
    return whisper_base.with_options(AsrOptions(beam_size=5, languages=("ja", "en")))


@pytest.fixture(scope="module")
def ja_clip() -> np.ndarray:
    return load_audio(SPEECH_DIR / "test_ja_2.wav")


def _decoder_calls(runner: PartialRunner) -> int:
    return [name for name, _ in runner.steps].count("decode")


def test_only_a_partial_heard_while_speaking_is_decoded_in_chunks(transcriber: WhisperTranscriber) -> None:
    clip = load_audio(SPEECH_DIR / "common_voice_ja_19482480.mp3")  # speech to 4.93 s, then silence
    options = StreamingOptions(speaking_chunk_tokens=4)
    speaking = PartialRunner(transcriber, "ja", options=options)
    partial = speaking.run(clip[: int(3.5 * SAMPLE_RATE)])  # the speaker is mid-sentence
    assert partial is not None and partial.silence_ms == 0.0 and len(partial.text) > 8
    assert _decoder_calls(speaking) >= 2
    paused = PartialRunner(transcriber, "ja", options=options)
    whole = paused.run(clip)  # 0.7 s of silence after the speech: it may become the final transcript
    assert whole is not None and whole.silence_ms > 100.0
    assert _decoder_calls(paused) == 1
    one_call = transcriber.transcribe(trim_silence(clip).audio, "ja")
    assert whole.text == one_call.text  # the same beam search as the final decode
    streamed = paused.streamed()
    assert streamed.transcribe(trim_silence(clip).audio, "ja").text == whole.text
    assert streamed.mode == "reused"


class _PokedAtFirstDecoderCall:
    """The real Whisper model; its first ``generate`` call pokes the recogniser (a silence began while
    the worker was decoding a snapshot taken during the speech)."""

    def __init__(self, model: Any, poke: Any) -> None:
        self._real, self._poke, self.calls = model, poke, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self._poke()
        return self._real.generate(*args, **kwargs)


class _Whisper:
    def __init__(self, whisper: Any, model: Any) -> None:
        self._real, self.model = whisper, model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _poked_during_first_decoder_call(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray, options: StreamingOptions
) -> tuple[PartialRunner, list[list[str]]]:
    """The worker decodes 2.4 s of speech (the speaker goes on); the silence after 3.4 s begins while its
    first decoder call runs. Returns the runner and the steps of each run."""
    speech = ja_clip[: int(3.4 * SAMPLE_RATE)]
    later = np.concatenate([speech, np.zeros(SAMPLE_RATE // 2, np.float32)])
    asr = transcriber.with_options(transcriber.options)
    recognizer: StreamingRecognizer | None = None
    model = _PokedAtFirstDecoderCall(transcriber._model.model, lambda: recognizer and recognizer.poke())
    asr._model = _Whisper(transcriber._model, model)
    runner = PartialRunner(asr, "ja", options=options)
    runs: list[list[str]] = []
    real_run = runner.run

    def run(audio: np.ndarray, should_stop: Any = lambda: False) -> Any:
        result = real_run(audio, should_stop)
        runs.append([name for name, _ in runner.steps])
        return result

    runner.run = run  # type: ignore[method-assign]
    snapshots = iter([speech[: int(2.4 * SAMPLE_RATE)]])
    recognizer = StreamingRecognizer(runner, lambda: next(snapshots, later)).start()
    wanted = trim_silence(later).audio
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        latest = runner.latest
        if latest is not None and latest.speech is not None and np.array_equal(latest.speech, wanted):
            break
        time.sleep(0.02)
    recognizer.finish(later)
    return runner, runs


def test_a_poke_waits_for_one_decoder_chunk_of_a_partial_heard_while_speaking(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """The stale partial stops after the decoder call running at the poke (not after its whole decode),
    and the decode of all the speech (which the end-pointer waits for) comes next and is kept."""
    options = StreamingOptions(interval_s=0.05, min_audio_s=1.0, speaking_chunk_tokens=4)
    runner, runs = _poked_during_first_decoder_call(transcriber, ja_clip, options)
    assert runs[0] == ["vad", "encode", "decode"] and runner.stopped == 1
    assert len(runner.partials) == 1 and "テスト" in runner.partials[0].text
    assert runner.partials[0].audio_s == pytest.approx(3.9)
    whole = replace(options, speaking_chunk_tokens=0)  # one decoder call: the poke waits for all of it
    waiting, runs = _poked_during_first_decoder_call(transcriber, ja_clip, whole)
    assert runs[0] == ["vad", "encode", "decode"] and waiting.stopped == 0
    assert len(waiting.partials) == 2 and waiting.partials[0].audio_s == pytest.approx(2.4)
