"""Only the counter's own page drives the counter: Host allow-list, same-origin checks, body limits and
security headers, over the real app (TestClient) and a real uvicorn server with a real WebSocket client."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, counter_names, create_app
from edge.counter.guard import CONTENT_SECURITY_POLICY
from tests.support.servers import serve_app

BASE = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"


def _app(tmp_path: Path, **options: Any) -> Any:
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    return create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0, **options))


def test_websocket_from_another_origin_is_refused(tmp_path: Path) -> None:
    """A page of http://evil.example cannot open the counter's WebSocket; the counter's own page can."""
    with serve_app(_app(tmp_path)) as url:
        addr = url.removeprefix("http://")
        for origin in ("http://evil.example", "null", f"https://{addr}", "http://127.0.0.1:1"):
            with pytest.raises(InvalidStatus) as refused:
                ws_connect(f"ws://{addr}/ws", origin=origin, open_timeout=10)  # type: ignore[arg-type]
            assert refused.value.response.status_code == 403
        with ws_connect(f"ws://{addr}/ws", origin=f"http://{addr}", open_timeout=10) as ws:  # type: ignore[arg-type]
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    with TestClient(_app(tmp_path), base_url=BASE) as client:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(WS, headers={"Origin": "http://evil.example"}) as ws,
        ):
            ws.receive_json()
        assert closed.value.code == 1008
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(WS, headers={"Sec-Fetch-Site": "cross-site"}) as ws,
        ):
            ws.receive_json()
        assert closed.value.code == 1008


def test_foreign_host_is_refused_dns_rebinding(tmp_path: Path) -> None:
    """A name rebound to 127.0.0.1 (Host: evil.example) gets 403 on pages, APIs and the WebSocket."""
    with serve_app(_app(tmp_path)) as url, httpx.Client(timeout=10) as http:
        addr = url.removeprefix("http://")
        port = addr.rsplit(":", 1)[1]
        for path in ("/", "/api/status", "/static/app.js", "/pair"):
            assert (
                http.get(f"http://{addr}{path}", headers={"Host": f"evil.example:{port}"}).status_code == 403
            )
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            assert http.get(f"http://{addr}/api/status", headers={"Host": host}).status_code == 200
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(
                f"ws://{addr}/ws",
                additional_headers={"Host": f"evil.example:{port}"},
                origin=f"http://evil.example:{port}",  # type: ignore[arg-type]
                open_timeout=10,
            )
        assert refused.value.response.status_code == 403
    with TestClient(_app(tmp_path)) as client:  # TestClient's default Host is "testserver"
        assert client.get("/api/status").status_code == 403


def test_lan_names_are_allowed_and_configurable(tmp_path: Path) -> None:
    """A LAN counter answers to its host name, its LAN address and the configured names only."""
    settings = EdgeSettings(
        home=tmp_path, packs_dir=tmp_path / "packs", host="0.0.0.0", lan_names=["counter-3.city.example"]
    )
    names = counter_names(settings)
    assert {"127.0.0.1", "localhost", "::1", "counter-3.city.example"} <= set(names)
    app = create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0, pairing=False))
    with TestClient(app, base_url="http://counter-3.city.example:8765") as client:
        assert client.get("/api/status").status_code == 200
    with TestClient(app, base_url="http://counter-4.city.example:8765") as client:
        assert client.get("/api/status").status_code == 403


def test_state_changing_requests_need_the_same_origin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """POSTs from another origin are refused before the route runs, and the refusal logs no body."""
    app = _app(tmp_path, pairing=True, trusted_hosts=("127.0.0.1",))
    code = app.state.pairing.start()[0]
    caplog.set_level(logging.DEBUG)
    with TestClient(app, base_url=BASE, client=("10.0.0.7", 5000)) as tablet:
        evil = tablet.post("/api/pair", json={"code": code}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        cross = tablet.post("/api/pair", json={"code": code}, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        assert app.state.pairing.status()["paired"] == 0
        same = tablet.post("/api/pair", json={"code": code}, headers={"Origin": BASE})
        assert same.status_code == 200
    assert "refused" in caplog.text
    assert code not in caplog.text


def test_every_response_carries_the_security_headers(tmp_path: Path) -> None:
    """CSP, X-Frame-Options, Referrer-Policy on pages, static files, APIs, errors and refusals."""
    with TestClient(_app(tmp_path), base_url=BASE) as client:
        responses = [
            client.get("/"),
            client.get("/pair"),
            client.get("/static/app.js"),
            client.get("/api/status"),
            client.get("/api/terms/no-such-term"),
            client.get("/api/status", headers={"Origin": "http://evil.example"}),
            client.get("/api/status", headers={"Host": "evil.example"}),
            client.post("/api/pair", content=b"{" * 100_000),
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 403, 403, 413]
    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


def test_page_has_no_inline_script_or_style() -> None:
    """The strict CSP allows no inline code: the pages load everything from /static."""
    web = Path(__file__).resolve().parents[2] / "edge" / "counter" / "web"
    for page in ("index.html", "pair.html"):
        html = (web / page).read_text(encoding="utf-8")
        assert "<style" not in html and " style=" not in html and " on" + "click=" not in html
        assert html.count("<script") == html.count('<script src="/static/')


def test_request_bodies_are_bounded(tmp_path: Path) -> None:
    """Every JSON route reads at most max_text_bytes, declared or streamed (chunked)."""
    app = _app(tmp_path, pairing=True, trusted_hosts=("127.0.0.1",), max_text_bytes=4096)
    with serve_app(app) as url, httpx.Client(timeout=10) as http:
        addr = url.removeprefix("http://")
        big = json.dumps({"code": "A" * 10_000}).encode()
        assert http.post(f"http://{addr}/api/pair", content=big).status_code == 413

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b" " * 1000

        assert http.post(f"http://{addr}/api/pair", content=chunks()).status_code == 413
        for path in ("/api/pairing/start", "/api/pairing/stop", "/api/pairing/revoke"):
            assert http.post(f"http://{addr}{path}", content=big).status_code == 413
        assert http.post(f"http://{addr}/api/pair", json={"code": "ABCD-EFGH"}).status_code in (403, 409)
