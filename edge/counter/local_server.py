"""The local central server started beside the counter (``madoguchi edge run --with-local-server``).

It runs as a child process (``python -m madoguchi server run``): the edge never imports the server
package. The child dies with the counter on every exit path: a normal exit or SIGTERM/SIGINT stops it
(``LocalServer.stop``), and the kernel sends it SIGTERM when the counter dies any other way
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import EdgeSettings

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: ask Linux for SIGTERM when the parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LocalServer:
    """A central server started beside the counter (``--with-local-server``)."""

    process: Any
    url: str
    home: Path

    def stop(self, timeout_s: float = 10.0) -> None:
        """Terminate the server and wait for it (kill after ``timeout_s``)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except Exception:
            self.process.kill()
            with contextlib.suppress(Exception):
                self.process.wait(timeout=timeout_s)


def start_local_server(home: Path, port: int, *, timeout_s: float = 60.0) -> LocalServer:
    """Start ``madoguchi server run`` on SQLite under ``home/local-server`` and wait until it answers.

    Raises:
        ConfigError: the server package is missing or the server did not come up.
    """
    import os
    import subprocess
    import sys
    import time

    import httpx

    from edge.errors import ConfigError

    if importlib.util.find_spec("server") is None:  # the server is a separate process, never imported
        raise ConfigError("the central server is not installed; run without --with-local-server")
    server_home = home / "local-server"
    server_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(server_home)}
    log = (server_home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "server", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(
                f"the local server exited (code {process.returncode}); see {server_home / 'server.log'}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2.0).status_code == 200:
                return LocalServer(process, url, server_home)
        time.sleep(0.5)
    LocalServer(process, url, server_home).stop()
    raise ConfigError(
        f"the local server did not answer within {timeout_s:.0f} s; see {server_home / 'server.log'}"
    )


def enroll_with_local_server(local: LocalServer, settings: EdgeSettings) -> str:
    """Enroll this device with the local server unless it already is; returns what happened."""
    import os
    import socket
    import subprocess
    import sys

    from edge.errors import ConfigError
    from edge.sync.enrollment import enroll, enrollment_paths

    paths = enrollment_paths(settings.home, settings.token_path, settings.pubkey_path)
    if paths.server_url == local.url and paths.token_path.exists():
        return f"already enrolled with {local.url}"
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(local.home)}
    device = f"{socket.gethostname()}-{os.getpid()}"
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi", "server", "enroll", "--site", "local", "--device", device],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    token = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not token:
        raise ConfigError(f"could not enroll with the local server: {done.stderr.strip()[-200:]}")
    enroll(local.url, token, local.home / "glossary-signing.pub", settings.home)
    return f"enrolled as local/{device} with {local.url}"
