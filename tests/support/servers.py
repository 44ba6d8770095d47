"""Servers the tests run for real: the central server in a child process and an ASGI app under uvicorn.

with central_server(tmp_path / "server") as server:      # madoguchi server on SQLite, with an admin
    ...
with serve_app(create_app(settings, pipeline=None)) as url:   # "http://127.0.0.1:<port>"
    ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.fleet import ServerProcess, free_port
from bench.processes import serve_app

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
