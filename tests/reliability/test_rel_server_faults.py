"""Server-side faults: a long outage, a server killed mid-batch, a locked SQLite database.

Each test runs the real server (uvicorn subprocess, SQLite) and the real device sync path
(``edge.sync.outbox.Outbox`` + ``edge.sync.client.SyncClient``). Related tests elsewhere: a fleet of
120 devices against a server killed mid-round (``tests/bench/test_fleet.py``), a reply lost after the commit
(``tests/server/test_e2e.py::test_usage_counted_once_despite_lost_replies``), the outbox after
``kill -9`` of the device and the age limit of ``Outbox.compact`` (``tests/edge/test_sync_outbox.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.fleet import ServerProcess
from edge.sync.client import SyncClient, SyncOptions
from edge.sync.outbox import Outbox, OutboxOptions, TurnUsage
from tests.support.glossaries import small_glossary
from tests.support.servers import central_server

TERMS = ("res.juminhyo_copy", "tax.juminzei")
FIRST_DAY = dt.date(2026, 9, 1)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with central_server(tmp_path_factory.mktemp("server")) as proc:
        yield proc


@pytest.fixture
def server(running: ServerProcess) -> Iterator[ServerProcess]:
    """The module's server, started again if a test left it stopped."""
    yield running
    if running._proc is None:
        running.start()


def _admin(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password), timeout=60)


def _enroll(server: ServerProcess, site: str) -> str:
    with _admin(server) as admin:
        files = {"file": ("g.json", small_glossary("one").canonical_json(), "application/json")}
        admin.post("/api/v1/admin/glossary", files=files)
        reply = admin.post("/api/v1/admin/devices", json={"site": site, "device": "c1"})
        reply.raise_for_status()
        return str(reply.json()["token"])


def _totals(server: ServerProcess, site: str) -> Counter[str]:
    with _admin(server) as admin:
        rows = admin.get("/api/v1/admin/usage/totals", params={"by_site": True}).json()["data"]
    return Counter({f"{r['kind']}:{r['key']}": r["count"] for r in rows if r["site"] == site})


def _device(
    server: ServerProcess, token: str, home: Path, http: httpx.AsyncClient | None = None
) -> SyncClient:
    outbox = Outbox(home / "outbox.db", OutboxOptions(backoff_initial_s=0.01, backoff_max_s=0.05))
    return SyncClient(
        server.url, token, server.public_key_path, home / "glossary", outbox,
        options=SyncOptions(timeout_s=60), http=http,
    )  # fmt: skip


def _turn(day: dt.date, i: int) -> tuple[TurnUsage, Counter[str]]:
    """One turn and the counters the server should end up with for it."""
    resident = ("vi", "pt", "ne")[i % 3]
    source, target = ("ja", resident) if i % 2 else (resident, "ja")
    terms = TERMS[: i % 3]
    usage = TurnUsage(source=source, target=target, day=day, term_ids=terms, duration_s=0.5 + i % 4)
    expected = Counter({"turn:": 1, **{f"term:{t}": 1 for t in terms}})
    return usage, expected


def _outbox_rows(home: Path) -> tuple[int, int]:
    """Rows of the outbox's counters and batches tables."""
    with sqlite3.connect(home / "outbox.db") as db:
        counters = db.execute("SELECT COUNT(*) FROM counters").fetchone()[0]
        batches = db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    return int(counters), int(batches)


async def _drain(device: SyncClient, rounds: int = 30) -> int:
    sent = 0
    for _ in range(rounds):
        report = await device.sync_once(force_usage=True)
        sent += report.turns_sent
        if device.outbox.pending_turns() == 0:
            break
    return sent


