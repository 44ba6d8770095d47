"""Fixtures of the server tests: a throwaway PostgreSQL cluster, a real uvicorn server per test."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import Admin

from bench.fleet import PostgresCluster, ServerProcess

@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL 15 cluster for the whole session."""
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="madoguchi-pg-", dir="/tmp")))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real uvicorn server on 127.0.0.1 with an admin and no glossary yet."""
    proc = ServerProcess(home=tmp_path / "server-home", database_url=db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[Admin]:
    client = Admin(server)
    try:
        yield client
    finally:
        client.http.close()


