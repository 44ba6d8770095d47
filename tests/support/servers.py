"""Servers the tests run for real: the central server in a child process and an ASGI app under uvicorn.

with central_server(tmp_path / "server") as server:      # madoguchi server on SQLite, with an admin
    ...
with serve_app(create_app(settings, pipeline=None)) as url:   # "http://127.0.0.1:<port>"
    ...
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.fleet import ServerProcess, free_port

#: Cheap Argon2 for the test admins and devices (production keeps the RFC 9106 defaults).
FAST_ARGON2 = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}

__all__ = ["FAST_ARGON2", "central_server", "free_port", "serve_app", "sqlite_server"]


def sqlite_server(home: Path, **kwargs: Any) -> ServerProcess:
    """A (not yet started) central server on a SQLite database in ``home``, with cheap passwords."""
    extra_env = {**FAST_ARGON2, **kwargs.pop("extra_env", {})}
    return ServerProcess(
        home=home, database_url=kwargs.pop("database_url", f"sqlite:///{home / 'server.db'}"),
        extra_env=extra_env, **kwargs,
    )  # fmt: skip


@contextlib.contextmanager
def central_server(home: Path, **kwargs: Any) -> Iterator[ServerProcess]:
    """A running central server (``sqlite_server``), stopped on exit."""
    proc = sqlite_server(home, **kwargs)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def serve_app(app: Any, *, scheme: str = "http", **config: Any) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1 in a thread; yields its base URL (``config``: e.g. TLS files)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 30 s"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