def test_long_outage_keeps_every_count_bounded_and_delivers_once(
    server: ServerProcess, tmp_path: Path
) -> None:
    token = _enroll(server, "outage")
    server.stop(kill=True)
    days, per_day = 30, 20
    expected: Counter[str] = Counter()

    async def offline() -> None:
        device = _device(server, token, tmp_path / "dev")
        async with device:
            for d in range(days):
                for i in range(per_day):
                    usage, counts = _turn(FIRST_DAY + dt.timedelta(days=d), i)
                    device.outbox.add_turn(usage)
                    expected.update(counts)
                report = await device.sync_once(force_usage=True)  # the server is gone: nothing is lost
                assert report.batches_sent == 0 and "server_unreachable" in report.error_codes
                assert device.outbox.compact(FIRST_DAY + dt.timedelta(days=d)) == 0
            rows_before = _outbox_rows(tmp_path / "dev")
            for i in range(120):  # a busy last day: more turns, the same cells
                usage, counts = _turn(FIRST_DAY + dt.timedelta(days=days - 1), i)
                device.outbox.add_turn(usage)
                expected.update(counts)
            assert _outbox_rows(tmp_path / "dev") == rows_before
        device.outbox.close()

    asyncio.run(offline())
    counter_rows, batch_rows = _outbox_rows(tmp_path / "dev")
    cells_per_day = 6 * (1 + 2 + 4)  # 6 (pair, direction) × (turn + 2 terms + 4 duration buckets)
    assert batch_rows == 1  # one batch in flight, the rest still daily counters
    assert counter_rows <= days * cells_per_day  # grows with days, not with turns
    assert (tmp_path / "dev" / "outbox.db").stat().st_size < 1_000_000
    wal = tmp_path / "dev" / "outbox.db-wal"  # reused after each automatic checkpoint (1000 pages)
    assert not wal.exists() or wal.stat().st_size < 4_300_000

    server.start()

    async def online() -> None:
        device = _device(server, token, tmp_path / "dev")
        async with device:
            assert await _drain(device) == days * per_day + 120
            again = await device.sync_once(force_usage=True)
            assert again.batches_sent == 0
        device.outbox.close()

    asyncio.run(online())
    totals = _totals(server, "outage")
    assert totals["turn:"] == days * per_day + 120
    assert {k: v for k, v in totals.items() if not k.startswith("duration")} == expected


class _KillAfterCommit(httpx.AsyncBaseTransport):
    """Forwards to the server; after the first usage batch is answered, kills the server (SIGKILL)."""

    def __init__(self, server: ServerProcess) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server = server
        self.killed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/usage") and not self.killed:
            await response.aread()
            self.killed += 1
            self.server.stop(kill=True)  # committed, then the power went: the reply never arrives
            raise httpx.RemoteProtocolError("server vanished", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_server_killed_after_committing_a_batch_counts_it_once(server: ServerProcess, tmp_path: Path) -> None:
    token = _enroll(server, "killed")
    transport = _KillAfterCommit(server)
    expected: Counter[str] = Counter()

    async def scenario() -> None:
        http = httpx.AsyncClient(transport=transport, timeout=60)
        device = _device(server, token, tmp_path / "dev", http=http)
        for i in range(25):
            usage, counts = _turn(FIRST_DAY, i)
            device.outbox.add_turn(usage)
            expected.update(counts)
        first = await device.sync_once(force_usage=True)
        assert first.batches_sent == 0 and device.outbox.pending_turns() == 25
        await asyncio.to_thread(server.start)  # restarted on the same database
        assert await _drain(device) == 25  # the same batch id again: acknowledged as a duplicate
        await http.aclose()
        device.outbox.close()

    asyncio.run(scenario())
    assert transport.killed == 1
    totals = _totals(server, "killed")
    assert {k: v for k, v in totals.items() if not k.startswith("duration")} == expected


def test_locked_sqlite_database_makes_posts_wait_not_fail(server: ServerProcess, tmp_path: Path) -> None:
    tokens = [_enroll(server, f"locked-{n}") for n in range(3)]
    db_path = server.home / "server.db"
    statuses: list[int] = []
    holding = threading.Event()
    release = threading.Event()

    def hold_write_lock() -> None:
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # another writer (e.g. a backup or a migration) holds the lock
        holding.set()
        release.wait(timeout=30)
        time.sleep(3.0)
        db.execute("COMMIT")
        db.close()

    async def capture(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async def scenario() -> None:
        devices = []
        for n, token in enumerate(tokens):
            http = httpx.AsyncClient(timeout=60, event_hooks={"response": [capture]})
            device = _device(server, token, tmp_path / f"dev{n}", http=http)
            for i in range(10):
                device.outbox.add_turn(_turn(FIRST_DAY, i)[0])
            devices.append((device, http))
        locker = threading.Thread(target=hold_write_lock)
        locker.start()
        assert holding.wait(timeout=10)
        release.set()
        started = time.monotonic()
        reports = await asyncio.gather(*(d.sync_once(force_usage=True) for d, _ in devices))
        waited = time.monotonic() - started
        locker.join()
        assert waited > 1.0, "the posts did not meet the lock"
        for report in reports:
            assert report.batches_sent == 1 and report.turns_sent == 10, report
        for device, http in devices:
            assert device.outbox.pending_turns() == 0
            await http.aclose()
            device.outbox.close()

    asyncio.run(scenario())
    assert statuses and all(code < 500 for code in statuses), statuses
    for n in range(3):
        assert _totals(server, f"locked-{n}")["turn:"] == 10
