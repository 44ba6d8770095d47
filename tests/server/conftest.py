"""Fixtures of the server tests: a throwaway PostgreSQL cluster, a real uvicorn server per test."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.fleet import PostgresCluster, ServerProcess
from tests.support.central import Admin
from tests.support.console import console_login
from tests.support.servers import FAST_ARGON2


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL 15 cluster for the whole session."""
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="madoguchi-pg-", dir="/tmp")))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty database of each kind (one per test module)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'server.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real uvicorn server on 127.0.0.1 with an admin (one per module and database kind)."""
    proc = ServerProcess(
        home=tmp_path_factory.mktemp("server-home"), database_url=db_url, extra_env=FAST_ARGON2
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> Iterator[Admin]:
    client = Admin(server)
    try:
        yield client
    finally:
        client.http.close()


@pytest.fixture
def console(server: ServerProcess) -> httpx.Client:
    """A client logged into the console of this module's server."""
    return console_login(server.url, server.admin_user, server.admin_password)
