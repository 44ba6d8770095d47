"""Counter features over the real app: tablet pairing, confirm before speaking, streamed speech,
reviewed-only term marks and the synced glossary (loaded at start, reloaded after a sync)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from bench.fleet import ServerProcess
from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.counter.pairing import COOKIE_NAME, PairingGate
from edge.counter.run import attach_glossary_reload
from edge.events import SpeechAudio
from edge.speech.tts import PiperSynthesizer
from edge.translate.router import MtOptions, MtRouter
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary
from glossary.schema import TRANSLATION_LANGUAGES, Glossary, Term
from tests.support.central import device_token, publish_glossary
from tests.support.counter import receive_until, turn_done
from tests.support.servers import central_server, serve_app
from tests.support.tiny_models import build_store

REMOTE = "127.0.0.2"  # a second loopback address: the counter trusts 127.0.0.1 only in these tests


# --- helpers ---------------------------------------------------------------------------------------


def _http(source: str) -> httpx.Client:
    """An HTTP client whose connections come from ``source``."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10)


def _greet(ws: Any) -> dict[str, Any]:
    hello = ws.receive_json()
    assert hello["type"] == "hello"
    assert ws.receive_json()["type"] == "state"
    return hello


# --- pairing -----------------------------------------------------------------------------------------


@pytest.fixture()
def paired_app(tmp_path: Path) -> Any:
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    options = CounterOptions(idle_timeout_s=0, pairing=True, trusted_hosts=("127.0.0.1",))
    return create_app(settings, pipeline=None, options=options)


def test_remote_tablet_needs_the_code_then_the_cookie(paired_app: Any) -> None:
    """From a non-trusted address: 403 / redirect / refused WebSocket until the device's code is typed."""
    with serve_app(paired_app) as url, _http(REMOTE) as remote, _http("127.0.0.1") as device:
        base, addr = url, url.removeprefix("http://")
        assert remote.get(f"{base}/api/status").status_code == 403
        assert remote.get(f"{base}/api/phrases").status_code == 403
        assert remote.get(f"{base}/static/app.js").status_code == 403
        page = remote.get(f"{base}/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/pair"
        assert "8文字" in remote.get(f"{base}/pair").text
        assert remote.get(f"{base}/api/pairing").status_code == 403  # the code is for the device's screen
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(f"ws://{addr}/ws", source_address=(REMOTE, 0), open_timeout=10)
        assert refused.value.response.status_code == 403

        assert device.get(f"{base}/api/status").json()["pairing_required"] is True
        assert "code" not in device.get(f"{base}/api/pairing").json()  # shown only when pairing starts
        code = device.post(f"{base}/api/pairing/start").json()["code"]
        assert len(code.replace("-", "")) == 8
        wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
        assert remote.post(f"{base}/api/pair", json={"code": wrong}).status_code == 403
        assert remote.get(f"{base}/api/status").status_code == 403
        paired = remote.post(f"{base}/api/pair", json={"code": code})
        assert paired.status_code == 200 and "httponly" in paired.headers["set-cookie"].lower()
        assert remote.get(f"{base}/api/status").status_code == 200  # the cookie jar sends it
        assert remote.get(f"{base}/").status_code == 200
        cookie = remote.cookies[COOKIE_NAME]
        with ws_connect(
            f"ws://{addr}/ws",
            source_address=(REMOTE, 0),
            additional_headers={"Cookie": f"{COOKIE_NAME}={cookie}"},
            open_timeout=10,
        ) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        with ws_connect(f"ws://{addr}/ws", open_timeout=10) as ws:  # the device itself: no cookie needed
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"


def test_pairings_end_on_restart(tmp_path: Path) -> None:
    """A cookie from one run is refused by the next; a LAN counter requires pairing by default."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", host="0.0.0.0")
    first, second = create_app(settings, pipeline=None), create_app(settings, pipeline=None)
    with TestClient(first, base_url="http://localhost") as client:  # TestClient's address is not loopback
        assert client.get("/api/status").status_code == 403
        code = first.state.pairing.start()[0]
        assert client.post("/api/pair", json={"code": code}).status_code == 200
        assert client.get("/api/status").status_code == 200
        token = client.cookies[COOKIE_NAME]
    with TestClient(second, cookies={COOKIE_NAME: token}, base_url="http://localhost") as client:
        assert client.get("/api/status").status_code == 403
    gate = PairingGate(required=True)
    assert not gate.allows("10.0.0.5", {}) and gate.allows("127.0.0.1", {})


def test_loopback_counter_needs_no_pairing(tmp_path: Path) -> None:
    """A counter listening on loopback only (the default) asks nobody for a code."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(settings, pipeline=None)
    with TestClient(app, base_url="http://localhost") as client:
        status = client.get("/api/status").json()
        assert status["pairing_required"] is False
        assert client.get("/api/pairing").json()["required"] is False
        assert client.post("/api/pairing/start").status_code == 409


# --- speech: confirm before speaking, streaming --------------------------------------------------


@pytest.fixture
def voice(english_synthesizer: PiperSynthesizer) -> PiperSynthesizer:
    return english_synthesizer


# The tiny test model is untrained: its output often repeats one token (紙紙紙…), which the pipeline's
# loop guard would keep off the speaker. These tests are about streaming and confirmation, so the
# pipelines built on it turn the guard off.
@pytest.fixture(scope="module")
def mt_router(tmp_path_factory: pytest.TempPathFactory) -> MtRouter:
    store = build_store(tmp_path_factory.mktemp("mt"), ("tiny-ja-en",))
    # Random weights babble: 8 tokens keep the spoken "translation" short (speech is what is tested).
    return MtRouter(store, MtOptions(max_decoding_length=8), glossary=bundled_glossary())


def _app(tmp_path: Path, pipe: TurnPipeline, **options: Any) -> Any:
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    return create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0, **options))


