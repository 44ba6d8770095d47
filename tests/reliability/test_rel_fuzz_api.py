"""Fuzzing the device API: hypothesis-made usage and heartbeat payloads get 2xx or 4xx, never 5xx,
and whatever is accepted holds no free text (only closed vocabularies and id-shaped strings).

The app runs in-process on a real SQLite database (Starlette's TestClient).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.core.config import ServerSettings
from server.main import create_app

LANG = re.compile(r"[a-z]{2,3}(-[a-z]{2,8})?")
ITEM = re.compile(r"[a-z][a-z0-9_]*\.[a-z0-9_]+")
CODE = re.compile(r"[A-Za-z0-9_.:+\-]{1,80}")
KINDS = ("turn", "term", "term_fallback", "phrase", "duration", "langid_mismatch", "flagged")
BUCKETS = ("lt1s", "1to2s", "2to3s", "3to5s", "5to10s", "ge10s")
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    home = tmp_path_factory.mktemp("fuzz-server")
    app = create_app(
        ServerSettings(
            home=home,
            database_url=f"sqlite:///{home / 'server.db'}",
            admin_user="admin",
            admin_password="fuzz-admin-pass",
            password_time_cost=1,
            password_memory_kib=8192,
            publish_bundled_glossary=False,
            device_requests_per_minute=0,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.post(
            "/api/v1/admin/devices", json={"site": "fuzz", "device": "c1"}, auth=("admin", "fuzz-admin-pass")
        )
        yield client, {"Authorization": f"Bearer {reply.json()['token']}"}


def _post(device: tuple[TestClient, dict[str, str]], path: str, raw: bytes) -> Any:
    """POST ``raw`` as the enrolled device's JSON body (whatever it holds)."""
    client, headers = device
    return client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=40),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _or_junk(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly valid values, sometimes anything (free text, numbers, nested JSON, look-alikes)."""
    lookalike = valid.map(lambda v: f"{v}\n" if isinstance(v, str) else v)
    junk = st.one_of(lookalike, json_value, st.text(min_size=1, max_size=60))
    return _mostly(valid, junk, 24)


def _mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int) -> st.SearchStrategy[Any]:
    """``usual`` about ``odds`` times as often as ``rare``."""
    return st.sampled_from(range(odds + 1)).flatmap(lambda n: rare if n == 0 else usual)


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)).map(dt.date.isoformat)
langs = st.sampled_from(["ja", "vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es", "ja-easy"])
items = st.from_regex(ITEM, fullmatch=True).filter(lambda s: len(s) <= 96)
valid_kind_key = st.sampled_from(KINDS).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.just("")
        if kind in ("turn", "langid_mismatch", "flagged")
        else st.sampled_from(BUCKETS)
        if kind == "duration"
        else items,
    )
)
kind_keys = _mostly(
    valid_kind_key,
    st.tuples(
        _or_junk(st.sampled_from(KINDS)), _or_junk(st.one_of(st.just(""), st.sampled_from(BUCKETS), items))
    ),
    8,
)
row_fields = st.tuples(
    st.fixed_dictionaries(
        {
            "day": _or_junk(days),
            "source": _or_junk(langs),
            "target": _or_junk(langs),
            "direction": _or_junk(st.sampled_from(["to_resident", "to_staff"])),
            "count": _or_junk(st.integers(min_value=1, max_value=1000)),
        }
    ),
    kind_keys,
).map(lambda t: {**t[0], "kind": t[1][0], "key": t[1][1]})
smuggled = st.dictionaries(
    st.sampled_from(["text", "site", "note", "device"]), st.text(max_size=30), min_size=1
)
rows = _mostly(row_fields, st.tuples(row_fields, smuggled).map(lambda t: {**t[0], **t[1]}), 9)
batch_fields = st.fixed_dictionaries(
    {"batch_id": _or_junk(st.uuids().map(str)), "rows": st.lists(rows, min_size=1, max_size=4)}
)
batches = _mostly(
    batch_fields, st.one_of(st.tuples(batch_fields, smuggled).map(lambda t: {**t[0], **t[1]}), json_value), 8
)


def _accepted_row_is_closed(row: dict[str, Any]) -> None:
    """Every string the server accepted has a closed shape: no room for a resident's words."""
    assert set(row) <= {"day", "source", "target", "direction", "kind", "key", "count"}
    assert isinstance(row["day"], str) and dt.date.fromisoformat(row["day"])
    assert LANG.fullmatch(row["source"]) and LANG.fullmatch(row["target"])
    assert row["direction"] in ("to_resident", "to_staff") and row["kind"] in KINDS
    key = row.get("key", "")
    assert key == "" or key in BUCKETS or ITEM.fullmatch(key)
    assert isinstance(row["count"], int) and not isinstance(row["count"], bool)


@SETTINGS
@given(body=batches)
def test_usage_payloads_never_5xx_and_accept_no_free_text(
    device: tuple[TestClient, dict[str, str]], body: Any
) -> None:
    reply = _post(device, "/api/v1/usage", json.dumps(body, allow_nan=True).encode())
    assert reply.status_code < 500, reply.text
    event(f"HTTP {reply.status_code}")
    if reply.status_code == 200:
        assert isinstance(body, dict) and set(body) == {"batch_id", "rows"}
        uuid.UUID(str(body["batch_id"]))
        for row in body["rows"]:
            _accepted_row_is_closed(row)


heartbeats = st.one_of(
    st.fixed_dictionaries(
        {"app_version": _or_junk(st.from_regex(CODE, fullmatch=True))},
        optional={
            "glossary_version": _or_junk(st.from_regex(CODE, fullmatch=True)),
            "glossary_number": _or_junk(st.integers(min_value=0, max_value=2**40)),
            "pack_ids": _or_junk(st.lists(st.from_regex(CODE, fullmatch=True), max_size=3)),
            "free_disk_bytes": _or_junk(st.integers(min_value=0, max_value=2**70)),
            "last_error_code": _or_junk(st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True)),
            "message": st.text(max_size=30),
        },
    ),
    json_value,
)


