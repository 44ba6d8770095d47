"""Fleet simulation: 120 counters (40 sites × 3) against a real server that is killed mid-round."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fleet import FleetOptions, PostgresCluster, simulate
from tests.support.servers import FAST_ARGON2

pytestmark = pytest.mark.slow  # end to end through real processes


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="madoguchi-pg-fleet-", dir="/tmp")))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.parametrize(("backend", "sites"), [("sqlite", 40), ("postgresql", 12)])
def test_fleet_totals_exact_across_a_server_kill(
    backend: str, sites: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = None
    if backend == "postgresql":
        url = request.getfixturevalue("pg").create_database(f"fleet_{uuid.uuid4().hex[:10]}")
    options = FleetOptions(sites=sites, devices_per_site=3, rounds=2, turns_per_round=3, restart_in_round=2)
    report = simulate(tmp_path, options, database_url=url, extra_env=FAST_ARGON2)
    print(f"\nfleet[{backend}]: {report.to_dict()}")
    assert report.restarts == 1
    assert report.turns_generated == sites * 3 * 2 * 3
    assert report.pending_turns_left == 0
    assert report.counted == report.generated  # every counter, exactly: nothing lost, nothing doubled
    assert report.turns_counted == report.turns_generated
    assert report.glossary_numbers == [1]
