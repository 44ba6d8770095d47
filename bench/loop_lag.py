"""``madoguchi bench loop-lag``: how late the counter's event loop answers while a turn decodes.

A real hands-free clerk turn (Silero VAD on streamed 100 ms frames, Whisper heard and translated into
English, the English voice) runs on one WebSocket of the counter app while a second screen sends ``hello``
every 20 ms; a probe task on the app's own event loop sleeps 5 ms again and again and records how late
each wake-up is. Reported: the probe's lateness (p50, p95, max) and the hello round trip (p50, p95), in
milliseconds. Nothing slow may run on the loop (a model call, a device close, a dictionary load): a long
maximum names such a step. Numbers depend on the machine and its load (the load average is reported).

``drive_turn`` is the harness; the counter's behaviour test (the loop answers while a turn decodes) uses it
too.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import BUNDLED_SAMPLE, REPO_EVAL_DIR
from bench.scoring import percentile

#: The default clip: a real Japanese utterance of the repository's test data (its first 4 s).
DEFAULT_CLIP = REPO_EVAL_DIR / "speech" / "test_ja_2.wav"
#: The probe's sleep (seconds) and the second screen's pause between hellos (seconds).
PROBE_SLEEP_S = 0.005
PING_PAUSE_S = 0.02
_FRAME_BYTES = 3200  # 100 ms of 16 kHz 16-bit mono


@dataclass
class LoopRun:
    """What one turn beside a pinging screen showed (``time.perf_counter`` seconds for the instants).

    Attributes:
        messages: The turn's messages to its own screen, in order (``turn_end`` last).
        wakes: Each probe wake-up: (when it woke, how late, milliseconds).
        hellos: Each answered hello of the second screen: (when it was answered, round trip ms).
    """

    messages: list[dict[str, Any]] = field(default_factory=list)
    wakes: list[tuple[float, float]] = field(default_factory=list)
    hellos: list[tuple[float, float]] = field(default_factory=list)

    def wakes_between(self, start: float, end: float) -> int:
        """Probe wake-ups strictly between two instants."""
        return sum(start < at < end for at, _late in self.wakes)

    def hellos_between(self, start: float, end: float) -> int:
        """Hellos of the second screen answered strictly between two instants."""
        return sum(start < at < end for at, _rtt in self.hellos)


class _LagProbe:
    """Sleeps ``PROBE_SLEEP_S`` again and again on the app's loop and records how late each wake-up is."""

    def __init__(self, wakes: list[tuple[float, float]]) -> None:
        self.wakes = wakes
        self.stop = False

    async def run(self) -> None:
        import anyio

        while not self.stop:
            start = time.perf_counter()
            await anyio.sleep(PROBE_SLEEP_S)
            now = time.perf_counter()
            self.wakes.append((now, (now - start - PROBE_SLEEP_S) * 1000))


def _greeted(ws: Any) -> None:
    """Read a new counter WebSocket's two greeting messages."""
    ws.receive_json()
    ws.receive_json()


def _ping(client: Any, done: threading.Event, hellos: list[tuple[float, float]]) -> None:
    """The second screen: ``hello`` every ``PING_PAUSE_S`` until ``done``, each answer timed."""
    with client.websocket_connect("ws://localhost/ws") as ws:
        _greeted(ws)
        while not done.is_set():
            start = time.perf_counter()
            ws.send_text(json.dumps({"type": "hello", "protocol": 2}))
            if ws.receive_json()["type"] != "hello":
                raise AssertionError("the second screen's hello was not answered with hello")
            now = time.perf_counter()
            hellos.append((now, (now - start) * 1000))
            time.sleep(PING_PAUSE_S)


