"""Nothing slow runs on the counter's event loop: while one screen's turn decodes, another is answered.

A real hands-free clerk turn (Silero VAD on streamed frames, Whisper base heard and translated into English,
the English voice) runs on one WebSocket while a second screen sends ``hello`` every 20 ms and a probe task
sleeps again and again on the app's own loop (``bench.loop_lag.drive_turn``). Every Whisper decode of the
turn is bracketed: were one run on the event loop, neither the probe nor the second screen could be served
until it ended. How late the loop wakes is a reported number: ``madoguchi bench loop-lag``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bench.loop_lag import drive_turn, summarise, turn_audio
from edge.config import EdgeSettings
from edge.counter.app import create_app
from edge.counter.service import CounterOptions
from edge.speech.asr import WhisperTranscriber
from edge.turn.pipeline import TurnPipeline
from tests.shared_data import SPEECH_DIR


def _bracket_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """(start, end) of every Whisper decode from now on (``time.perf_counter`` seconds)."""
    decodes: list[tuple[float, float]] = []
    transcribe = WhisperTranscriber.transcribe

    def bracketed(self: WhisperTranscriber, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return transcribe(self, *args, **kwargs)
        finally:
            decodes.append((start, time.perf_counter()))

    monkeypatch.setattr(WhisperTranscriber, "transcribe", bracketed)
    return decodes


@pytest.mark.slow
def test_another_screen_is_answered_while_a_turn_decodes(
    default_store: Any, whisper_base: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = EdgeSettings(
        home=tmp_path, packs_dir=default_store.root, languages=["ja", "en"], cpu_threads=1
    )
    pipe = TurnPipeline.from_settings(settings, pairs=[("ja", "en")], warm=True, transcriber=whisper_base)
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    decodes = _bracket_decodes(monkeypatch)
    run = drive_turn(app, turn_audio(SPEECH_DIR / "test_ja_2.wav"))
    kinds = [m["type"] for m in run.messages]
    assert "transcript" in kinds and "speech_audio" in kinds, kinds
    assert decodes, "the turn never reached Whisper"
    start, end = max(decodes, key=lambda d: d[1] - d[0])  # the longest decode: the final transcript
    assert run.wakes_between(start, end) > 0, "the event loop stalled for a whole Whisper decode"
    assert run.hellos_between(start, end) > 0, "the second screen went unanswered for a whole decode"
    assert run.hellos[-1][0] > end, "the second screen stopped being answered"
    summary = summarise([run])  # what the bench reports, from the same run
    assert summary["probes"] == len(run.wakes) and summary["hellos"] == len(run.hellos)
    assert summary["lag_p50_ms"] <= summary["lag_p95_ms"] <= summary["lag_max_ms"]
