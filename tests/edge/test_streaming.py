"""Recognition while speaking (edge.streaming) and end-of-thought detection (edge.endpoint), on real
Whisper base and real speech clips."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from bench.scoring import error_rate
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.endpoint import EndPointer, EndpointOptions, sentence_finished
from edge.audio.vad import Segmenter, Utterance, VadOptions, trim_silence
from edge.speech.asr import AsrOptions, WhisperTranscriber
from edge.speech.replay import replay
from edge.speech.streaming import (
    PartialRunner,
    StreamingOptions,
    StreamingRecognizer,
    agreed_prefix,
    heard_the_same,
)
from tests.shared_data import SPEECH_DIR

JA_REFERENCE = "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります"


@pytest.fixture(scope="module")
def transcriber(whisper_base: WhisperTranscriber) -> WhisperTranscriber:
    asr = whisper_base.with_options(AsrOptions(beam_size=5, languages=("ja", "en")))
    asr.warm()
    return asr


@pytest.fixture(scope="module")
def ja_clip() -> np.ndarray:
    return load_audio(SPEECH_DIR / "test_ja_2.wav")


def test_agreed_prefix_keeps_what_two_partials_share() -> None:
    shared = agreed_prefix("これはテスト文です この", "これはテスト文です この機械が", "ja", 2)
    assert shared == "これはテスト文です"
    assert agreed_prefix("", "これは", "ja") == ""
    # Latin scripts: cut back to a whole word.
    assert agreed_prefix("the cabbage jui", "the cabbage juice changes", "en", 0) == "the cabbage"
    assert agreed_prefix("Thank you.", "Thank you.", "en", 0) == "Thank you."


@pytest.mark.parametrize(
    ("text", "language", "finished"),
    [
        ("木村さんはわたしに写真を見せてくれました。", "ja", True),
        ("住民票の写しをください", "ja", True),
        ("こちらでよろしいですか", "ja", True),
        ("転入届を出すときには、", "ja", False),
        ("この書類に名前を書いて", "ja", False),
        ("マイナンバーカードと", "ja", False),
        ("保険証を持ってきたんですけど", "ja", False),
        ("I moved here last month.", "en", True),
        ("I moved here last month and", "en", False),
        ("I need the form for the...", "en", False),
        ("Where do I pay?", "en", True),
        ("Quiero pagar el impuesto de", "es", False),
        ("Quiero pagar el impuesto.", "es", True),
        ("It froze and it wouldn't.", "en", False),  # a full stop at a pause after an auxiliary
        ("Who is it for?", "en", True),  # a question may end in a preposition
        ("It's mine.", "en", True),
        ("No, I don't.", "en", True),  # short complete answers
        ("I can't.", "en", True),
        ("Come in.", "en", True),
        ("", "en", False),
    ],
)
def test_sentence_finished(text: str, language: str, finished: bool) -> None:
    assert sentence_finished(text, language) is finished


def test_end_pointer_waits_longer_for_an_unfinished_sentence() -> None:
    pointer = EndPointer(EndpointOptions(finished_silence_ms=300, max_silence_ms=1200))
    assert not pointer.should_end(200, "写真を見せてくれました。", "ja")
    assert pointer.should_end(320, "写真を見せてくれました。", "ja")
    assert not pointer.should_end(800, "写真を見せて", "ja")
    assert not pointer.should_end(800, None, "ja")  # no fresh transcript yet: wait
    assert pointer.should_end(1200, "写真を見せて", "ja")  # the cap
    silence_only = EndPointer(EndpointOptions(max_silence_ms=500, use_transcript=False))
    assert not silence_only.should_end(400, "写真を見せてくれました。", "ja")
    assert silence_only.should_end(500, "写真を見せて", "ja")


def test_segmenter_can_be_ended_at_the_last_speech_frame(ja_clip: np.ndarray) -> None:
    segmenter = Segmenter(VadOptions(min_silence_ms=5000))
    audio = np.concatenate([ja_clip[: 3 * SAMPLE_RATE], np.zeros(SAMPLE_RATE // 2, dtype=np.float32)])
    outputs = segmenter.push(audio)
    assert not any(isinstance(o, Utterance) for o in outputs)
    assert segmenter.in_speech and segmenter.silence_ms >= 300
    heard = segmenter.heard_ms
    assert 2000 < heard <= 3100
    snapshot = segmenter.current_audio()
    assert snapshot.size >= heard * SAMPLE_RATE / 1000
    segmenter.push(np.zeros(SAMPLE_RATE // 4, dtype=np.float32))  # more silence changes nothing
    ended = [o for o in segmenter.end_now() if isinstance(o, Utterance)]
    assert len(ended) == 1 and not ended[0].forced
    np.testing.assert_array_equal(ended[0].audio, snapshot)  # what a tentative decode heard
    assert not segmenter.in_speech and segmenter.end_now() == []


def test_replay_final_is_as_good_as_a_one_shot_decode(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """Partials on the growing clip agree on a prefix; the final decode (reused or prefix-forced) is
    as accurate as decoding the whole clip at once."""
    speech = trim_silence(ja_clip).audio
    one_shot = transcriber.transcribe(speech, "ja")
    runner = PartialRunner(transcriber, "ja", options=StreamingOptions(interval_s=1.0))
    streamed, stats = replay(runner, ja_clip, decode_s=0.5)  # a partial every second
    assert stats.partials == 10
    assert any(p.stable for p in streamed.partials)
    assert all(p.audio_s <= ja_clip.size / SAMPLE_RATE for p in streamed.partials)
    final = streamed.transcribe(speech, "ja")
    assert streamed.mode in ("reused", "prefix")
    if streamed.mode == "prefix":
        assert final.text.startswith(streamed.prefix)
    one_cer = error_rate(JA_REFERENCE, one_shot.text, "ja")
    assert error_rate(JA_REFERENCE, final.text, "ja") <= one_cer + 0.02
    streamed.discard()
    assert streamed.partials == []


def test_prefix_decoding_continues_after_the_given_text(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    speech = trim_silence(ja_clip).audio
    result = transcriber.transcribe(speech, "ja", prefix="これはテスト文です。")
    assert result.text.startswith("これはテスト文です。")
    assert "日本語" in result.text and len(result.text) > len("これはテスト文です。") + 10


def test_worker_reports_partials_while_audio_grows(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """The worker thread decodes snapshots of audio that is still arriving; finish() hands over the work."""
    chunks: list[np.ndarray] = []
    seen = []
    runner = PartialRunner(transcriber, "ja", options=StreamingOptions(interval_s=0.5, min_audio_s=1.0))
    recognizer = StreamingRecognizer(
        runner, lambda: np.concatenate(list(chunks)) if chunks else np.zeros(0, np.float32), seen.append
    ).start()
    step = SAMPLE_RATE // 5
    for start in range(0, 6 * SAMPLE_RATE, step):
        chunks.append(ja_clip[start : start + step])
        time.sleep(0.1)  # twice real time
    deadline = time.monotonic() + 120  # a loaded machine may still be decoding the first snapshot
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    streamed = recognizer.finish()
    assert seen, "no tentative transcript while the audio was arriving"
    assert seen[0].audio_s < 6.0
    assert any("テスト" in p.text for p in seen)
    assert streamed.partials and streamed.partials[-1].audio_s <= 6.0
    recognizer.cancel()
    assert streamed.partials == []


def test_final_turn_reuses_the_partial_and_its_whisper_translation(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """The speaker had stopped before release: the last partial heard exactly the final speech, so the
    turn neither decodes nor translates again (ja → en by Whisper's own translation, no MT pack)."""
    from edge.turn.pipeline import TurnPipeline

    audio = np.concatenate([ja_clip, np.zeros(SAMPLE_RATE * 3 // 2, dtype=np.float32)])  # then 1.5 s quiet
    runner = PartialRunner(transcriber, "ja", translate_to=(None, "en"))
    streamed, _ = replay(runner, audio, decode_s=0.5)
    last = streamed.partials[-1]
    assert last.finished and last.whisper_translation is not None
    pipeline = TurnPipeline(transcriber, {}, None, languages=("ja", "en"))
    result = pipeline.run_turn(audio, "ja", "en", streamed=streamed)
    assert streamed.mode == "reused" and result.source_text == last.text
    assert result.mt_engine == "whisper-translate" and streamed.translation_reused
    assert result.target_text == last.whisper_translation.text
    assert any(c.isascii() and c.isalpha() for c in result.target_text)


class _Recorded:
    """The real Whisper model with its decoder calls recorded (``generate``); everything else passes."""

    def __init__(self, model: Any, events: list[str]) -> None:
        self._real, self._events = model, events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self._events.append("generate")
        return self._real.generate(*args, **kwargs)


class _RecordedWhisper:
    def __init__(self, whisper: Any, events: list[str]) -> None:
        self._real = whisper
        self.model = _Recorded(whisper.model, events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _released_during_encoding(
    transcriber: WhisperTranscriber, heard: np.ndarray, recording: np.ndarray
) -> tuple[list[str], StreamingRecognizer]:
    """Start a tentative decode of ``heard`` and release (``finish(recording)``) while its encoder runs.

    The encoder pass waits until the release has happened, so the release falls inside the tentative
    decode for certain; the events show what ran after it."""
    events: list[str] = []
    asr = transcriber.with_options(transcriber.options)
    asr._model = _RecordedWhisper(transcriber._model, events)
    encoding = threading.Event()
    real_encode = asr._encode

    def encode(*args: Any, **kwargs: Any) -> Any:
        events.append("encode")
        encoding.set()
        deadline = time.monotonic() + 120
        while not recognizer._stop and time.monotonic() < deadline:
            time.sleep(0.01)
        output = real_encode(*args, **kwargs)
        events.append("encoded")
        return output

    asr._encode = encode
    runner = PartialRunner(asr, "ja", options=StreamingOptions(interval_s=0.1, min_audio_s=1.0))
    recognizer = StreamingRecognizer(runner, lambda: heard).start()
    assert encoding.wait(120), "no tentative decode started"
    events.append("release")
    streamed = recognizer.finish(recording)
    events.append("final")
    streamed.transcribe(trim_silence(recording).audio, "ja")
    return events, recognizer


def test_release_stops_a_tentative_decode_after_its_current_step(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """The speaker went on speaking after the snapshot the worker decodes: at release that decode stops
    after its encoder pass, its decoding never runs, and the final decode comes next."""
    events, recognizer = _released_during_encoding(transcriber, ja_clip[: 4 * SAMPLE_RATE], ja_clip)
    assert events[:4] == ["encode", "release", "encoded", "final"]
    assert "generate" not in events[: events.index("final")]  # the tentative decoding never ran
    assert recognizer.runner.stopped == 1 and recognizer.runner.partials == []
    assert [name for name, _ in recognizer.runner.steps] == ["vad", "encode"]
    assert events[events.index("final") :].count("generate") >= 1  # the final decode itself


def test_a_tentative_decode_of_the_final_speech_carries_on_as_the_final(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """The speaker had stopped: the running decode heard exactly the final speech, so it carries on after
    the release and the turn reuses it instead of decoding again."""
    recording = np.concatenate([ja_clip[: 4 * SAMPLE_RATE], np.zeros(SAMPLE_RATE, np.float32)])
    events, recognizer = _released_during_encoding(transcriber, recording, recording)
    assert events == ["encode", "release", "encoded", "generate", "final"]
    runner = recognizer.runner
    assert runner.stopped == 0 and len(runner.partials) == 1
    streamed = runner.streamed()
    streamed.transcribe(trim_silence(recording).audio, "ja")
    assert streamed.mode == "reused"


def test_replay_stops_the_partial_running_at_release(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """In the benchmark's replay a partial that still runs at release and heard less than the final
    speech is stopped after its current step and rolled back."""
    runner = PartialRunner(transcriber, "ja", options=StreamingOptions(interval_s=1.0))
    audio = ja_clip[: int(8.2 * SAMPLE_RATE)]  # speech from 7.48 s goes on past the release
    streamed, stats = replay(runner, audio, decode_s=0.9)  # the last partial starts at 7.5 s
    assert stats.at_release == "stopped" and stats.stopped_after in ("vad", "encode", "language", "decode")
    assert stats.release_wait_ms < 900.0  # the rest of one step, not of the whole decode
    if stats.stopped_after != "decode":
        assert runner.stopped == 1 and all(p.audio_s < 7.5 for p in streamed.partials)
    options = StreamingOptions(interval_s=1.0, stop_at_release=False)
    waiting = PartialRunner(transcriber, "ja", options=options)
    streamed, stats = replay(waiting, audio, decode_s=0.9)
    assert stats.at_release == "waited" and waiting.stopped == 0
    assert streamed.partials[-1].audio_s == 7.5 and stats.release_wait_ms > 0.0


def test_speculative_translation_waits_for_a_pause(transcriber: WhisperTranscriber) -> None:
    """A finished sentence heard while the speaker may still be speaking (no silence after it yet) is not
    translated speculatively (the translation would be thrown away and could hold up the release); after
    a pause it is."""
    clip = load_audio(SPEECH_DIR / "common_voice_ja_19482480.mp3")  # speech to 4.93 s, then silence
    speaking = PartialRunner(transcriber, "ja", translate_to=(None, "en"))
    partial = speaking.run(clip[: int(5.0 * SAMPLE_RATE)])
    assert partial is not None and partial.finished and partial.whisper_translation is None
    assert [name for name, _ in speaking.steps][-1] != "mt"
    paused = PartialRunner(transcriber, "ja", translate_to=(None, "en"))
    partial = paused.run(clip)  # 0.7 s of silence after the speech
    assert partial is not None and partial.finished and partial.whisper_translation is not None
    assert [name for name, _ in paused.steps][-1] == "mt"


def _poked_when_silence_begins(
    transcriber: WhisperTranscriber, speech: np.ndarray, stale_s: float, options: StreamingOptions
) -> PartialRunner:
    """The worker takes a snapshot of the first ``stale_s`` of ``speech``; by then all of it has been
    said, a silence has begun and hands-free pokes the worker (as ``LiveRecognition.push`` does)."""
    later = np.concatenate([speech, np.zeros(SAMPLE_RATE // 2, np.float32)])
    stale = speech[: int(stale_s * SAMPLE_RATE)]
    runner = PartialRunner(transcriber, "ja", options=options)
    recognizer: StreamingRecognizer | None = None
    calls: list[int] = []

    def snapshot() -> np.ndarray:
        calls.append(len(calls))
        if len(calls) == 1:
            assert recognizer is not None
            recognizer.poke()  # the silence begins while the worker starts on the older snapshot
            return stale
        return later

    recognizer = StreamingRecognizer(runner, snapshot).start()
    wanted = trim_silence(later).audio
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        latest = runner.latest
        if latest is not None and latest.speech is not None and np.array_equal(latest.speech, wanted):
            break
        time.sleep(0.02)
    recognizer.finish(later)
    return runner


def test_a_poke_stops_the_partial_that_cannot_tell_whether_the_sentence_ended(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """Hands-free: when a silence begins, the partial still decoding the speech from before it stops
    after its current step, so the decode of all the speech (which the end-pointer waits for) starts at
    once; without ``stop_at_poke`` the stale partial runs to its end first."""
    speech = ja_clip[: int(3.4 * SAMPLE_RATE)]  # "これはテスト文です" and the next words
    options = StreamingOptions(interval_s=0.05, min_audio_s=1.0)
    runner = _poked_when_silence_begins(transcriber, speech, 2.4, options)
    assert runner.stopped == 1 and len(runner.partials) == 1
    assert [name for name, _ in runner.steps][-1] != "vad"  # the poked decode ran through
    covering = runner.partials[0]
    assert covering.audio_s == pytest.approx(3.9) and "テスト" in covering.text
    waiting = _poked_when_silence_begins(transcriber, speech, 2.4, replace(options, stop_at_poke=False))
    assert waiting.stopped == 0 and len(waiting.partials) == 2
    assert waiting.partials[0].audio_s == pytest.approx(2.4)


def test_a_partial_short_of_only_silence_padding_heard_the_same_speech() -> None:
    speech = np.linspace(-0.5, 0.5, SAMPLE_RATE, dtype=np.float32)
    pad = np.zeros(SAMPLE_RATE // 5, np.float32)  # the VAD's 200 ms after the last word
    final = np.concatenate([speech, pad])
    assert heard_the_same(final, final, 200)
    assert heard_the_same(np.concatenate([speech, pad[:1600]]), final, 200, 100)  # 100 ms of the pad
    # The same samples from a snapshot taken while the speech ran on: they may lack speech.
    assert not heard_the_same(np.concatenate([speech, pad[:1600]]), final, 200, 0)
    assert not heard_the_same(speech[:-1600], final, 200)  # 100 ms of speech missing, and the pad
    assert not heard_the_same(np.concatenate([speech[:1600], speech]), final, 200)  # not a prefix
    assert not heard_the_same(None, final, 200) and not heard_the_same(final, None, 200)


def test_the_final_reuses_a_partial_decoded_early_in_the_silence(transcriber: WhisperTranscriber) -> None:
    """Hands-free asks for a transcript 100 ms into a silence, before the VAD's whole 200 ms pad was
    heard: that partial heard all the speech, so the final reuses it and its speculative translation."""
    clip = load_audio(SPEECH_DIR / "common_voice_ja_19482480.mp3")  # speech to 4.93 s, then silence
    runner = PartialRunner(transcriber, "ja", options=StreamingOptions(speculate_pause_s=None))
    runner.translate_to = (None, "en")
    early = runner.run(clip[: int(5.03 * SAMPLE_RATE)])
    assert early is not None and early.finished and early.whisper_translation is not None
    assert runner.run(clip) is None and runner.latest is early  # only silence was added: no new decode
    streamed = runner.streamed()
    final = streamed.transcribe(trim_silence(clip).audio, "ja")
    assert streamed.mode == "reused" and final.text == early.text
    assert streamed.whisper_translation(trim_silence(clip).audio, "ja") is early.whisper_translation


def test_the_final_never_reuses_a_partial_snapshot_taken_before_the_speech_ended(
    transcriber: WhisperTranscriber,
) -> None:
    """A snapshot 170 ms before the end of the speech: the VAD's region runs to its end without pad, so
    the 170 ms the final adds are speech, not padding; the final decodes them."""
    clip = load_audio(SPEECH_DIR / "librispeech-1995-1837-0001.wav")  # speech to its last sample
    asr = transcriber.with_options(AsrOptions(beam_size=5, languages=("en",)))
    runner = PartialRunner(asr, "en")
    early = runner.run(clip[: clip.size - int(0.17 * SAMPLE_RATE)])
    assert early is not None and early.silence_ms == 0.0
    final_speech = trim_silence(clip).audio
    streamed = runner.streamed()
    final = streamed.transcribe(final_speech, "en")
    assert streamed.mode == "full"  # decoded again, not the early partial reused
    assert final.text.rstrip(" .").lower().endswith("around it"), final.text


def test_hands_free_final_reuses_the_check_decoded_on_the_live_vads_silence(
    transcriber: WhisperTranscriber,
) -> None:
    """64 ms into the silence after the speech the live VAD has heard two silent frames, but measured
    again on the snapshot the quiet tail counts as speech (32 ms of silence: it may still be speech).
    With the live VAD's silence the decode asked for then counts as having heard all the speech, so the
    hands-free final reuses it; without it the final decodes again after the end."""
    clip = load_audio(SPEECH_DIR / "common_voice_ja_19482480.mp3")  # speech to about 4.93 s
    segmenter = Segmenter(VadOptions(min_silence_ms=2000))
    frame = 512
    start = 0
    while not (start > 4.6 * SAMPLE_RATE and segmenter.silence_ms >= 64):
        segmenter.push(clip[start : start + frame])
        start += frame
    audio, heard = segmenter.snapshot()
    assert heard == pytest.approx(64.0)
    np.testing.assert_array_equal(audio, segmenter.current_audio())
    live = PartialRunner(transcriber, "ja")
    early = live.run(audio, heard_silence_ms=heard)
    measured = PartialRunner(transcriber, "ja")
    again = measured.run(audio)
    assert early is not None and again is not None and early.text == again.text
    assert again.silence_ms < 64.0 <= early.silence_ms
    while segmenter.silence_ms < 500:  # the end-pointer's short silence after a finished sentence
        segmenter.push(clip[start : start + frame])
        start += frame
    ended = [o for o in segmenter.end_now() if isinstance(o, Utterance)]
    final_speech = trim_silence(ended[0].audio).audio
    streamed = live.streamed()
    assert streamed.transcribe(final_speech, "ja").text == early.text
    assert streamed.mode == "reused"
    decoded_again = measured.streamed()
    decoded_again.transcribe(final_speech, "ja")
    assert decoded_again.mode != "reused"


def test_a_partial_stopped_between_its_decoder_chunks_is_dropped(
    transcriber: WhisperTranscriber, ja_clip: np.ndarray
) -> None:
    """In the replay (and the hands-free bench) a partial decoded in chunks that a release stops after
    one of its decoder calls but before the last is dropped, as the live worker drops it."""
    runner = PartialRunner(transcriber, "ja", options=StreamingOptions(chunk_tokens=4))
    partial = runner.run(ja_clip[: 4 * SAMPLE_RATE])
    names = [name for name, _ in runner.steps]
    assert partial is not None and names.count("decode") >= 2
    runner.rollback(names.index("decode") + 1)  # stopped after its first decoder call
    assert runner.latest is None and runner.stopped == 1
    kept = PartialRunner(transcriber, "ja", options=StreamingOptions(chunk_tokens=4))
    whole = kept.run(ja_clip[: 4 * SAMPLE_RATE])
    kept.rollback(len(kept.steps))  # stopped in its last decoder call: it ran to its end
    assert kept.latest is whole and kept.stopped == 0
