"""The counter's WebSocket protocol with a real client (Starlette's TestClient over the real app)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from tests.support.counter import push_to_talk, receive_until, turn_done, wait_for


def _greet(ws: Any) -> Any:
    assert ws.receive_json()["type"] == "hello"
    assert ws.receive_json()["type"] == "state"
    return ws


@pytest.fixture()
def app(tmp_path: Path):
    """The counter app without models (protocol handling does not need them)."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    return create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0))


@pytest.fixture()
def client(app) -> TestClient:
    with TestClient(app, base_url="http://localhost") as c:
        yield c


@pytest.fixture()
def connect(client: TestClient):
    """Open WebSocket sessions that are closed before the client stops."""
    with contextlib.ExitStack() as stack:
        yield lambda: _greet(stack.enter_context(client.websocket_connect("ws://localhost/ws")))


def test_hello_reports_the_protocol_version(connect) -> None:
    """A hello (protocol 1 or 2) is answered with protocol 2 and the audio format; others are refused."""
    ws = connect()
    ws.send_text(json.dumps({"type": "hello", "protocol": 2}))
    hello = ws.receive_json()
    assert hello["protocol"] == 2 and hello["sample_rate"] == 16000
    assert hello["confirm_before_speaking"] is False and hello["glossary_version"]
    ws.send_text(json.dumps({"type": "hello", "protocol": 1}))
    assert ws.receive_json()["protocol"] == 2
    ws.send_text(json.dumps({"type": "hello", "protocol": 99}))
    error = ws.receive_json()
    assert error["type"] == "error" and error["code"] == "protocol"
    ws.close()


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"type": "dance"}), "unknown message type"),
        (json.dumps({"type": "start", "speaker": "mayor"}), "speaker"),
        (json.dumps({"type": "edit", "turn_id": "t9", "text": "x"}), "no turn"),
        (json.dumps({"type": "phrase", "phrase_id": "nope.nothing"}), "no phrase"),
        (json.dumps({"type": "text", "speaker": "clerk", "text": "x" * 20000}), "too large"),
    ],
)
def test_bad_messages_get_an_error_and_the_connection_stays_usable(connect, frame, needle) -> None:
    """Each malformed message gets one error event; the next valid message still works."""
    ws = connect()
    ws.send_text(frame)
    error = ws.receive_json()
    assert error["type"] == "error" and needle in error["text"]
    ws.send_text(json.dumps({"type": "set_language", "language": "vi"}))
    state = ws.receive_json()
    assert state["type"] == "state" and state["resident_language"] == "vi" and state["locked"]
    ws.close()


def test_binary_before_start_is_refused(connect) -> None:
    """Audio without a start message is an error, not a crash."""
    ws = connect()
    ws.send_bytes(b"\x00\x00" * 100)
    error = ws.receive_json()
    assert error["type"] == "error" and "before start" in error["text"]
    ws.close()


def test_wrong_sample_rate_is_refused(connect) -> None:
    """Only 16 kHz PCM is accepted; the recording does not start."""
    ws = connect()
    ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
    ws.receive_json()
    ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": "ptt", "sample_rate": 44100}))
    error = ws.receive_json()
    assert error == {"type": "error", "text": error["text"], "code": "sample_rate"}
    ws.send_bytes(b"\x00\x00" * 10)
    assert "before start" in ws.receive_json()["text"]
    ws.close()


def test_oversize_and_odd_frames_are_refused(connect) -> None:
    """A frame above the limit or with an odd byte count is dropped with an error."""
    ws = connect()
    ws.send_text(json.dumps({"type": "start", "speaker": "resident", "mode": "ptt", "sample_rate": 16000}))
    assert ws.receive_json()["recording"]["speaker"] == "resident"
    ws.send_bytes(b"\x00" * (64 * 1024 + 2))
    assert "too large" in ws.receive_json()["text"]
    ws.send_bytes(b"\x00" * 3)
    assert "even number" in ws.receive_json()["text"]
    ws.close()


def test_clerk_cannot_speak_before_a_language_is_chosen(connect) -> None:
    """The clerk's turn needs the resident's language."""
    ws = connect()
    ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": "ptt", "sample_rate": 16000}))
    assert ws.receive_json()["code"] == "no_language"
    ws.close()


def test_language_lock_until_the_conversation_ends(connect) -> None:
    """Once chosen, the language cannot change; ending the conversation unlocks and erases it."""
    ws = connect()
    ws.send_text(json.dumps({"type": "set_language", "language": "pt"}))
    assert ws.receive_json()["resident_language"] == "pt"
    ws.send_text(json.dumps({"type": "set_language", "language": "es"}))
    error = ws.receive_json()
    assert error["type"] == "error" and error["code"] == "language"
    assert ws.receive_json()["resident_language"] == "pt"
    ws.send_text(json.dumps({"type": "end_conversation"}))
    assert ws.receive_json() == {"type": "conversation_ended", "reason": "ended"}
    state = ws.receive_json()
    assert state["resident_language"] is None and not state["locked"] and state["turns"] == 0
    ws.close()


def test_disconnect_mid_utterance_frees_the_conversation(app, client: TestClient, connect) -> None:
    """A page closing while recording leaves no session, recording or content behind."""
    ws = connect()
    ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
    ws.receive_json()
    ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": "ptt", "sample_rate": 16000}))
    ws.receive_json()
    for _ in range(5):
        ws.send_bytes((np.sin(np.arange(1600) / 5) * 8000).astype("<i2").tobytes())
    service = app.state.counter
    assert wait_for(lambda: service.status()["conversations"]["recording"] == 1)
    ws.close()
    assert wait_for(lambda: service.status()["conversations"]["connected"] == 0)
    status = client.get("/api/status").json()["conversations"]
    assert status == {"connected": 0, "holding_content": 0, "turns": 0, "recording": 0}


