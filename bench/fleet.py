"""Fleet simulator: many counter devices syncing with a real server process at once.

Used by the server tests (small fleets, exact totals) and by the load benchmark (40 sites × 3
devices). Each simulated device is a real :class:`edge.sync.client.SyncClient` with its own SQLite outbox
and glossary directory; only the turns are synthetic (languages and term/phrase ids drawn from a
seeded RNG). The server runs as a separate uvicorn process, so it can be killed (``SIGKILL``) and
restarted in the middle of a round: the devices must retry, and the final totals on the server
must equal what the devices generated, exactly (both shown with the server's small-cell suppression).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from edge.sync.client import SyncClient, SyncOptions
from edge.sync.outbox import Outbox, OutboxOptions, TurnUsage

REPO_ROOT = Path(__file__).resolve().parent.parent
RESIDENT = ("vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``madoguchi`` server (uvicorn, one worker) in a child process on 127.0.0.1."""

    home: Path
    database_url: str
    port: int = field(default_factory=free_port)
    admin_user: str = "admin"
    admin_password: str = "fleet-admin-pass"
    publish_bundled: bool = False
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_key_path(self) -> Path:
        return self.home / "glossary-signing.pub"

    def env(self) -> dict[str, str]:
        """Environment of the server process."""
        env = dict(os.environ)
        env.update(
            {
                "MADOGUCHI_SERVER_HOME": str(self.home),
                "MADOGUCHI_SERVER_DATABASE_URL": self.database_url,
                "MADOGUCHI_SERVER_ADMIN_USER": self.admin_user,
                "MADOGUCHI_SERVER_ADMIN_PASSWORD": self.admin_password,
                "MADOGUCHI_SERVER_PUBLISH_BUNDLED_GLOSSARY": "true" if self.publish_bundled else "false",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
                **self.extra_env,
            }
        )
        return env

    def start(self, timeout_s: float = 60.0) -> None:
        """Start uvicorn and wait until ``/api/v1/health`` answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path or self.home / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "server.main:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env(),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self._proc.returncode}; see {self.home / 'server.log'}"
                )
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"server did not answer within {timeout_s} s; see {self.home / 'server.log'}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (``SIGKILL`` when ``kill``, else ``SIGTERM``) and wait for it."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=20)
        self._proc = None

    def restart(self, *, kill: bool = True) -> None:
        """Stop (killed by default, like a power cut) and start again on the same port."""
        self.stop(kill=kill)
        self.start()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster in ``/tmp``, run as the ``postgres`` user (tests, benchmarks)."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _as_postgres(self, command: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True, capture_output=True)

    def start(self) -> None:
        """initdb (trust auth) and start; fsync off: the data is thrown away.

        ``directory`` must be reachable by the ``postgres`` user (e.g. ``mkdtemp(dir="/tmp")``).
        """
        for parent in self.directory.resolve().parents:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(
                    f"{parent} is not traversable by the postgres user; put the cluster under /tmp"
                )
        self.directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        self._as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres >{self.directory}/initdb.log 2>&1")
        self._as_postgres(
            f"{PG_BIN}/pg_ctl -D {data} -o '-h 127.0.0.1 -p {self.port} -k {self.directory} -F "
            f"-c max_connections=300' -l {self.directory}/log -w start"
        )

    def stop(self) -> None:
        """Stop the cluster and delete its files."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.directory / 'data'} -m fast -w stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"


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
    pubkey = server.public_key_path.read_bytes()
    generated: Counter[str] = Counter()
    today = dt.datetime.now(dt.UTC).date()

    async def _count(request: httpx.Request) -> None:
        report.requests += 1

    limits = httpx.Limits(
        max_connections=options.max_connections, max_keepalive_connections=options.max_connections
    )
    http = httpx.AsyncClient(timeout=30.0, limits=limits, event_hooks={"request": [_count]})
    outbox_options = OutboxOptions(backoff_initial_s=0.05, backoff_max_s=0.5)
    clients: list[SyncClient] = []
    rngs: list[random.Random] = []
    for i, (site, name, token) in enumerate(devices):
        home = work_dir / site / name
        outbox = Outbox(home / "outbox.db", outbox_options)
        clients.append(
            SyncClient(
                server.url,
                token,
                pubkey,
                home / "glossary",
                outbox,
                options=SyncOptions(app_version="fleet-sim", max_batches_per_round=5),
                http=http,
                pack_ids=lambda: ["whisper-base"],
            )
        )
        rngs.append(random.Random(options.seed * 100_003 + i))

    async def _device_round(i: int, record: bool) -> None:
        client = clients[i]
        if record:
            turns = [
                _random_turn(rngs[i], options, today - dt.timedelta(days=t % 2))
                for t in range(options.turns_per_round)
            ]
            for usage in turns:
                for kind, key, n in usage.counters():
                    generated[_key(kind, key)] += n
                    if kind == "turn":
                        report.turns_generated += n
            # A counter records turns from its pipeline thread; the fsyncs stay off the event loop.
            await asyncio.to_thread(lambda: [client.outbox.add_turn(u) for u in turns])
        sync = await client.sync_once(force_usage=not record)
        report.request_errors += sum(
            1 for c in sync.error_codes if c in ("server_unreachable", "server_error")
        )

    started = time.perf_counter()
    try:
        for round_no in range(1, options.rounds + 1):
            tasks = [asyncio.create_task(_device_round(i, True)) for i in range(len(clients))]
            if options.restart_in_round == round_no:
                await asyncio.sleep(options.restart_delay_s)
                await asyncio.to_thread(server.restart, kill=True)
                report.restarts += 1
            await asyncio.gather(*tasks)
        for _ in range(options.drain_rounds):
            if all(c.outbox.pending_turns() == 0 and not c.outbox.pending() for c in clients):
                break
            await asyncio.gather(*(_device_round(i, False) for i in range(len(clients))))
        report.duration_s = round(time.perf_counter() - started, 3)
        report.pending_turns_left = sum(c.outbox.pending_turns() for c in clients)
        report.glossary_numbers = sorted(
            {c.installed.statement.number for c in clients if c.installed is not None}
        )
        response = await http.get(
            f"{server.url}/api/v1/admin/usage/totals", auth=(server.admin_user, server.admin_password)
        )
        response.raise_for_status()
        report.counted = {_key(r["kind"], r["key"]): r["count"] for r in response.json()["data"]}
        report.generated = suppressed_totals(generated, response.json()["suppress_below"])
        report.turns_counted = report.counted.get("turn") or 0
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
