"""Fixtures shared by the edge tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.fleet import ServerProcess
from tests.support.servers import central_server


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real central server on SQLite, one per test module (no glossary published yet)."""
    with central_server(tmp_path_factory.mktemp("sync-server")) as proc:
        yield proc
