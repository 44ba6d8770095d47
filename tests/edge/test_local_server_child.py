"""``madoguchi edge run --with-local-server``: the local central server never outlives the counter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.fleet import free_port
from edge.turn import load

REPO = Path(__file__).resolve().parents[2]


def _start(tmp_path: Path, store: Any) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MADOGUCHI_HOME": str(tmp_path / "home"),
        "MADOGUCHI_PACKS_DIR": str(store.root),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "madoguchi", "edge", "run", "--with-local-server",
               "--port", str(free_port()), "--server-port", str(free_port())]  # fmt: skip
    return subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout_s: float = 240.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never printed; output:\n{''.join(lines)}")


def _server_children(process: subprocess.Popen[str]) -> list[psutil.Process]:
    commands = [(child, _cmdline(child)) for child in psutil.Process(process.pid).children(recursive=True)]
    servers = [child for child, command in commands if "server" in command and "run" in command]
    assert servers, f"no local server child among {[command for _, command in commands]}"
    return servers


def _cmdline(process: psutil.Process) -> list[str]:
    """The command line of a child; [] for one that has just exited (a zombie not yet reaped)."""
    try:
        return process.cmdline()
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_local_server_stops_with_the_counter(tmp_path: Path, default_store: Any, signum: int) -> None:
    """SIGTERM (systemd, kill), SIGINT (Ctrl+C) and a hard crash (SIGKILL) all take the child down."""
    process = _start(tmp_path, default_store)
    try:
        _wait_for_line(process, "loading models")
        servers = _server_children(process)
        process.send_signal(signum)
        code = process.wait(timeout=180)
        _, alive = psutil.wait_procs(servers, timeout=20)
        assert not alive, f"local server outlived the counter after signal {signum}"
        # a clean stop, not an abort inside a native library (SIGABRT when a voice was warming at exit)
        assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signum)
    finally:
        if process.poll() is None:
            process.kill()
        for child in psutil.Process().children(recursive=True):
            child.kill()


@pytest.mark.slow
def test_sigterm_while_serving_stops_the_child(tmp_path: Path, default_store: Any) -> None:
    """SIGTERM once the counter serves: it exits and the local server with it."""
    process = _start(tmp_path, default_store)
    try:
        _wait_for_line(process, "counter ready")
        servers = _server_children(process)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=180)
        _, alive = psutil.wait_procs(servers, timeout=20)
        assert not alive
    finally:
        if process.poll() is None:
            process.kill()


class _InterruptedFinaliser:
    """Gets the signal while Python runs its finaliser: the handler's exception is printed and dropped."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)
        time.sleep(0.05)  # the handler runs here, inside the finaliser


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped interrupt
def test_a_stop_whose_interrupt_was_lost_still_stops_the_counter() -> None:
    """Ctrl+C while the models load can land in a finaliser, where Python drops the KeyboardInterrupt;
    the counter still stops before it serves (it went on serving before)."""
    from edge.counter import run

    previous = signal.signal(signal.SIGINT, run._on_stop_signal)
    try:
        run._STOP_REQUESTED.clear()
        run.exit_if_stop_requested()  # nothing asked: carries on
        _InterruptedFinaliser()  # dropped at once: its finaliser gets the interrupt and loses it
        with pytest.raises(SystemExit) as stopped:
            run.exit_if_stop_requested()
        assert stopped.value.code == 130
    finally:
        signal.signal(signal.SIGINT, previous)
        run._STOP_REQUESTED.clear()
        load._STOP_WARMING.clear()


def test_a_lost_sigterm_exits_143_and_a_second_signal_while_stopping_is_ignored() -> None:
    """systemd sees SIGTERM's status even when the exception was lost; a second Ctrl+C while stopping does
    not raise inside the interpreter's shutdown (it would cut short the wait for the voice warm-up)."""
    from edge.counter import run

    try:
        with pytest.raises(SystemExit):
            run._on_stop_signal(signal.SIGTERM, None)  # raised where it gets lost
        run._on_stop_signal(signal.SIGINT, None)  # the second: ignored, nothing raised
        assert load._STOP_WARMING.is_set()  # the warm-up was asked to stop
        with pytest.raises(SystemExit) as stopped:
            run.exit_if_stop_requested()
        assert stopped.value.code == 143
    finally:
        run._STOP_REQUESTED.clear()
        load._STOP_WARMING.clear()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped exception
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_lost_while_the_models_load_ends_edge_run_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    """``madoguchi edge run``: Ctrl+C or SIGTERM whose exception is lost during model loading ends the run
    with 128 + the signal, and the server never starts."""
    import uvicorn

    from edge.counter import run
    from edge.turn.pipeline import TurnPipeline

    def load_models(settings: Any, **_: Any) -> TurnPipeline:
        _InterruptedFinaliser(signum)  # the signal lands in a finaliser while the models load
        return TurnPipeline(None, {}, None, languages=("ja", "en"))  # text turns only: nothing to load

    served: list[object] = []
    monkeypatch.setattr(TurnPipeline, "from_settings", load_models)
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path / "home"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as stopped:
            run.run_command(port=free_port(), host="127.0.0.1")
        assert stopped.value.code == 128 + signum
        assert not served
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        run._STOP_REQUESTED.clear()
        load._STOP_WARMING.clear()
