"""The counter page with the ``ja-easy`` target: picker, phrase book and typed clerk turns (real app)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.turn.pipeline import TurnPipeline
from tests.support.counter import choose_language, receive_until


def _turn_by_type(ws: Any) -> dict[str, dict[str, Any]]:
    """The messages up to ``turn_end``, the last of each type."""
    return {m["type"]: m for m in receive_until(ws, "turn_end", 50, errors_fail=False)}


def _app(tmp_path: Path, pipeline: Any | None) -> Any:
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    return create_app(settings, pipeline=pipeline, options=CounterOptions(idle_timeout_s=0))


def test_picker_offers_easy_japanese(tmp_path: Path) -> None:
    """やさしい にほんご is in the picker (the extra target) with its native name."""
    with TestClient(_app(tmp_path, None), base_url="http://localhost") as client:
        texts = client.get("/api/texts").json()
    assert "ja-easy" in texts["extra_picker_languages"]
    assert texts["native_names"]["ja-easy"] == "やさしい にほんご"


def test_phrase_in_easy_japanese_comes_with_furigana(tmp_path: Path) -> None:
    """A tapped phrase shows its hand-written easy_ja, and ruby_html with furigana."""
    with TestClient(_app(tmp_path, None), base_url="http://localhost") as client:
        phrase = next(
            p
            for group in client.get("/api/phrases").json()["situations"]
            for p in group["phrases"]
            if any("\u4e00" <= c <= "\u9fff" for c in p["easy_ja"])
        )
        with client.websocket_connect("ws://localhost/ws") as ws:
            assert choose_language(ws, "ja-easy")["resident_language"] == "ja-easy"
            ws.send_text(json.dumps({"type": "phrase", "phrase_id": phrase["id"]}))
            seen = _turn_by_type(ws)
    translation = seen["translation"]
    assert translation["text"] == phrase["easy_ja"]
    assert "<ruby>" in translation["ruby_html"]


def test_typed_clerk_turn_into_easy_japanese(tmp_path: Path) -> None:
    """A typed clerk sentence is rewritten; the translation message carries escaped ruby_html."""
    pipe = TurnPipeline(None, {}, None, languages=("ja", "vi"))
    with (
        TestClient(_app(tmp_path, pipe), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        choose_language(ws, "ja-easy")
        text = "<b>こちら</b>にご記入ください。"
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": text}))
        seen = _turn_by_type(ws)
    translation = seen["translation"]
    assert translation["language"] == "ja-easy"
    assert translation["engine"] == "easy-ja"
    assert translation["text"] == "<b>こちら</b>に書いてください。"
    assert translation["ruby_html"] == "&lt;b&gt;こちら&lt;/b&gt;に<ruby>書<rt>か</rt></ruby>いてください。"


def test_clerk_japanese_transcript_carries_furigana(tmp_path: Path) -> None:
    """The clerk's Japanese comes with ruby_html (shown when the page's ふりがな toggle is on)."""
    pipe = TurnPipeline(None, {}, None, languages=("ja", "vi"))
    with (
        TestClient(_app(tmp_path, pipe), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        choose_language(ws, "vi")
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "住民票を<i>14日</i>までに。"}))
        seen = _turn_by_type(ws)
    ruby = seen["transcript"]["ruby_html"]
    assert "<ruby>住民票<rt>じゅうみんひょう</rt></ruby>" in ruby
    assert "&lt;i&gt;<ruby>14日<rt>じゅうよっか</rt></ruby>&lt;/i&gt;" in ruby
    assert "furigana" in client.get("/").text
