"""Migration 0003 folds stored per-device, per-day counts into week × site cells; pack releases stored
before 0005 stay offered to every site (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from server.core.db import make_engine
from server.core.migrate import alembic_config

_OLD_COUNTS = [
    # device, day, source, target, direction, kind, key, count
    (1, "2026-11-24", "ja", "vi", "to_resident", "turn", "", 3),
    (2, "2026-11-26", "vi", "ja", "to_staff", "turn", "", 4),
    (1, "2026-11-30", "ja", "vi", "to_resident", "turn", "", 2),
    (1, "2026-11-24", "ja", "ne", "to_resident", "term", "welfare.jido_teate", 2),
    (2, "2026-11-25", "ja", "vi", "to_resident", "term", "welfare.jido_teate", 1),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_folds_old_counts(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(f"m_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name, created_at) VALUES (1, 'east', :now)"), {"now": now})
        for device in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO devices (id, site_id, name, token_hash, created_at, pack_ids) "
                    "VALUES (:id, 1, :name, :hash, :now, '[]')"
                ),
                {"id": device, "name": f"c{device}", "hash": f"{device:064d}", "now": now},
            )
        for i, (device, day, source, target, direction, kind, key, count) in enumerate(_OLD_COUNTS):
            conn.execute(
                text(
                    "INSERT INTO usage_counts (id, site_id, device_id, day, source, target, direction, "
                    "kind, key, count) "
                    "VALUES (:id, 1, :device, :day, :source, :target, :direction, :kind, :key, :n)"
                ),
                {
                    "id": i + 1, "device": device, "day": dt.date.fromisoformat(day), "source": source,
                    "target": target, "direction": direction, "kind": kind, "key": key, "n": count,
                },
            )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO usage_batches (batch_id, device_id, received_at, row_count) "
                "VALUES ('b-1', 1, :now, 3)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO pack_releases (id, pack_id, version, kind, languages, size_bytes, manifest, "
                "signature, uploaded_at, uploaded_by) "
                "VALUES (1, 'openjtalk-mei', '1.0', 'tts', '[\"ja\"]', 862503, '{}', '{}', :now, 'cli')"
            ),
            {"now": now},
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        turns = sorted(
            (str(w), lang, int(n))
            for w, lang, n in conn.execute(text("SELECT week, language, turns FROM usage_turns"))
        )
        items = sorted(
            (str(w), kind, key, int(n))
            for w, kind, key, n in conn.execute(text("SELECT week, kind, key, count FROM usage_items"))
        )
        batches = conn.execute(text("SELECT device_id, batch_id FROM usage_device_batches")).all()
        kinds = conn.execute(text("SELECT DISTINCT kind FROM admin_sessions")).all()
        releases = conn.execute(text("SELECT pack_id, version, all_sites FROM pack_releases")).all()
    with engine.begin() as conn:  # the downgrade restores the old shape, and upgrading again works
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
        command.upgrade(config, "head")
    with engine.connect() as conn:
        again = conn.execute(text("SELECT pack_id, version, all_sites FROM pack_releases")).all()
    engine.dispose()
    assert turns == [("2026-11-23", "vi", 7), ("2026-11-30", "vi", 2)]
    assert items == [("2026-11-23", "term", "welfare.jido_teate", 3)]
    assert [tuple(b) for b in batches] == [(1, "b-1")]
    assert kinds == []
    assert [tuple(r) for r in releases] == [("openjtalk-mei", "1.0", True)]  # still offered to every site
    assert [tuple(r) for r in again] == [("openjtalk-mei", "1.0", True)]
