"""Pairing tablets: a 40-bit code shown on the device only, bounded guessing, expiry and revocation."""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.counter.pairing import ALPHABET, CODE_LENGTH, COOKIE_NAME, PairingGate, end_of_day, new_code

BASE = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"
TABLET = ("10.0.0.5", 40000)
DEVICE = ("127.0.0.1", 40000)


class FakeClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 7, 10, 0).astimezone().timestamp()

    def __call__(self) -> float:
        return self.now


def _app(tmp_path: Path, clock: FakeClock | None = None, **settings: Any) -> Any:
    config = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", **settings)
    options = CounterOptions(idle_timeout_s=0, pairing=True, trusted_hosts=("127.0.0.1",))
    app = create_app(config, pipeline=None, options=options)
    if clock is not None:
        app.state.pairing.clock = clock
    return app


def _start(device: TestClient) -> str:
    reply = device.post("/api/pairing/start")
    assert reply.status_code == 200
    return str(reply.json()["code"])


def test_code_has_40_bits_without_look_alikes() -> None:
    """8 symbols of a 32-symbol alphabet without 0/O, 1/I/L look-alike pairs."""
    assert len(set(ALPHABET)) == 32 and CODE_LENGTH * math.log2(len(ALPHABET)) >= 40
    assert not set("0O1I") & set(ALPHABET)
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert set("".join(codes)) == set(ALPHABET)  # every symbol is used


def test_code_is_shown_to_the_device_only_and_only_while_pairing(tmp_path: Path) -> None:
    """No code before the clerk opens pairing, none in the page or status; a tablet cannot ask for one."""
    app = _app(tmp_path)
    with (
        TestClient(app, base_url=BASE, client=DEVICE) as device,
        TestClient(app, base_url=BASE, client=TABLET) as tablet,
    ):
        assert device.get("/api/pairing").json() == {
            "required": True, "active": False, "closes_in_s": None, "paired": 0,
        }  # fmt: skip
        assert tablet.post("/api/pair", json={"code": "ABCD-EFGH"}).status_code == 409  # no window
        code = _start(device)
        assert len(code) == 9 and code[4] == "-"
        assert code not in device.get("/api/pairing").text and code not in device.get("/").text
        assert code not in device.get("/api/status").text
        for path in ("/api/pairing", "/api/pairing/start"):
            assert tablet.request("GET" if path == "/api/pairing" else "POST", path).status_code == 403
        assert tablet.post("/api/pair", json={"code": code.lower().replace("-", " ")}).status_code == 200
        assert tablet.post("/api/pairing/start").status_code == 403  # paired, still not the device
        assert device.get("/api/pairing").json()["active"] is False  # one code, one tablet
    footer = (Path(__file__).resolve().parents[2] / "edge" / "counter" / "web" / "index.html").read_text()
    assert "pair-info" not in footer and "pairing-panel" in footer


def test_200_wrong_codes_get_locked_out(tmp_path: Path) -> None:
    """5 wrong codes a minute per client, none after 20: 200 guesses check 20, then the right one fails."""
    clock = FakeClock()
    app = _app(tmp_path, clock)
    with (
        TestClient(app, base_url=BASE, client=DEVICE) as device,
        TestClient(app, base_url=BASE, client=TABLET) as attacker,
        TestClient(app, base_url=BASE, client=("10.0.0.9", 1)) as tablet,
    ):
        code = _start(device)
        wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
        burst = [attacker.post("/api/pair", json={"code": wrong}) for _ in range(200)]
        assert [r.status_code for r in burst[:5]] == [403] * 5
        assert {r.status_code for r in burst[5:]} == {429}
        assert int(burst[5].headers["retry-after"]) <= 61
        checked = 5
        for _ in range(4):  # keep guessing patiently, a minute at a time (within the 5-minute window)
            clock.now += 61
            replies = [attacker.post("/api/pair", json={"code": wrong}) for _ in range(50)]
            checked += sum(r.status_code == 403 for r in replies)
        assert checked == 20
        locked = attacker.post("/api/pair", json={"code": code})
        assert locked.status_code == 429 and locked.json()["reason"] == "locked"
        assert tablet.post("/api/pair", json={"code": code}).status_code == 200  # others are not locked out


