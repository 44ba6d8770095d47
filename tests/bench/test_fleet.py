"""Fleet simulation: 40 sites × 3 devices against a real server that is killed mid-round."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.fleet import FleetOptions, PostgresCluster, ServerProcess, run_fleet
from glossary.schema import Glossary, Term

FAST_ARGON2 = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="madoguchi-pg-fleet-", dir="/tmp")))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fleet_totals_exact_across_a_server_kill(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
    else:
        url = request.getfixturevalue("pg").create_database(f"fleet_{uuid.uuid4().hex[:10]}")
    server = ServerProcess(home=tmp_path / "server", database_url=url, extra_env=FAST_ARGON2)
    server.start()
    try:
        term = Term(
            id="res.juminhyo_copy",
            domain="res",
            ja="住民票の写し",
            reading="じゅうみんひょうのうつし",
            translations={"en": "certificate of residence"},
        )
        glossary = Glossary.from_items([term], [])
        reply = httpx.post(
            f"{server.url}/api/v1/admin/glossary",
            files={"file": ("g.json", glossary.canonical_json(), "application/json")},
            auth=(server.admin_user, server.admin_password),
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        options = FleetOptions(sites=40, devices_per_site=3, rounds=2, turns_per_round=3, restart_in_round=2)
        report = asyncio.run(run_fleet(server, tmp_path / "devices", options))
    finally:
        server.stop()
    print(f"\nfleet[{backend}]: {report.to_dict()}")
    assert report.restarts == 1
    assert report.turns_generated == 40 * 3 * 2 * 3
    assert report.pending_turns_left == 0
    assert report.counted == report.generated
    assert report.turns_counted == report.turns_generated
    assert report.glossary_numbers == [1]
