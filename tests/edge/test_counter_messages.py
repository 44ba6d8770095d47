"""The typed protocol messages: one serialiser out, one parser in, and both match the schema."""

from __future__ import annotations

import json

import pytest

from edge.counter import messages as m
from edge.counter.protocol import CLIENT_MESSAGES, ProtocolError
from edge.counter.requests import REQUESTS, Edit, Start, TextTurn, parse_request


def test_every_page_message_has_a_typed_request() -> None:
    assert tuple(REQUESTS) == CLIENT_MESSAGES


def test_optional_fields_are_left_out_only_while_none() -> None:
    assert m.Notice("mic back", "mic_resumed").to_dict() == {
        "type": "notice",
        "text": "mic back",
        "code": "mic_resumed",
    }
    assert m.Notice("x", "c", "t1").to_dict()["turn_id"] == "t1"
    back = m.BackTranslation("t1", "clerk", "ja", False, None).to_dict()
    assert back["text"] is None and "reason" not in back
    assert "timings_ms" not in m.TurnEnd("t1", "clerk", "phrasebook").to_dict()


def test_state_flattens_the_snapshot_and_json_keeps_non_ascii() -> None:
    state = m.State({"conversation_id": "c1", "resident_language": "vi"}, None, False)
    assert json.loads(state.to_json()) == {
        "type": "state", "conversation_id": "c1", "resident_language": "vi", "recording": None, "busy": False
    }  # fmt: skip
    assert "住民票" in m.Transcript("t1", "clerk", "speech", "住民票", "ja", [], {}, None).to_json()


def test_requests_are_parsed_into_their_types() -> None:
    start = parse_request('{"type": "start", "speaker": "resident", "device": "3"}', 1024)
    assert start == Start("resident", "ptt", "browser", 3, 16000)
    assert parse_request('{"type": "edit", "turn_id": "t1", "text": " hi "}', 1024) == Edit("t1", "hi")
    assert isinstance(parse_request('{"type": "text", "speaker": "clerk", "text": "x"}', 1024), TextTurn)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"type": "start", "speaker": "mayor"}', "speaker"),
        ('{"type": "start", "speaker": "clerk", "mode": "loud"}', "mode"),
        ('{"type": "hello", "protocol": 9}', "not supported"),
        ('{"type": "speak"}', "turn_id"),
        ('{"type": "nope"}', "unknown message type"),
        ("[1]", "JSON object"),
        ('{"type": "text", "speaker": "clerk", "text": "' + "x" * 2000 + '"}', "too large"),
    ],
)
def test_bad_requests_say_what_is_wrong(raw: str, needle: str) -> None:
    with pytest.raises(ProtocolError, match=needle):
        parse_request(raw, 1024)