def test_many_clients_close_the_window(tmp_path: Path) -> None:
    """Wrong codes from many addresses together close the pairing window (the code stops working)."""
    gate = PairingGate(required=True, max_window_failures=100)
    code, _ = gate.start()
    wrong = "ZZZZZZZZ" if code != "ZZZZZZZZ" else "YYYYYYYY"
    for n in range(100):
        assert gate.pair(f"10.0.{n // 250}.{n % 250}", wrong).outcome == "wrong"
    assert gate.pair("10.9.9.9", code).outcome == "closed"


def test_code_never_reaches_a_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Start, wrong codes, lock-out, window closing, pairing, revocation: no log line holds the code."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    app = _app(tmp_path)
    app.state.pairing.max_window_failures = 30
    codes = []
    with TestClient(app, base_url=BASE, client=DEVICE) as device:
        for n in range(40):
            codes.append(_start(device))
            with TestClient(app, base_url=BASE, client=(f"10.1.0.{n}", 1)) as guesser:
                for _ in range(8):
                    guesser.post("/api/pair", json={"code": "QQQQ-QQQQ"})
        codes.append(_start(device))
        with TestClient(app, base_url=BASE, client=TABLET) as tablet:
            assert tablet.post("/api/pair", json={"code": codes[-1]}).status_code == 200
            token = tablet.cookies[COOKIE_NAME]
        device.post("/api/pairing/revoke")
    assert caplog.records and any("paired" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        line = record.getMessage()
        assert token not in line
        for code in codes:
            assert code not in line and code.replace("-", "") not in line


def test_revoke_all_pairings_from_the_device(tmp_path: Path) -> None:
    """The clerk's "unpair all": cookies stop working and open tablet connections close (1008)."""
    app = _app(tmp_path)
    with (
        TestClient(app, base_url=BASE, client=DEVICE) as device,
        TestClient(app, base_url=BASE, client=TABLET) as tablet,
    ):
        assert tablet.post("/api/pair", json={"code": _start(device)}).status_code == 200
        assert tablet.get("/api/status").status_code == 200
        assert tablet.post("/api/pairing/revoke").status_code == 403  # only the device revokes
        with tablet.websocket_connect(WS) as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.receive_json()
            assert app.state.counter.status()["conversations"]["connected"] == 1
            reply = device.post("/api/pairing/revoke").json()
            assert reply == {"revoked": 1, "connections_closed": 1}
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1008
        assert tablet.get("/api/status").status_code == 403
        assert tablet.get("/", follow_redirects=False).headers["location"] == "/pair"
        with pytest.raises(WebSocketDisconnect) as refused, tablet.websocket_connect(WS) as ws:
            ws.receive_json()
        assert refused.value.code == 1008
        assert device.get("/api/pairing").json()["paired"] == 0


def test_pairing_expires_at_the_end_of_the_day(tmp_path: Path) -> None:
    """By default a pairing ends at local midnight; the cookie's max-age says so too."""
    clock = FakeClock()
    app = _app(tmp_path, clock)
    with (
        TestClient(app, base_url=BASE, client=DEVICE) as device,
        TestClient(app, base_url=BASE, client=TABLET) as tablet,
    ):
        paired = tablet.post("/api/pair", json={"code": _start(device)})
        midnight = dt.datetime(2026, 12, 8, 0, 0).astimezone().timestamp()
        assert paired.json()["expires_at"] == midnight == end_of_day(clock.now)
        assert "max-age" in paired.headers["set-cookie"].lower()
        clock.now = midnight - 1
        assert tablet.get("/api/status").status_code == 200
        clock.now = midnight + 1
        assert tablet.get("/api/status").status_code == 403
        assert device.get("/api/pairing").json()["paired"] == 0


def test_pairing_lifetime_is_configurable_and_closes_live_connections(tmp_path: Path) -> None:
    """``pairing_lifetime_s`` shortens the pairing; an open connection is closed when it runs out."""
    app = _app(tmp_path, pairing_lifetime_s=1.0)
    with (
        TestClient(app, base_url=BASE, client=DEVICE) as device,
        TestClient(app, base_url=BASE, client=TABLET) as tablet,
    ):
        paired = tablet.post("/api/pair", json={"code": _start(device)})
        assert paired.status_code == 200
        with tablet.websocket_connect(WS) as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.receive_json()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()  # nothing else is sent: the next event is the close at expiry
            assert closed.value.code == 1008
        assert tablet.get("/api/status").status_code == 403
