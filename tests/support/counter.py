"""The counter from a test: open a conversation in a language, read its WebSocket until a message type
arrives or a turn is done, wait for a condition, push to talk."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any


def choose_language(ws: Any, language: str) -> dict[str, Any]:
    """Read a new socket's ``hello`` and ``state``, choose the resident's ``language``; its state reply."""
    ws.receive_json(), ws.receive_json()
    ws.send_text(json.dumps({"type": "set_language", "language": language}))
    return ws.receive_json()


def receive_until(
    ws: Any, wanted: str, limit: int = 200, *, errors_fail: bool = True
) -> list[dict[str, Any]]:
    """Messages up to and including the first of type ``wanted`` (at most ``limit``).

    An ``error`` message fails at once instead of waiting for the limit (unless ``wanted`` is ``error``
    or ``errors_fail`` is off).
    """
    seen = []
    for _ in range(limit):
        message = ws.receive_json()
        seen.append(message)
        if message["type"] == wanted:
            return seen
        assert not errors_fail or message["type"] != "error", message
    raise AssertionError(f"no {wanted} among {[m['type'] for m in seen]}")


def turn_done(ws: Any, limit: int = 200, *, errors_fail: bool = True) -> list[dict[str, Any]]:
    """Messages of a turn until it ended and the connection is idle again: ``turn_end``, then a ``state``
    with ``busy`` off. Only then may the next turn start (``turn_end`` is sent while the turn still
    finishes; a turn sent before ``busy`` clears is refused with an ``error``). At most ``limit`` messages
    after ``turn_end``: a connection that never goes idle fails the test instead of hanging it."""
    seen = receive_until(ws, "turn_end", limit, errors_fail=errors_fail)
    after = 0
    while not (seen[-1]["type"] == "state" and not seen[-1].get("busy")):
        if after == limit:
            raise AssertionError(f"no idle state in {limit} messages after turn_end: {seen[-5:]}")
        seen.append(ws.receive_json())
        after += 1
    return seen


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0, interval_s: float = 0.02) -> bool:
    """True as soon as ``predicate()`` holds, False when it still does not after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def push_to_talk(ws: Any, pcm: bytes, speaker: str = "clerk") -> None:
    """One push-to-talk recording: ``start`` (its state reply read), 16 kHz PCM in 100 ms frames, ``stop``."""
    ws.send_text(json.dumps({"type": "start", "speaker": speaker, "mode": "ptt", "sample_rate": 16000}))
    ws.receive_json()
    for start in range(0, len(pcm), 3200):
        ws.send_bytes(pcm[start : start + 3200])
    ws.send_text(json.dumps({"type": "stop"}))
