"""Fixtures shared by the edge tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.fleet import ServerProcess

#: Cheap Argon2 settings: the tests enroll admins and devices, not attackers.
_FAST_PASSWORDS = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real central server on SQLite, one per test module (no glossary published yet)."""
    home = tmp_path_factory.mktemp("sync-server")
    proc = ServerProcess(home=home, database_url=f"sqlite:///{home / 'server.db'}", extra_env=_FAST_PASSWORDS)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
