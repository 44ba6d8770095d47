"""The counter speaks Japanese: the resident's reply to the clerk (the clerk can switch it off on the
page) and a phrase-book sentence in Easy Japanese, with the real Mei voice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.speech.voices.openjtalk import OpenJTalkSynthesizer
from edge.turn.pipeline import TurnPipeline
from tests.support.data import mei_voice


def _until_idle(ws: Any) -> list[dict[str, Any]]:
    seen = []
    while True:
        message = ws.receive_json()
        seen.append(message)
        assert message["type"] != "error", message
        if message["type"] == "turn_end":
            break
    while not (seen[-1]["type"] == "state" and not seen[-1].get("busy")):
        seen.append(ws.receive_json())
    return seen


def test_clerk_hears_replies_in_japanese_until_switched_off(tmp_path: Path) -> None:
    pipe = TurnPipeline(None, {"ja": OpenJTalkSynthesizer(mei_voice())}, None, languages=("ja", "en"))
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["speak_to_clerk"] is True
        ws.receive_json()
        ws.send_text(json.dumps({"type": "set_language", "language": "ja-easy"}))
        ws.receive_json()
        ws.send_text(json.dumps({"type": "text", "speaker": "resident", "text": "住民票をください。"}))
        spoken = [m for m in _until_idle(ws) if m["type"] == "speech_audio"]
        assert spoken and spoken[0]["sample_rate"] == 48000 and spoken[0]["wav_base64"]
        ws.send_text(json.dumps({"type": "clerk_voice", "on": "yes"}))
        assert ws.receive_json()["type"] == "error"  # only true or false
        ws.send_text(json.dumps({"type": "clerk_voice", "on": False}))
        ws.send_text(json.dumps({"type": "text", "speaker": "resident", "text": "住民票をください。"}))
        seen = _until_idle(ws)
        assert any(m["type"] == "translation" for m in seen)
        assert not any(m["type"] == "speech_audio" for m in seen)
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "一日に来てください。"}))
        to_resident = _until_idle(ws)  # the clerk's words to the resident are still spoken
        assert any(m["type"] == "speech_audio" for m in to_resident)
        ws.close()
