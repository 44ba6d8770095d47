"""Fleet simulator: many counter devices syncing with a real server process at once.

Used by the server tests (small fleets, exact totals) and by the load benchmark (40 sites × 3
devices). Each simulated device is a real :class:`edge.sync.client.SyncClient` with its own SQLite outbox
and glossary directory; only the turns are synthetic (languages and term/phrase ids drawn from a
seeded RNG). The server runs as a separate uvicorn process, so it can be killed (``SIGKILL``) and
restarted in the middle of a round: the devices must retry, and the final totals on the server
must equal what the devices generated, exactly (both shown with the server's small-cell suppression).

The server and PostgreSQL child processes are in ``bench.processes`` (also importable from here, as the
tests do).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.processes import REPO_ROOT, PostgresCluster, ServerProcess, free_port
from edge.sync.client import SyncClient, SyncOptions
from edge.sync.outbox import Outbox, OutboxOptions, TurnUsage

RESIDENT = ("vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es")


def enroll_fleet(database_url: str, sites: int, devices_per_site: int) -> list[tuple[str, str, str]]:
    """Enroll ``sites × devices_per_site`` devices directly in the database: (site, device, token)."""
    from server import crud
    from server.core.db import make_engine, make_session_factory, session_scope
    from server.core.migrate import upgrade_to_head

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    out: list[tuple[str, str, str]] = []
    with session_scope(make_session_factory(engine)) as session:
        for s in range(sites):
            for d in range(devices_per_site):
                site, name = f"site-{s:03d}", f"counter-{d + 1}"
                _device, token = crud.enroll_device(session=session, site_name=site, device_name=name)
                out.append((site, name, token))
    engine.dispose()
    return out


@dataclass(frozen=True)
class FleetOptions:
    """Shape of one simulation."""

    sites: int = 40
    devices_per_site: int = 3
    rounds: int = 6
    """Sync rounds; every device syncs once per round."""
    turns_per_round: int = 4
    """Turns each device records before each round (count)."""
    restart_in_round: int | None = 3
    """Kill and restart the server during this round (1-based; None = never)."""
    restart_delay_s: float = 0.05
    """How long into that round the server is killed (seconds)."""
    drain_rounds: int = 20
    """Extra rounds after the last, until every outbox is empty (count, at most)."""
    seed: int = 1
    term_ids: tuple[str, ...] = ("res.juminhyo_copy", "tax.juminzei", "nhi.hokensho", "waste.sodai_gomi")
    phrase_ids: tuple[str, ...] = ("greeting.welcome", "documents.bring_id")
    max_connections: int = 100


@dataclass
class FleetReport:
    """What happened: requests, time, and the totals on both sides."""

    devices: int
    rounds: int
    requests: int = 0
    request_errors: int = 0
    duration_s: float = 0.0
    restarts: int = 0
    turns_generated: int = 0
    turns_counted: int = 0
    generated: dict[str, int | None] = field(default_factory=dict)
    counted: dict[str, int | None] = field(default_factory=dict)
    pending_turns_left: int = 0
    glossary_numbers: list[int] = field(default_factory=list)

    @property
    def totals_match(self) -> bool:
        return self.generated == self.counted and self.pending_turns_left == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals_match"] = self.totals_match
        data.pop("generated")
        data.pop("counted")
        return data


def _random_turn(rng: random.Random, options: FleetOptions, day: dt.date) -> TurnUsage:
    resident = rng.choice(RESIDENT)
    source, target = ("ja", resident) if rng.random() < 0.5 else (resident, "ja")
    terms = tuple(rng.sample(options.term_ids, rng.randint(0, 2)))
    phrase = rng.choice(options.phrase_ids) if rng.random() < 0.3 else None
    return TurnUsage(
        source=source,
        target=target,
        day=day,
        term_ids=terms,
        phrase_id=phrase,
        duration_s=rng.uniform(0.3, 6.0),
        flagged=rng.random() < 0.05,
    )


def _key(kind: str, key: str) -> str:
    return f"{kind}:{key}" if key else kind


def suppressed_totals(generated: Counter[str], threshold: int) -> dict[str, int | None]:
    """What the server's fleet totals must show for ``generated``: the same small-cell suppression."""
    from server.reports import KEYLESS_KINDS, suppress

    per_kind: dict[str, dict[str, int]] = {}
    for name, n in generated.items():
        kind, _, key = name.partition(":")
        per_kind.setdefault(kind, {})[key] = n
    out: dict[str, int | None] = {}
    for kind, counts in per_kind.items():
        if kind in KEYLESS_KINDS:
            total = sum(counts.values())
            out[kind] = total if total >= threshold else None
            continue
        for key, shown in suppress(counts, threshold).items():
            out[_key(kind, key)] = shown
    return out