@SETTINGS
@given(body=heartbeats)
def test_heartbeat_payloads_never_5xx_and_accept_no_free_text(
    device: tuple[TestClient, dict[str, str]], body: Any
) -> None:
    reply = _post(device, "/api/v1/heartbeat", json.dumps(body, allow_nan=True).encode())
    assert reply.status_code < 500, reply.text
    if reply.status_code == 200:
        assert isinstance(body, dict) and "message" not in body
        for name in ("app_version", "glossary_version"):
            assert body.get(name) is None or CODE.fullmatch(body[name])
        assert all(CODE.fullmatch(p) for p in body.get("pack_ids", []))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"\xff\xfe\x00",
        b"null",
        b"[]",
        b'{"batch_id": NaN}',
        b"1e999999",
        b'"' + b"a" * 10_000 + b'"',
    ],
)
def test_unparseable_bodies_are_4xx(device: tuple[TestClient, dict[str, str]], raw: bytes) -> None:
    for path in ("/api/v1/usage", "/api/v1/heartbeat"):
        reply = _post(device, path, raw)
        assert 400 <= reply.status_code < 500, (path, raw[:20], reply.status_code)


def test_fuzzed_batches_left_only_well_formed_counts(
    device: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    """What the fuzzing got in is readable by the admin API (nothing half-stored or unreadable)."""
    client, _ = device
    reply = client.get("/api/v1/admin/usage/totals", auth=("admin", "fuzz-admin-pass"))
    assert reply.status_code == 200
    for row in reply.json()["data"]:
        assert row["kind"] in KINDS and (
            row["key"] in ("", "other") or row["key"] in BUCKETS or ITEM.fullmatch(row["key"])
        )
        assert row["count"] is None or row["count"] >= 5
