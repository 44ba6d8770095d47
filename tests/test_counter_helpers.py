"""The counter test helpers fail a test, instead of hanging its worker, when a message never comes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.counter import turn_done


class _ScriptedSocket:
    """Replays a fixed list of messages (the helper's own behaviour is under test, not the counter's);
    past its end it raises, as a closed socket would."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages = iter(messages)

    def receive_json(self) -> dict[str, Any]:
        try:
            return next(self._messages)
        except StopIteration:
            raise ConnectionError("scripted socket exhausted") from None


def test_turn_done_returns_at_the_idle_state() -> None:
    messages = [{"type": "turn_end"}, {"type": "state", "busy": True}, {"type": "state", "busy": False}]
    assert turn_done(_ScriptedSocket([*messages, {"type": "unread"}])) == messages


def test_turn_done_fails_when_the_connection_never_goes_idle() -> None:
    busy = [{"type": "state", "busy": True}] * 50
    with pytest.raises(AssertionError, match="no idle state in 20 messages after turn_end"):
        turn_done(_ScriptedSocket([{"type": "turn_end"}, *busy]), limit=20)