@dataclass
class _Fleet:
    """The simulated devices of one run: their sync clients, seeded RNGs, and what they generated."""

    server: ServerProcess
    options: FleetOptions
    report: FleetReport
    clients: list[SyncClient]
    rngs: list[random.Random]
    generated: Counter[str] = field(default_factory=Counter)
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    async def device_round(self, i: int, record: bool) -> None:
        """Device ``i`` records a round of turns (when ``record``) and syncs once."""
        client = self.clients[i]
        if record:
            turns = [
                _random_turn(self.rngs[i], self.options, self.today - dt.timedelta(days=t % 2))
                for t in range(self.options.turns_per_round)
            ]
            for usage in turns:
                for kind, key, n in usage.counters():
                    self.generated[_key(kind, key)] += n
                    if kind == "turn":
                        self.report.turns_generated += n
            # A counter records turns from its pipeline thread; the fsyncs stay off the event loop.
            await asyncio.to_thread(lambda: [client.outbox.add_turn(u) for u in turns])
        sync = await client.sync_once(force_usage=not record)
        self.report.request_errors += sum(
            1 for c in sync.error_codes if c in ("server_unreachable", "server_error")
        )

    async def run_rounds(self) -> None:
        """Every round: all devices at once; the server killed and restarted in ``restart_in_round``."""
        for round_no in range(1, self.options.rounds + 1):
            tasks = [asyncio.create_task(self.device_round(i, True)) for i in range(len(self.clients))]
            if self.options.restart_in_round == round_no:
                await asyncio.sleep(self.options.restart_delay_s)
                await asyncio.to_thread(self.server.restart, kill=True)
                self.report.restarts += 1
            await asyncio.gather(*tasks)

    async def drain(self) -> None:
        """Sync without recording until every outbox is empty (at most ``drain_rounds`` rounds)."""
        for _ in range(self.options.drain_rounds):
            if all(c.outbox.pending_turns() == 0 and not c.outbox.pending() for c in self.clients):
                break
            await asyncio.gather(*(self.device_round(i, False) for i in range(len(self.clients))))

    async def collect(self, http: httpx.AsyncClient) -> None:
        """What is left in the outboxes, the glossaries installed, and the totals on both sides."""
        report, server = self.report, self.server
        report.pending_turns_left = sum(c.outbox.pending_turns() for c in self.clients)
        report.glossary_numbers = sorted(
            {c.installed.statement.number for c in self.clients if c.installed is not None}
        )
        response = await http.get(
            f"{server.url}/api/v1/admin/usage/totals", auth=(server.admin_user, server.admin_password)
        )
        response.raise_for_status()
        report.counted = {_key(r["kind"], r["key"]): r["count"] for r in response.json()["data"]}
        report.generated = suppressed_totals(self.generated, response.json()["suppress_below"])
        report.turns_counted = report.counted.get("turn") or 0


def _device_clients(
    server: ServerProcess, devices: list[tuple[str, str, str]], work_dir: Path, http: httpx.AsyncClient
) -> list[SyncClient]:
    """One real ``SyncClient`` per device, each with its own outbox and glossary directory."""
    pubkey = server.public_key_path.read_bytes()
    outbox_options = OutboxOptions(backoff_initial_s=0.05, backoff_max_s=0.5)
    clients: list[SyncClient] = []
    for site, name, token in devices:
        home = work_dir / site / name
        clients.append(
            SyncClient(
                server.url,
                token,
                pubkey,
                home / "glossary",
                Outbox(home / "outbox.db", outbox_options),
                options=SyncOptions(app_version="fleet-sim", max_batches_per_round=5),
                http=http,
                pack_ids=lambda: ["whisper-base"],
            )
        )
    return clients


async def run_fleet(
    server: ServerProcess,
    work_dir: Path,
    options: FleetOptions | None = None,
    *,
    devices: list[tuple[str, str, str]] | None = None,
) -> FleetReport:
    """Simulate the fleet against a started ``server``; returns the report (check ``totals_match``)."""
    options = options or FleetOptions()
    devices = devices or enroll_fleet(server.database_url, options.sites, options.devices_per_site)
    report = FleetReport(devices=len(devices), rounds=options.rounds)

    async def _count(request: httpx.Request) -> None:
        report.requests += 1

    limits = httpx.Limits(
        max_connections=options.max_connections, max_keepalive_connections=options.max_connections
    )
    http = httpx.AsyncClient(timeout=30.0, limits=limits, event_hooks={"request": [_count]})
    clients = _device_clients(server, devices, work_dir, http)
    rngs = [random.Random(options.seed * 100_003 + i) for i in range(len(clients))]
    fleet = _Fleet(server, options, report, clients, rngs)
    started = time.perf_counter()
    try:
        await fleet.run_rounds()
        await fleet.drain()
        report.duration_s = round(time.perf_counter() - started, 3)
        await fleet.collect(http)
    finally:
        await http.aclose()
        for client in clients:
            with contextlib.suppress(Exception):
                client.outbox.close()
    return report


def _minimal_glossary_json() -> bytes:
    from glossary.schema import TRANSLATION_LANGUAGES, Glossary, Term

    term = Term(
        id="res.juminhyo_copy",
        domain="res",
        ja="住民票の写し",
        reading="じゅうみんひょうのうつし",
        translations={lang: "certificate of residence" for lang in TRANSLATION_LANGUAGES},
    )
    return Glossary.from_items([term], []).canonical_json()


def simulate(
    work_dir: Path,
    options: FleetOptions | None = None,
    *,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> FleetReport:
    """Start a server (SQLite in ``work_dir`` unless ``database_url``), publish a glossary, run the fleet.

    The one entry point for the tests and the load benchmark; the server is always stopped.
    """
    url = database_url or f"sqlite:///{work_dir / 'server.db'}"
    server = ServerProcess(home=work_dir / "server", database_url=url, extra_env=dict(extra_env or {}))
    server.start()
    try:
        reply = httpx.post(
            f"{server.url}/api/v1/admin/glossary",
            files={"file": ("glossary.json", _minimal_glossary_json(), "application/json")},
            auth=(server.admin_user, server.admin_password),
            timeout=120,
        )
        reply.raise_for_status()
        return asyncio.run(run_fleet(server, work_dir / "devices", options))
    finally:
        server.stop()


__all__ = [
    "REPO_ROOT",
    "FleetOptions",
    "FleetReport",
    "PostgresCluster",
    "ServerProcess",
    "enroll_fleet",
    "free_port",
    "run_fleet",
    "simulate",
    "suppressed_totals",
]
