"""``madoguchi bench load``: a bounded fleet of counter devices against a real central server.

The server runs as a uvicorn subprocess on 127.0.0.1 (SQLite by default, PostgreSQL 15 with
``--postgres``); the devices are the real ``edge.sync.client.SyncClient`` of ``bench.fleet`` (glossary poll —
mostly ``304 Not Modified`` after the first round —, usage batches, heartbeats). Every HTTP exchange is
timed (request handed to the client → response headers) by a thin ``httpx.AsyncClient`` subclass
installed for the run, so the latency includes waiting for one of ``max_connections`` connections and
the server's queue: every device syncs at the same moment, a worst-case burst.
The report: requests/s, p50/p99 latency per endpoint, status codes, errors, and whether the usage totals
on the server equal what the devices generated, exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.scoring import percentile, rounded

_LOGGER = logging.getLogger(__name__)

#: Cheap password hashing for the bench admin (the production defaults stay RFC 9106).
_FAST_ARGON2 = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}


@dataclass(frozen=True)
class LoadOptions:
    """Shape of the load run.

    Attributes:
        sites: Sites (count).
        devices_per_site: Counter devices per site (count).
        rounds: Sync rounds; every device syncs once per round (count).
        turns_per_round: Turns each device records before each round (count).
        postgres: Use a throwaway PostgreSQL 15 cluster instead of SQLite.
        max_connections: Concurrent HTTP connections of the fleet (count).
    """

    sites: int = 40
    devices_per_site: int = 10
    rounds: int = 3
    turns_per_round: int = 4
    postgres: bool = False
    max_connections: int = 100


@dataclass
class _Timings:
    """Latency samples per endpoint and status counts, filled by the HTTP hooks."""

    latencies_ms: dict[str, list[float]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = dataclasses.field(default_factory=Counter)


def _endpoint(request: httpx.Request) -> str:
    path = request.url.path
    if "/admin/" in path:
        return f"{request.method} admin"
    for name in ("glossary", "usage", "heartbeat"):
        if f"/{name}" in path:
            return f"{request.method} {name}"
    return f"{request.method} other"


@contextlib.contextmanager
def _timed_http(timings: _Timings) -> Iterator[None]:
    """Make every ``httpx.AsyncClient`` created inside the block time its exchanges into ``timings``."""
    original = httpx.AsyncClient

    async def _start(request: httpx.Request) -> None:
        request.extensions["bench_t0"] = time.perf_counter()

    async def _end(response: httpx.Response) -> None:
        started = response.request.extensions.get("bench_t0")
        kind = _endpoint(response.request)
        if started is not None:
            timings.latencies_ms[kind].append((time.perf_counter() - started) * 1000.0)
        timings.statuses[f"{kind} {response.status_code}"] += 1

    class TimedAsyncClient(original):  # type: ignore[misc, valid-type]
        def __init__(
            self, *args: Any, event_hooks: dict[str, list[Any]] | None = None, **kwargs: Any
        ) -> None:
            hooks = {key: list(value) for key, value in (event_hooks or {}).items()}
            hooks.setdefault("request", []).insert(0, _start)
            hooks.setdefault("response", []).append(_end)
            super().__init__(*args, event_hooks=hooks, **kwargs)

    httpx.AsyncClient = TimedAsyncClient  # type: ignore[misc]
    try:
        yield
    finally:
        httpx.AsyncClient = original  # type: ignore[misc]


def run_load(
    options: LoadOptions, out_dir: Path, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Start a server, run the fleet, stop everything; returns (and writes) ``load.json``."""
    from bench.fleet import FleetOptions, PostgresCluster, ServerProcess, enroll_fleet, run_fleet

    say = progress or (lambda _msg: None)
    for noisy in ("httpx", "edge.sync.client", "edge.sync.outbox"):  # one line per request/device otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="madoguchi-load-"))
    cluster = None
    try:
        if options.postgres:
            cluster = PostgresCluster(work / "pg")
            cluster.start()
            database_url = cluster.create_database("load")
        else:
            database_url = f"sqlite:///{work / 'server.db'}"
        server_kwargs: dict[str, Any] = {
            "home": work / "server",
            "database_url": database_url,
            "publish_bundled": True,
        }
        if "extra_env" in {f.name for f in dataclasses.fields(ServerProcess)}:
            server_kwargs["extra_env"] = dict(_FAST_ARGON2)
        server = ServerProcess(**server_kwargs)
        fleet_options = FleetOptions(
            sites=options.sites,
            devices_per_site=options.devices_per_site,
            rounds=options.rounds,
            turns_per_round=options.turns_per_round,
            restart_in_round=None,
            max_connections=options.max_connections,
        )
        say(f"starting the server ({'PostgreSQL' if options.postgres else 'SQLite'}) on 127.0.0.1")
        with server:
            say(f"enrolling {options.sites} sites × {options.devices_per_site} devices")
            devices = enroll_fleet(database_url, options.sites, options.devices_per_site)
            timings = _Timings()
            say(f"running {options.rounds} rounds")
            with _timed_http(timings):
                fleet = asyncio.run(run_fleet(server, work / "devices", fleet_options, devices=devices))
        result = _summarize(options, fleet, timings)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "load.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    result["file"] = str(path)
    return result