def test_two_clients_have_their_own_conversations(client: TestClient, connect) -> None:
    """A second screen neither sees nor changes the first one's conversation."""
    first, second = connect(), connect()
    first.send_text(json.dumps({"type": "set_language", "language": "ko"}))
    assert first.receive_json()["resident_language"] == "ko"
    second.send_text(json.dumps({"type": "set_language", "language": "ne"}))
    state_second = second.receive_json()
    assert state_second["resident_language"] == "ne"
    second.send_text(json.dumps({"type": "end_conversation"}))
    assert second.receive_json()["type"] == "conversation_ended"
    second.receive_json()
    first.send_text(json.dumps({"type": "hello", "protocol": 1}))
    first.receive_json()
    status = client.get("/api/status").json()["conversations"]
    assert status["connected"] == 2 and status["holding_content"] == 1
    first.close()
    second.close()


def test_idle_timeout_erases_the_conversation(tmp_path: Path) -> None:
    """After the idle timeout the conversation is erased and the page told so."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0.3))
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _greet(ws)
        ws.send_text(json.dumps({"type": "set_language", "language": "id"}))
        assert ws.receive_json()["locked"]
        seen = receive_until(ws, "conversation_ended")
        assert seen[-1]["reason"] == "idle"
        assert ws.receive_json()["resident_language"] is None
        ws.close()


def test_status_lists_every_language_with_what_is_missing(client: TestClient) -> None:
    """Without packs, every language says it lacks MT and a voice."""
    rows = {row["code"]: row for row in client.get("/api/status").json()["languages"]}
    assert set(rows) == {"ja", "vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es"}
    assert rows["vi"]["mt_to_resident"] is None and rows["vi"]["voice"] is None
    assert any("voice" in note for note in rows["vi"]["notes"])
    assert rows["ne"]["native_name"] == "नेपाली"


def test_phrase_book_and_texts_are_served(client: TestClient) -> None:
    """The phrase book is grouped by situation; the promise exists in all ten languages."""
    phrases = client.get("/api/phrases").json()
    assert phrases["situations"] and all(group["phrases"] for group in phrases["situations"])
    texts = client.get("/api/texts").json()
    for code in ("ja", "vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es"):
        assert texts["promise"][code] and texts["not_official"][code]
    assert client.get("/").status_code == 200
    assert "WebSocket" in client.get("/static/app.js").text


def test_phrase_without_voice_is_text_only_and_marked_draft(client: TestClient, connect) -> None:
    """A phrase goes to the resident in their language without MT, with a text-only notice."""
    phrase = client.get("/api/phrases").json()["situations"][0]["phrases"][0]
    ws = connect()
    ws.send_text(json.dumps({"type": "set_language", "language": "vi"}))
    ws.receive_json()
    ws.send_text(json.dumps({"type": "phrase", "phrase_id": phrase["id"]}))
    seen = {m["type"]: m for m in receive_until(ws, "turn_end")}
    assert seen["translation"]["text"] == phrase["translations"]["vi"]
    assert seen["translation"]["engine"] == "phrasebook"
    assert seen["notice"]["code"] == "voice_missing"
    assert "speech_audio" not in seen
    ws.close()


@pytest.mark.slow
def test_real_pipeline_clerk_turn_and_resident_text(
    default_store, whisper_base, tmp_path: Path, eval_dir: Path
) -> None:
    """With Whisper base and the English voice: a spoken Japanese turn is heard, translated and spoken."""
    from edge.audio.decode import load_audio
    from edge.turn.pipeline import TurnPipeline

    settings = EdgeSettings(home=tmp_path, packs_dir=default_store.root)
    pipe = TurnPipeline.from_settings(
        settings, pairs=[("ja", "en"), ("en", "ja")], warm=False, transcriber=whisper_base
    )
    # the session's Whisper is shared (no second copy), decoding with the settings' options
    assert pipe.transcriber._model is whisper_base._model and pipe.asr_pack == "whisper-base"
    assert pipe.transcriber.options.beam_size == settings.beam_size != whisper_base.options.beam_size
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    audio = load_audio(eval_dir / "speech" / "test_ja_2.wav")[: 16000 * 5]
    pcm = (audio * 32767).astype("<i2").tobytes()
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _greet(ws)
        ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
        ws.receive_json()
        push_to_talk(ws, pcm)
        seen = turn_done(ws)
        by_type = {m["type"]: m for m in seen}
        assert "テスト" in by_type["transcript"]["text"]
        assert by_type["translation"]["engine"] == "whisper-translate"
        assert by_type["translation"]["text"]
        assert any(m["type"] == "speech_audio" and m["wav_base64"] for m in seen)
        assert by_type["back_translation"]["available"] is False
        ws.send_text(json.dumps({"type": "edit", "turn_id": "t1", "text": "住民票の写しをください"}))
        edited = {m["type"]: m for m in turn_done(ws)}
        assert edited["transcript"]["turn_id"] == "t1"
        assert edited["transcript"]["text"] == "住民票の写しをください"
        assert [span["term_id"] for span in edited["transcript"]["terms"]] == ["res.juminhyo_copy"]
        assert edited["transcript"]["term_info"]["res.juminhyo_copy"]["translations"]["en"]
        ws.send_text(json.dumps({"type": "text", "speaker": "resident", "text": "Where do I pay?"}))
        seen = {m["type"]: m for m in turn_done(ws)}
        assert seen["transcript"]["text"] == "Where do I pay?"
        assert seen["notice"]["code"] == "mt_missing"
        ws.close()
