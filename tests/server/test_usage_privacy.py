"""Usage counts that cannot name a person: folded to week × site at ingest, no output under 5."""

from __future__ import annotations

import csv
import io
import itertools
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.central import usage_row
from tests.support.inprocess import ADMIN, ADMIN_PASSWORD, ADMIN_USER, App, running_app

THRESHOLD = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from running_app(tmp_path_factory.mktemp("usage-privacy"))


@pytest.fixture(scope="module")
def posted(server: App) -> dict[str, str]:
    """Two sites, three devices: big and small cells over two weeks, several days and directions."""
    tokens = {
        "east/c1": server.enroll("east", "c1"),
        "east/c2": server.enroll("east", "c2"),
        "west/c1": server.enroll("west", "c1"),
    }
    batches: list[tuple[str, list[dict[str, Any]]]] = [
        # east, ISO week 2026-W48 (Mon 23 Nov): Vietnamese 7 turns split over two devices and days.
        ("east/c1", [usage_row("vi", count=3, day="2026-11-24"), usage_row("vi", count=1, day="2026-11-25")]),
        (
            "east/c2",
            [{**usage_row("ja", count=3, day="2026-11-26"), "source": "vi", "direction": "to_staff"}],
        ),
        # One Nepali family on a Tuesday (the cell the issue warns about), one Tagalog turn.
        ("east/c1", [usage_row("ne", count=2, day="2026-11-24"), usage_row("tl", count=1, day="2026-11-27")]),
        ("east/c1", [usage_row("vi", kind="term", key="res.juminhyo_copy", count=6, day="2026-11-24")]),
        ("east/c2", [usage_row("ne", kind="term", key="welfare.jido_teate", count=2, day="2026-11-24")]),
        ("east/c1", [usage_row("ne", kind="flagged", count=1, day="2026-11-24")]),
        ("east/c1", [usage_row("vi", kind="duration", key="1to2s", count=7, day="2026-11-24")]),
        # west, week 2026-W49: Spanish 2 turns only.
        ("west/c1", [usage_row("es", count=2, day="2026-12-01")]),
    ]
    for device, rows in batches:
        reply = server.client.post(
            "/api/v1/usage",
            json={"batch_id": str(uuid.uuid4()), "rows": rows},
            headers={"Authorization": f"Bearer {tokens[device]}"},
        )
        assert reply.status_code == 200, reply.text
    return tokens


def _totals(server: App, **params: Any) -> list[dict[str, Any]]:
    reply = server.client.get("/api/v1/admin/usage/totals", params=params, auth=ADMIN)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["suppress_below"] == THRESHOLD
    return list(body["data"])


def test_totals_never_show_a_cell_under_five(server: App, posted: dict[str, str]) -> None:
    seen_suppressed = False
    for by_site, by_week, by_language in itertools.product((False, True), repeat=3):
        rows = _totals(server, by_site=by_site, by_week=by_week, by_language=by_language)
        assert rows
        for row in rows:
            assert row["count"] is None or row["count"] >= THRESHOLD, row
            assert row["suppressed"] == (row["count"] is None)
            seen_suppressed |= row["suppressed"]
            assert row["key"] not in ("welfare.jido_teate",), "a term used twice must not be named"
            assert row["language"] not in ("ne", "tl", "es"), "a rare language must not be named"
    assert seen_suppressed
    east = {
        (r["language"], r["kind"]): r["count"]
        for r in _totals(server, by_site=True, by_week=True, by_language=True)
        if r["site"] == "east" and r["kind"] == "turn"
    }
    assert east == {("vi", "turn"): 7, ("other", "turn"): None}  # ne 2 + tl 1 = 3: merged and hidden
    fleet = {(r["kind"], r["key"]): r["count"] for r in _totals(server)}
    assert fleet[("turn", "")] == 12 and fleet[("term", "res.juminhyo_copy")] == 6
    assert fleet[("duration", "1to2s")] == 7 and fleet[("flagged", "")] is None


def test_the_database_holds_only_week_by_site_cells(server: App, posted: dict[str, str]) -> None:
    with sqlite3.connect(server.home / "server.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "usage_counts" not in tables
        columns = {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            for table in ("usage_turns", "usage_items")
        }
        turns = sorted(db.execute("SELECT site_id, week, language, turns FROM usage_turns").fetchall())
    for cols in columns.values():
        assert not {"device_id", "day", "source", "target", "direction"} & set(cols), cols
    # Two devices and three days of Vietnamese at east are one cell: the week of Monday 23 Nov.
    east_vi = [t for t in turns if t[2] == "vi"]
    assert east_vi == [(east_vi[0][0], "2026-11-23", "vi", 7)]
    assert {t[1] for t in turns} == {"2026-11-23", "2026-11-30"}


def test_export_and_console_show_no_cell_under_five(server: App, posted: dict[str, str]) -> None:
    client = server.client
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    login = {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": csrf}
    assert client.post("/console/login", data=login, follow_redirects=False).status_code == 303
    export = client.get("/console/usage.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows
    for row in rows:
        assert row["turns"] == "<5" or int(row["turns"]) >= THRESHOLD, row
        assert row["language"] not in ("ne", "tl", "es")
    html = client.get("/console/usage?weeks=0").text
    for table in re.findall(r"<table id=\"[^\"]+\">.*?</table>", html, re.S):
        for number in re.findall(r"<td>(\d+)</td>", table):
            assert int(number) >= THRESHOLD, table
    assert "welfare.jido_teate" not in html
    quality = re.search(r'<table id="quality">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "1to2s" in quality and "<td>7</td>" in quality  # 7 turns in one latency bucket: shown
    assert "&lt;5" in quality  # the one flagged turn: counted, not shown as 1


def test_batch_ids_are_per_device_and_count_once(tmp_path: Path) -> None:
    """On a server of its own (the module's server is shared by tests in any order)."""
    for server in running_app(tmp_path):
        tokens = {name: server.enroll(name, "c1") for name in ("north", "south")}
        body = {"batch_id": str(uuid.uuid4()), "rows": [usage_row("vi", count=5, day="2026-11-24")]}
        replies = []
        for site in ("north", "north", "south"):
            headers = {"Authorization": f"Bearer {tokens[site]}"}
            reply = server.client.post("/api/v1/usage", json=body, headers=headers)
            replies.append(reply.json()["duplicate"])
        assert replies == [False, True, False]  # a retry is a duplicate; another device's same id is not
        counted = {r["site"]: r["count"] for r in _totals(server, by_site=True) if r["kind"] == "turn"}
        assert counted == {"north": 5, "south": 5}  # south's batch counted although north used its id
