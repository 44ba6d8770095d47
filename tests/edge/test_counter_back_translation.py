"""The device's back-translation setting reaches the counter, and each turn is translated back once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.counter.app import create_app
from edge.counter.service import CounterOptions
from edge.translate.router import MtOptions, MtRouter
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary
from tests.support.tiny_models import build_store


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> MtRouter:
    """A real router over a tiny multilingual pack (ja⇄en both ways)."""
    store = build_store(tmp_path_factory.mktemp("mt"), ("tiny-m2m",))
    return MtRouter(store, MtOptions(max_decoding_length=16), glossary=bundled_glossary())


def _typed_turn(app: Any) -> list[dict[str, Any]]:
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "state"
        ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
        ws.receive_json()
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "住民票の写しです。"}))
        seen = []
        while not seen or seen[-1]["type"] != "turn_end":
            seen.append(ws.receive_json())
        ws.close()
    return seen


@pytest.mark.parametrize("pipeline_flag", [False, True])
@pytest.mark.parametrize("setting", [False, True])
def test_setting_decides_and_one_back_translation_is_made(
    tmp_path: Path, router: MtRouter, monkeypatch: pytest.MonkeyPatch, setting: bool, pipeline_flag: bool
) -> None:
    """Off: no back_translation message. On: exactly one, made by one en→ja MT call."""
    calls: list[tuple[str, str]] = []
    translate = MtRouter.translate

    def counting(self: MtRouter, text: str, source: str, target: str, *args: Any, **kwargs: Any) -> Any:
        calls.append((source, target))
        return translate(self, text, source, target, *args, **kwargs)

    monkeypatch.setattr(MtRouter, "translate", counting)
    settings = EdgeSettings(
        home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"], back_translation=setting
    )
    pipe = TurnPipeline(None, {}, router, languages=("ja", "en"), back_translation=pipeline_flag and setting)
    options = CounterOptions.from_settings(settings, idle_timeout_s=0)
    assert options.back_translation is setting
    seen = _typed_turn(create_app(settings, pipeline=pipe, options=options))
    back = [m for m in seen if m["type"] == "back_translation"]
    if setting:
        assert len(back) == 1 and back[0]["available"] is True and back[0]["text"]
        assert calls.count(("en", "ja")) == 1
    else:
        assert back == []
        assert ("en", "ja") not in calls


def test_app_options_come_from_settings(tmp_path: Path) -> None:
    """Without explicit options the app reads every counter option from the settings."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "p", back_translation=False, idle_timeout_s=7)
    app = create_app(settings, pipeline=None)
    assert app.state.counter.options.back_translation is False
    assert app.state.counter.options.idle_timeout_s == 7