def test_confirm_before_speaking_holds_speech_until_ok(tmp_path: Path, voice: Any, mt_router: Any) -> None:
    """With the mode on, a translation arrives with no speech; "speak" then streams it."""
    pipe = TurnPipeline(None, {"en": voice}, mt_router, languages=("ja", "en"), loop_guard=False)
    app = _app(tmp_path, pipe, confirm_before_speaking=True)
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        assert _greet(ws)["confirm_before_speaking"] is True
        ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
        ws.receive_json()
        ws.send_text(json.dumps({"type": "speak", "turn_id": "t1"}))
        assert ws.receive_json()["code"] == "protocol"  # nothing to speak yet
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "住民票の写しをください。"}))
        turn = turn_done(ws, 80, errors_fail=False)
        kinds = [m["type"] for m in turn]
        translation = next(m for m in turn if m["type"] == "translation")
        assert translation["text"] and translation["awaiting_confirm"] is True
        assert "speech_audio" not in kinds and "speech_end" not in kinds
        ws.send_text(json.dumps({"type": "speak", "turn_id": "t1"}))
        spoken = receive_until(ws, "speech_end", 80, errors_fail=False)
        audio = [m for m in spoken if m["type"] == "speech_audio"]
        assert audio and all(m["turn_id"] == "t1" and m["wav_base64"] for m in audio)
        assert spoken[-1]["chunks"] == len(audio)
        ws.send_text(json.dumps({"type": "speak", "turn_id": "t1"}))  # spoken once; a replay is the page's
        assert receive_until(ws, "error", 80)[-1]["code"] == "protocol"
        ws.close()


