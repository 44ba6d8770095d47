"""Tentative transcripts over the counter's WebSocket, with real Whisper base on a real clip."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from bench.scoring import error_rate
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.endpoint import EndpointOptions
from edge.audio.vad import VadOptions, trim_silence
from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.speech.streaming import StreamingOptions
from tests.support.counter import receive_until

JA_REFERENCE = "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります"


@pytest.fixture(scope="module")
def pipeline(default_store, whisper_base, tmp_path_factory: pytest.TempPathFactory):
    from edge.turn.pipeline import TurnPipeline

    home = tmp_path_factory.mktemp("live")
    settings = EdgeSettings(home=home, packs_dir=default_store.root)
    return TurnPipeline.from_settings(
        settings, pairs=[("ja", "en"), ("en", "ja")], warm=True, transcriber=whisper_base
    )


def _app(pipeline, tmp_path: Path, **options: Any):
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    counter = CounterOptions(idle_timeout_s=0, streaming=StreamingOptions(interval_s=0.5), **options)
    return create_app(settings, pipeline=pipeline, options=counter)


def _stream(ws: Any, audio: np.ndarray, speed: float = 2.0) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    step = 6400  # 0.2 s
    for start in range(0, len(pcm), step):
        ws.send_bytes(pcm[start : start + step])
        time.sleep(0.2 / speed)


def _start(ws: Any, mode: str) -> None:
    assert ws.receive_json()["type"] == "hello"
    assert ws.receive_json()["type"] == "state"
    ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
    ws.receive_json()
    ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": mode, "sample_rate": 16000}))
    ws.receive_json()


@pytest.mark.slow
def test_partials_arrive_while_speaking_and_the_final_is_as_good(
    pipeline, tmp_path: Path, eval_dir: Path
) -> None:
    audio = load_audio(eval_dir / "speech" / "test_ja_2.wav")
    duration = audio.size / SAMPLE_RATE
    one_shot = pipeline.transcriber.transcribe(trim_silence(audio).audio, "ja").text
    with (
        TestClient(_app(pipeline, tmp_path), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _start(ws, "ptt")
        _stream(ws, audio, speed=1.0)
        ws.send_text(json.dumps({"type": "stop"}))
        seen = receive_until(ws, "turn_end", errors_fail=False)
        ws.close()
    partials = [m for m in seen if m["type"] == "transcript_partial"]
    assert partials, [m["type"] for m in seen]
    assert partials[0]["audio_s"] < duration - 2.0  # heard while the clerk was still speaking
    assert all(m["speaker"] == "clerk" and m["language"] == "ja" for m in partials)
    assert all(m["text"].startswith(m["stable"]) for m in partials)
    assert any("テスト" in m["text"] for m in partials)
    types = [m["type"] for m in seen]
    assert max(i for i, t in enumerate(types) if t == "transcript_partial") < types.index("turn_started")
    final = next(m for m in seen if m["type"] == "transcript")["text"]
    assert final == one_shot or error_rate(JA_REFERENCE, final, "ja") <= error_rate(
        JA_REFERENCE, one_shot, "ja"
    )
    assert next(m for m in seen if m["type"] == "translation")["text"]


@pytest.mark.slow
@pytest.mark.parametrize(("cut_s", "turns"), [(2.3, 1), (1.9, 2)])
def test_hands_free_waits_for_the_end_of_the_sentence(
    pipeline, tmp_path: Path, eval_dir: Path, cut_s: float, turns: int
) -> None:
    """A 2.5 s pause after "この機械が" (unfinished) does not end the utterance; the same pause after
    "これはテスト文です。" (a finished sentence) does (the pause is long only so that a loaded machine
    has decoded the tentative transcript before speech resumes)."""
    speech = trim_silence(load_audio(eval_dir / "speech" / "test_ja_2.wav")).audio
    cut = int(cut_s * SAMPLE_RATE)
    pause = np.zeros(int(2.5 * SAMPLE_RATE), dtype=np.float32)
    tail = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)  # longer than the cap: the utterance always ends
    endpoint = EndpointOptions(finished_silence_ms=300, max_silence_ms=4000)
    app = _app(pipeline, tmp_path, endpoint=endpoint)
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _start(ws, "handsfree")
        _stream(ws, np.concatenate([pause, speech[:cut], pause]), speed=1.0)
        _stream(ws, np.concatenate([speech[cut:], tail]), speed=1.0)
        seen = receive_until(ws, "turn_end", errors_fail=False)
        ws.send_text(json.dumps({"type": "stop"}))
        ws.close()
    transcripts = [m["text"] for m in seen if m["type"] == "transcript"]
    assert len(transcripts) == 1
    assert any(m["type"] == "transcript_partial" for m in seen)
    if turns == 1:
        assert "テスト" in transcripts[0] and ("日本" in transcripts[0] or "機械" in transcripts[0])
    else:  # ended at the pause: the first turn holds the first sentence only
        assert "テスト" in transcripts[0] and "日本" not in transcripts[0] and "機械" not in transcripts[0]


@pytest.mark.slow
def test_a_tap_ends_the_hands_free_utterance(pipeline, tmp_path: Path, eval_dir: Path) -> None:
    """``end_utterance`` (the page's Done button) ends the utterance while no silence has come yet."""
    speech = trim_silence(load_audio(eval_dir / "speech" / "test_ja_2.wav")).audio[: 4 * SAMPLE_RATE]
    # Neither silence nor the end of a sentence ends it here: only the tap can.
    never = {"endpoint": EndpointOptions(use_transcript=False), "vad": VadOptions(min_silence_ms=60_000)}
    with (
        TestClient(_app(pipeline, tmp_path, **never), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _start(ws, "handsfree")
        _stream(ws, speech, speed=4.0)
        ws.send_text(json.dumps({"type": "end_utterance"}))
        seen = receive_until(ws, "turn_end", errors_fail=False)
        ws.send_text(json.dumps({"type": "stop"}))
        ws.close()
    transcripts = [m["text"] for m in seen if m["type"] == "transcript"]
    assert len(transcripts) == 1 and "テスト" in transcripts[0]


@pytest.mark.slow
def test_ending_the_conversation_mid_recording_drops_the_partials_encoder_output(
    pipeline, tmp_path: Path, eval_dir: Path
) -> None:
    """The partials encode into the pipeline's recogniser; ending the conversation before the
    recording finished leaves nothing of that encoder output behind (privacy)."""
    audio = load_audio(eval_dir / "speech" / "test_ja_2.wav")
    with (
        TestClient(_app(pipeline, tmp_path), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _start(ws, "ptt")
        _stream(ws, audio[: 5 * SAMPLE_RATE], speed=1.0)
        receive_until(ws, "transcript_partial", errors_fail=False)
        ws.send_text(json.dumps({"type": "end_conversation"}))
        receive_until(ws, "conversation_ended", errors_fail=False)
        deadline = time.monotonic() + 30  # a partial still running releases when its worker exits
        while pipeline.transcriber._last_encoded is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pipeline.transcriber._last_encoded is None
        ws.close()
