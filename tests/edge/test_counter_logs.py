"""No conversation text at any log level: real turns (Whisper, CTranslate2 MT, Piper) with every logger
at DEBUG, then every log line is searched for what was said and its translation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from edge.audio.decode import load_audio
from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.speech.asr import WhisperTranscriber
from edge.speech.tts import PiperSynthesizer
from edge.translate.router import MtOptions, MtRouter
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary
from tests.support.counter import choose_language, push_to_talk, turn_done
from tests.support.tiny_models import build_store

pytestmark = pytest.mark.slow


@pytest.fixture()
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Root and every named logger at DEBUG (as ``--debug`` would), restored afterwards."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(logger, logger.level, logger.propagate) for logger in loggers]
    caplog.set_level(logging.DEBUG)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.propagate = True
    try:
        yield caplog
    finally:
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


def test_debug_logs_hold_no_conversation_text(
    default_store: Any,
    eval_dir: Path,
    tmp_path: Path,
    every_logger_at_debug: pytest.LogCaptureFixture,
    whisper_base: WhisperTranscriber,
    english_synthesizer: PiperSynthesizer,
) -> None:
    """Spoken, typed and resident turns through the counter: no transcript or translation in any log line."""
    transcriber = whisper_base.with_options(replace(whisper_base.options, languages=("ja", "en")))
    voice = english_synthesizer
    router = MtRouter(
        build_store(tmp_path / "mt", ("tiny-ja-en",)),
        MtOptions(max_decoding_length=24),
        glossary=bundled_glossary(),
    )
    pipe = TurnPipeline(transcriber, {"en": voice}, router, languages=("ja", "en"))
    settings = EdgeSettings(home=tmp_path / "home", packs_dir=default_store.root)
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    audio = load_audio(eval_dir / "speech" / "test_ja_2.wav")[: 16000 * 5]
    pcm = (audio * 32767).astype("<i2").tobytes()
    events: list[dict[str, Any]] = []
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        choose_language(ws, "en")
        push_to_talk(ws, pcm)
        events += turn_done(ws, errors_fail=False)
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "住民票の写しを三通ください"}))
        events += turn_done(ws, errors_fail=False)
        ws.send_text(json.dumps({"type": "text", "speaker": "resident", "text": "Where do I pay the fee?"}))
        events += turn_done(ws, errors_fail=False)
        ws.send_text(json.dumps({"type": "end_conversation"}))
    said = [e["text"] for e in events if e["type"] in ("transcript", "translation") and e.get("text")]
    engines = {e.get("engine") for e in events if e["type"] == "translation"}
    assert "ctranslate2" in engines, engines  # the MT module really translated
    assert any("テスト" in text for text in said)  # Whisper really heard the clip
    assert "住民票の写しを三通ください" in said and "Where do I pay the fee?" in said
    pieces = {
        piece.strip() for text in said for piece in (text, *text.split("。")) if len(piece.strip()) >= 4
    }
    records = every_logger_at_debug.records
    assert any(r.levelno == logging.DEBUG for r in records)  # debug logging was really on
    for record in records:
        line = record.getMessage() + (record.exc_text or "")
        for piece in pieces:
            assert piece not in line, f"{record.name} logged conversation text: {line[:200]}"


def test_an_engine_failure_is_logged_without_its_message(
    every_logger_at_debug: pytest.LogCaptureFixture,
) -> None:
    from edge.turn.result import log_engine_failure

    said = "住民票の写しを2通お願いします"

    def decode(text: str) -> None:
        try:
            text.encode("ascii")
        except UnicodeEncodeError as exc:  # a native-style message quoting the conversation
            raise RuntimeError(f"cannot decode {text!r}") from exc

    try:
        decode(said)
    except RuntimeError as exc:
        log_engine_failure("mt", exc)
    logged = "\n".join(every_logger_at_debug.messages) + every_logger_at_debug.text
    assert said not in logged and "住民票" not in logged
    debug = [r.getMessage() for r in every_logger_at_debug.records if r.levelno == logging.DEBUG]
    assert any("RuntimeError at " in m and ":decode" in m and "UnicodeEncodeError" in m for m in debug)