def _summarize(options: LoadOptions, fleet: Any, timings: _Timings) -> dict[str, Any]:
    all_ms = [v for values in timings.latencies_ms.values() for v in values]
    per_endpoint = {
        kind: {
            "requests": len(values),
            "p50_ms": rounded(percentile(values, 50)),
            "p99_ms": rounded(percentile(values, 99)),
        }
        for kind, values in sorted(timings.latencies_ms.items())
    }
    server_errors = sum(n for key, n in timings.statuses.items() if key.rsplit(" ", 1)[-1].startswith("5"))
    report = fleet.to_dict()
    return {
        "options": dataclasses.asdict(options),
        "devices": report["devices"],
        "requests": report["requests"],
        "responses": len(all_ms),
        "duration_s": report["duration_s"],
        "requests_per_s": round(report["requests"] / report["duration_s"], 1)
        if report["duration_s"]
        else None,
        "p50_ms": rounded(percentile(all_ms, 50)),
        "p99_ms": rounded(percentile(all_ms, 99)),
        "per_endpoint": per_endpoint,
        "statuses": dict(sorted(timings.statuses.items())),
        "transport_errors": report["request_errors"],
        "server_errors_5xx": server_errors,
        "turns_generated": report["turns_generated"],
        "turns_counted": report["turns_counted"],
        "pending_turns_left": report["pending_turns_left"],
        "totals_exact": report["totals_match"],
        "latency_note": "client pool wait + server queue + service; all devices sync at once (burst)",
    }


def print_load(result: dict[str, Any], console: Any) -> None:
    """Rich table of a load run."""
    from rich.table import Table

    table = Table(
        title=f"Load: {result['devices']} devices, {result['requests']} requests in {result['duration_s']} s"
    )
    for column in ("endpoint", "requests", "p50 ms", "p99 ms"):
        table.add_column(column)
    for kind, row in result["per_endpoint"].items():
        table.add_row(kind, str(row["requests"]), str(row["p50_ms"]), str(row["p99_ms"]))
    table.add_row("all", str(result["responses"]), str(result["p50_ms"]), str(result["p99_ms"]))
    console.print(table)
    console.print(
        f"requests/s {result['requests_per_s']}, transport errors {result['transport_errors']}, "
        f"5xx {result['server_errors_5xx']}, turns generated {result['turns_generated']} / counted "
        f"{result['turns_counted']}, totals exact: {result['totals_exact']}"
    )
    console.print(f"statuses: {result['statuses']}")
    if "file" in result:
        console.print(f"json: {result['file']}")