def test_speech_streams_before_the_turn_ends(tmp_path: Path, voice: Any, mt_router: Any) -> None:
    """Default mode: each sentence goes out at once; speech_end, then turn_end close the turn."""
    pipe = TurnPipeline(None, {"en": voice}, mt_router, languages=("ja", "en"), loop_guard=False)
    with (
        TestClient(_app(tmp_path, pipe), base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _greet(ws)
        ws.send_text(json.dumps({"type": "set_language", "language": "en"}))
        ws.receive_json()
        ws.send_text(json.dumps({"type": "text", "speaker": "clerk", "text": "住民票の写しです。"}))
        kinds = [m["type"] for m in receive_until(ws, "turn_end", 80, errors_fail=False)]
        first_audio = kinds.index("speech_audio")
        assert kinds.index("translation") < first_audio < kinds.index("speech_end") < kinds.index("turn_end")
        assert kinds.count("speech_end") == 1
        ws.close()


class _CountingVoice:
    """The real voice, counting the sentences it has produced so far."""

    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.produced = 0
        self.name = getattr(voice, "name", "voice")

    def synthesize(self, text: str) -> Iterator[Any]:
        for chunk in self.voice.synthesize(text):
            self.produced += 1
            yield chunk


def test_pipeline_emits_each_sentence_as_soon_as_it_is_synthesised(voice: Any) -> None:
    """The first SpeechAudio leaves before the second sentence is synthesised; an empty chunk ends it."""
    counting = _CountingVoice(voice)
    pipe = TurnPipeline(None, {"en": counting}, None, languages=("ja", "en"))
    seen: list[tuple[SpeechAudio, int]] = []

    def on_event(event: Any) -> None:
        if isinstance(event, SpeechAudio):
            seen.append((event, counting.produced))

    result = pipe.translate_text("Hello there. Please wait here. We will call you.", "en", "en", on_event)
    chunks = [event for event, _ in seen if event.pcm]
    assert len(chunks) >= 2
    assert [produced for _, produced in seen[: len(chunks)]] == list(range(1, len(chunks) + 1))
    last, _ = seen[-1]
    assert last.is_last and last.pcm == b"" and not any(e.is_last for e in chunks)
    assert result.audio is not None and result.audio.size * 2 == sum(len(e.pcm) for e in chunks)


# --- the clerk's microphone picker ----------------------------------------------------------------


def test_start_picks_the_device_microphone(tmp_path: Path, eval_dir: Path) -> None:
    """``start`` with a device index opens that device; a malformed device is refused."""
    from edge.audio.capture import FileInputStream, FileMicrophone
    from edge.audio.decode import load_audio

    opened: list[Any] = []
    microphone = FileMicrophone(FileInputStream(load_audio(eval_dir / "speech" / "test_ja_2.wav")))

    def factory(options: Any) -> Any:
        opened.append(options.device)
        return microphone(options)

    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(
        settings,
        pipeline=None,
        options=CounterOptions(idle_timeout_s=0, mic_device=0),
        capture_factory=factory,
    )
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        _greet(ws)
        start = {"type": "start", "speaker": "resident", "mode": "handsfree", "source": "device"}
        ws.send_text(json.dumps({**start, "device": [1]}))
        assert ws.receive_json()["code"] == "protocol"
        ws.send_text(json.dumps({**start, "device": 2}))
        assert ws.receive_json()["recording"]["source"] == "device"
        assert opened == [2] and client.get("/api/status").json()["device_microphone"]["device"] == 2
        ws.send_text(json.dumps({"type": "stop"}))
        ws.receive_json()
        ws.send_text(json.dumps(start))  # no device: the counter's configured one
        ws.receive_json()
        assert opened == [2, 0]
        ws.close()


# --- reviewed-only marks -------------------------------------------------------------------------------


def test_reviewed_only_withholds_draft_term_translations(tmp_path: Path, mt_router: Any) -> None:
    """A draft term is still marked in Japanese but shows no approved translation, and MT does not
    enforce it."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    router = MtRouter(mt_router.store, mt_router.options, glossary=bundled_glossary())
    pipe = TurnPipeline(None, {}, router, languages=("ja", "en"))
    draft = create_app(settings, pipeline=pipe, options=CounterOptions(reviewed_only=True))
    result = pipe.translate_text("住民票の写しをください", "ja", "en")
    assert "res.juminhyo_copy" not in result.terms_applied + result.terms_fallback
    assert result.glossary_version == bundled_glossary().version
    normal = create_app(settings, pipeline=None, options=CounterOptions())
    term_id = "res.juminhyo_copy"
    assert not bundled_glossary().term(term_id).reviewed
    with TestClient(draft, base_url="http://localhost") as client:
        info = client.get(f"/api/terms/{term_id}").json()
        assert info["withheld"] is True and info["translation"] is None and info["translations"] == {}
        _spans, ids = draft.state.counter.mark_terms("住民票の写しをください", "ja", [])
        assert ids == [term_id]
        english = bundled_glossary().term(term_id).translation("en")
        assert draft.state.counter.mark_terms(f"a {english}", "en", [term_id]) == ([], [])
    with TestClient(normal, base_url="http://localhost") as client:
        info = client.get(f"/api/terms/{term_id}").json()
        assert info["withheld"] is False and info["translations"]["en"]


# --- the synced glossary -------------------------------------------------------------------------------


def _glossary(english: str) -> Glossary:
    term = Term(
        id="res.juminhyo_copy",
        domain="res",
        ja="住民票の写し",
        reading="じゅうみんひょうのうつし",
        translations={lang: english for lang in TRANSLATION_LANGUAGES},
        status="reviewed",
    )
    return Glossary.from_items([term], [])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with central_server(tmp_path_factory.mktemp("counter-server")) as proc:
        yield proc


def test_counter_uses_the_synced_glossary_and_reloads_a_new_version(
    server: ServerProcess, tmp_path: Path, mt_router: Any
) -> None:
    """Enrolled: the signed glossary replaces the bundled one; a sync installing v2 swaps it in live."""
    from edge.sync.enrollment import client_from_home, enroll

    publish_glossary(server, _glossary("certificate of residence (v1)"))
    token = device_token(server, "counter-site", "counter-1")
    home = tmp_path / "device"
    first = enroll(server.url, token, server.public_key_path, home)
    router = MtRouter(mt_router.store, mt_router.options, glossary=bundled_glossary())
    pipe = TurnPipeline(None, {}, router, languages=("ja", "en"))
    settings = EdgeSettings(home=home, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    client = client_from_home(home)
    attach_glossary_reload(app, client)
    with (
        TestClient(app, base_url="http://localhost") as http,
        http.websocket_connect("ws://localhost/ws") as ws,
    ):
        assert _greet(ws)["glossary_version"] == first.version
        status = http.get("/api/status").json()
        assert status["glossary"] == {"version": first.version, "source": "synced", "number": 1}
        assert status["phrases"] == 0  # the synced glossary has none; the bundled one has many
        term = http.get("/api/terms/res.juminhyo_copy").json()
        assert term["translations"]["en"] == "certificate of residence (v1)"
        assert router.glossary.version == first.version

        publish_glossary(server, _glossary("copy of the residence record (v2)"))
        pulled = http.portal.call(client.pull_glossary)
        assert pulled.status == "updated" and pulled.number == 2
        message = receive_until(ws, "glossary", 80, errors_fail=False)[-1]
        assert message == {"type": "glossary", "version": pulled.version, "source": "synced"}
        status = http.get("/api/status").json()
        assert status["glossary"]["version"] == pulled.version and status["glossary"]["number"] == 2
        term = http.get("/api/terms/res.juminhyo_copy").json()
        assert term["translations"]["en"] == "copy of the residence record (v2)"
        assert router.glossary.version == pulled.version
        result = pipe.translate_text("住民票の写しをください", "ja", "en")
        assert result.glossary_version == pulled.version
        assert "res.juminhyo_copy" in result.terms_applied + result.terms_fallback
        assert "copy of the residence record (v2)" in result.target_text
        ws.close()
        http.portal.call(client.aclose)  # the HTTP client belongs to the app's event loop
    client.outbox.close()
