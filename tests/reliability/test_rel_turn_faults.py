"""A crash inside MT, TTS or ASR spoils one turn at most: the session goes on and the next turn works.

The engines are real (a tiny CTranslate2 ja→en pack, the English Piper voice, Whisper tiny); a thin
fault injector makes one call raise the way a native runtime does (``RuntimeError``), then lets the
real engine answer again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.errors import EdgeError
from edge.events import Notice, SpeechAudio, TurnError
from edge.speech.asr import WhisperTranscriber
from edge.speech.tts import PiperSynthesizer
from edge.translate.router import MtOptions, MtRouter
from edge.turn.pipeline import TurnPipeline
from models import PackStore
from tests.support.tiny_models import build_store

SECRET = "住民票の写しをZEBRA-4471ください。"


# The tiny MT test models are untrained and often loop (紙紙紙…); the pipeline's loop guard would keep
# that off the speaker, so the pipelines here, which test faults and privacy, turn the guard off.
class Faulty:
    """Proxy to a real engine whose method ``name`` raises on the calls numbered in ``fail_on``."""

    def __init__(self, engine: Any, name: str, fail_on: set[int]) -> None:
        self._engine, self._name, self._fail_on, self.calls = engine, name, fail_on, 0

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._engine, attr)
        if attr != self._name:
            return value

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls in self._fail_on:
                raise RuntimeError(f"native engine crashed while handling {args[0]!r}")
            return value(*args, **kwargs)

        return wrapped


@pytest.fixture(scope="module")
def mt_store(tmp_path_factory: pytest.TempPathFactory) -> PackStore:
    return build_store(tmp_path_factory.mktemp("mt"), ("tiny-ja-en",))


@pytest.fixture
def voice(english_synthesizer: PiperSynthesizer) -> PiperSynthesizer:
    return english_synthesizer


@pytest.fixture
def transcriber(whisper_tiny: WhisperTranscriber) -> WhisperTranscriber:
    return whisper_tiny.with_options(whisper_tiny.options)


def _events() -> tuple[list[Any], Any]:
    seen: list[Any] = []
    return seen, seen.append


def test_mt_crash_becomes_a_notice_and_the_next_turn_translates(
    mt_store: PackStore, voice: PiperSynthesizer, caplog: pytest.LogCaptureFixture
) -> None:
    router = Faulty(MtRouter(mt_store, MtOptions(max_decoding_length=12)), "translate", {1})
    pipe = TurnPipeline(None, {"en": voice}, router, languages=("ja", "en"), loop_guard=False)
    seen, emit = _events()
    with caplog.at_level(logging.INFO):
        broken = pipe.translate_text(SECRET, "ja", "en", emit)
    assert broken.target_text == "" and broken.mt_engine == "none"
    assert [e.code for e in seen if isinstance(e, Notice)] == ["mt_failed"]
    assert not any(isinstance(e, TurnError) for e in seen)
    assert "ZEBRA" not in caplog.text  # the engine's message echoed the text: it is not logged
    seen, emit = _events()
    good = pipe.translate_text(SECRET, "ja", "en", emit)
    assert good.mt_engine == "ctranslate2" and good.target_text
    assert good.audio is not None and any(isinstance(e, SpeechAudio) for e in seen)


def test_tts_crash_keeps_the_text_and_the_next_turn_speaks(
    mt_store: PackStore, voice: PiperSynthesizer
) -> None:
    router = MtRouter(mt_store, MtOptions(max_decoding_length=12))
    faulty_voice = Faulty(voice, "synthesize", {1})
    pipe = TurnPipeline(None, {"en": faulty_voice}, router, languages=("ja", "en"), loop_guard=False)
    seen, emit = _events()
    silent = pipe.translate_text(SECRET, "ja", "en", emit)
    assert silent.target_text and silent.audio is None
    assert [e.code for e in seen if isinstance(e, Notice)] == ["voice_failed"]
    seen, emit = _events()
    spoken = pipe.translate_text(SECRET, "ja", "en", emit)
    assert spoken.audio is not None and spoken.audio.size > 0


def test_asr_crash_ends_the_turn_with_an_error_and_the_next_turn_works(
    transcriber: WhisperTranscriber, eval_dir: Path
) -> None:
    from edge.audio.decode import load_audio

    faulty = Faulty(transcriber, "transcribe", {1})
    pipe = TurnPipeline(faulty, {}, None, languages=("ja", "en"))  # type: ignore[arg-type]
    audio = load_audio(eval_dir / "speech" / "test_ja_2.wav")[: 16000 * 4]
    seen, emit = _events()
    with pytest.raises(EdgeError) as info:
        pipe.run_turn(audio, "ja", "ja", emit)
    assert info.value.code == "engine_failed"
    assert "ZEBRA" not in str(info.value)
    errors = [e for e in seen if isinstance(e, TurnError)]
    assert len(errors) == 1 and errors[0].code == "engine_failed"
    assert pipe.run_turn(audio, "ja", "ja").source_text


@pytest.fixture
def counter(mt_store: PackStore, voice: PiperSynthesizer, tmp_path: Path) -> Iterator[TestClient]:
    from edge.counter.app import CounterOptions, create_app

    router = Faulty(MtRouter(mt_store, MtOptions(max_decoding_length=12)), "translate", {1})
    pipe = TurnPipeline(
        None, {"en": Faulty(voice, "synthesize", {1})}, router, languages=("ja", "en"), loop_guard=False
    )
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    with TestClient(
        create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0)),
        base_url="http://localhost",
    ) as client:
        yield client


def _turn(ws: Any, text: str) -> dict[str, dict[str, Any]]:
    ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": text}))
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(60):
        message = ws.receive_json()
        seen.setdefault(message["type"], message)
        if message["type"] == "notice":
            seen[f"notice:{message.get('code')}"] = message
        assert message["type"] != "error", message  # e.g. a turn sent while the last one still ran
        if message["type"] == "turn_end":
            while not (message["type"] == "state" and not message.get("busy")):
                message = ws.receive_json()  # the next turn may start once the connection is idle
            return seen
    raise AssertionError(f"no turn_end among {list(seen)}")


def test_counter_session_survives_engine_crashes(counter: TestClient) -> None:
    with counter.websocket_connect("ws://localhost/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.receive_json()
        ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
        ws.receive_json()
        first = _turn(ws, SECRET)  # MT crashes
        assert "notice:mt_failed" in first and "translation" not in first
        second = _turn(ws, SECRET)  # MT works, the voice crashes
        assert second["translation"]["text"] and "notice:voice_failed" in second
        third = _turn(ws, SECRET)  # both work
        assert third["translation"]["text"] and "speech_audio" in third
