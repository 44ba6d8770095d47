"""Fuzzing the counter's WebSocket: random frames get error events (or a clean close), never a crash.

Hand-picked malformed messages are in ``tests/edge/test_ws_protocol.py``; here hypothesis sends random
sequences of text and binary frames (real message types with random fields, random JSON, random bytes),
then checks the connection still answers a ``hello`` and the server still takes new connections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.counter.protocol import CLIENT_MESSAGES

SERVER_MESSAGES = {
    "hello", "state", "vad", "turn_started", "transcript", "translation", "back_translation",
    "speech_audio", "speech_end", "turn_end", "glossary", "notice", "error", "conversation_ended",
}  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**65), 2**65), st.floats(), st.text(max_size=30),
    st.sampled_from(["clerk", "resident", "ptt", "handsfree", "device", "browser", "en", "ja", "t1", 16000]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    ["protocol", "speaker", "mode", "sample_rate", "source", "device", "language", "turn_id", "text",
     "phrase_id", "playing", "type"]
)  # fmt: skip
messages = st.builds(
    lambda kind, extra: {"type": kind, **extra},
    st.one_of(st.sampled_from(CLIENT_MESSAGES), st.text(max_size=12), values),
    st.dictionaries(fields, values, max_size=5),
)
text_frames = st.one_of(
    messages.map(lambda m: json.dumps(m, allow_nan=True)),
    values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=200),
)
# Oversize frames repeat a short random pattern: 60 kB of drawn bytes would exceed Hypothesis's entropy.
oversize_frames = st.tuples(st.binary(min_size=1, max_size=16), st.integers(60_000, 70_000)).map(
    lambda pattern_size: (pattern_size[0] * (pattern_size[1] // len(pattern_size[0]) + 1))[: pattern_size[1]]
)
binary_frames = st.one_of(st.binary(max_size=300), oversize_frames)
frames = st.lists(
    st.one_of(text_frames.map(lambda t: ("text", t)), binary_frames.map(lambda b: ("bytes", b))),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("ws-fuzz")
    settings = EdgeSettings(home=home, packs_dir=home / "packs")
    app = create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0))
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client


def _drain_until_hello(ws: Any) -> list[dict[str, Any]]:
    seen = []
    for _ in range(500):
        message = ws.receive_json()
        assert message.get("type") in SERVER_MESSAGES, message
        if message["type"] == "error":
            assert isinstance(message.get("text"), str) and isinstance(message.get("code"), str)
        seen.append(message)
        if message["type"] == "hello":
            return seen
    raise AssertionError("the connection never answered hello")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(sequence=frames)
def test_random_frames_never_crash_the_counter(client: TestClient, sequence: list[tuple[str, Any]]) -> None:
    with client.websocket_connect("ws://localhost/ws") as ws:
        _drain_until_hello(ws)
        try:
            for kind, frame in sequence:
                if kind == "text":
                    ws.send_text(frame)
                else:
                    ws.send_bytes(frame)
            ws.send_text(json.dumps({"type": "end_conversation"}))
            ws.send_text(json.dumps({"type": "hello", "protocol": 2}))
            _drain_until_hello(ws)
        except WebSocketDisconnect as exc:  # a clean close is allowed, with a normal/policy code
            assert exc.code in (1000, 1003, 1008, 1009, 1011), exc.code
    status = client.get("/api/status")
    assert status.status_code == 200
    assert status.json()["conversations"]["connected"] == 0


def test_nothing_survives_the_fuzzing(client: TestClient, tmp_path: Path) -> None:
    status = client.get("/api/status").json()["conversations"]
    assert status["holding_content"] == 0 and status["recording"] == 0