def drive_turn(app: Any, audio: np.ndarray, language: str = "en") -> LoopRun:
    """One hands-free clerk turn of ``audio`` (16 kHz float32) into ``language`` on ``app``, beside a
    second screen that pings and a probe on the app's loop (see the module docstring)."""
    from starlette.testclient import TestClient

    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    run, done = LoopRun(), threading.Event()
    probe = _LagProbe(run.wakes)
    with TestClient(app, base_url="http://localhost") as client:
        client.portal.start_task_soon(probe.run)
        pinger = threading.Thread(target=_ping, args=(client, done, run.hellos))
        with client.websocket_connect("ws://localhost/ws") as ws:
            _greeted(ws)
            ws.send_text(json.dumps({"type": "set_language", "language": language}))
            ws.receive_json()
            pinger.start()
            try:
                ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": "handsfree"}))
                for at in range(0, len(pcm), _FRAME_BYTES):
                    ws.send_bytes(pcm[at : at + _FRAME_BYTES])
                while not run.messages or run.messages[-1]["type"] != "turn_end":
                    run.messages.append(ws.receive_json())
            finally:
                done.set()
                pinger.join(timeout=30)
                probe.stop = True
    return run


def turn_audio(clip: Path | None = None, seconds: float = 4.0) -> np.ndarray:
    """``seconds`` of ``clip`` (default: ``DEFAULT_CLIP``, else the bundled sample) between 0.5 s of
    silence before and 1.5 s after, so the hands-free end-pointer closes the turn."""
    from edge.audio.decode import load_audio

    path = clip or (DEFAULT_CLIP if DEFAULT_CLIP.is_file() else BUNDLED_SAMPLE)
    speech = load_audio(path)[: int(16000 * seconds)]
    return np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(24000, np.float32)])


def summarise(runs: list[LoopRun]) -> dict[str, Any]:
    """The probe's lateness and the hello round trips over ``runs`` (milliseconds, rounded)."""
    lags = [late for run in runs for _at, late in run.wakes]
    rtts = [rtt for run in runs for _at, rtt in run.hellos]

    def ms(values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value, 1)

    return {
        "turns": len(runs),
        "probes": len(lags),
        "lag_p50_ms": ms(lags, 50),
        "lag_p95_ms": ms(lags, 95),
        "lag_max_ms": round(max(lags), 1) if lags else None,
        "hellos": len(rtts),
        "hello_p50_ms": ms(rtts, 50),
        "hello_p95_ms": ms(rtts, 95),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def run_bench(
    store_dir: Path | None,
    asr_pack: str = "whisper-base",
    *,
    clip: Path | None = None,
    turns: int = 3,
    threads: int = 1,
) -> dict[str, Any]:
    """``turns`` hands-free turns on a counter app built from ``store_dir`` (default: the device's store)
    with ``asr_pack``, each beside a pinging screen; returns ``summarise`` of them with the turn's kinds."""
    import tempfile

    from edge.config import EdgeSettings, load_settings
    from edge.counter.app import create_app
    from edge.counter.service import CounterOptions
    from edge.turn.pipeline import TurnPipeline

    packs_dir = store_dir or load_settings().store_dir
    audio = turn_audio(clip)
    with tempfile.TemporaryDirectory(prefix="madoguchi-loop-lag-") as home:
        settings = EdgeSettings(
            home=Path(home),
            packs_dir=packs_dir,
            languages=["ja", "en"],
            asr_pack=asr_pack,
            cpu_threads=threads,
        )
        pipe = TurnPipeline.from_settings(settings, pairs=[("ja", "en")], warm=True)
        app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
        runs = [drive_turn(app, audio) for _ in range(turns)]
    kinds = sorted({m["type"] for run in runs for m in run.messages})
    return {"asr_pack": asr_pack, "threads": threads, **summarise(runs), "messages": kinds}


def markdown(result: dict[str, Any]) -> str:
    """The result as a two-column Markdown table."""
    rows = [f"| {key} | {value} |" for key, value in result.items()]
    return "\n".join(["| measure | value |", "| --- | --- |", *rows]) + "\n"
