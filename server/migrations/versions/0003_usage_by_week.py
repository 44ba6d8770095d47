"""Usage kept only as the dashboard shows it; batch ids per device; admin API tokens.

- ``usage_counts`` (device × day × pair × direction × kind × key) is folded into ``usage_turns``
  (site × ISO week × resident language) and ``usage_items`` (site × ISO week × kind × key), then
  dropped: the server no longer holds per-device, per-day counts.
- ``usage_batches`` (batch id unique across the fleet) becomes ``usage_device_batches`` keyed by
  (device, batch id), without the per-batch row count.
- ``admin_sessions`` gets a ``kind``: ``console`` (cookie + CSRF) or ``api`` (bearer token).

The downgrade restores the old tables' shape, empty: the detail folded away cannot come back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _create_usage_tables() -> tuple[sa.Table, sa.Table]:
    turns = op.create_table(
        "usage_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("turns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_turns"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_usage_turns_site_id_sites"),
        sa.UniqueConstraint("site_id", "week", "language", name="uq_usage_turns_cell"),
    )
    op.create_index("ix_usage_turns_site_id", "usage_turns", ["site_id"])
    op.create_index("ix_usage_turns_week", "usage_turns", ["week"])
    items = op.create_table(
        "usage_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_items"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_usage_items_site_id_sites"),
        sa.UniqueConstraint("site_id", "week", "kind", "key", name="uq_usage_items_cell"),
    )
    op.create_index("ix_usage_items_site_id", "usage_items", ["site_id"])
    op.create_index("ix_usage_items_week", "usage_items", ["week"])
    assert turns is not None and items is not None
    return turns, items


def _fold_old_counts(turns: sa.Table, items: sa.Table) -> None:
    old = sa.table(
        "usage_counts",
        sa.column("site_id", sa.Integer()),
        sa.column("day", sa.Date()),
        sa.column("source", sa.String()),
        sa.column("target", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("key", sa.String()),
        sa.column("count", sa.BigInteger()),
    )
    bind = op.get_bind()
    turn_cells: Counter[tuple[int, dt.date, str]] = Counter()
    item_cells: Counter[tuple[int, dt.date, str, str]] = Counter()
    query = sa.select(
        old.c.site_id, old.c.day, old.c.source, old.c.target, old.c.kind, old.c.key, old.c.count
    )
    for site, day, source, target, kind, key, count in bind.execute(query):
        if isinstance(day, str):  # SQLite without type information returns text
            day = dt.date.fromisoformat(day)
        if kind == "turn":
            turn_cells[(site, _week(day), target if source == "ja" else source)] += int(count)
        else:
            item_cells[(site, _week(day), kind, key or "")] += int(count)
    if turn_cells:
        op.bulk_insert(
            turns,
            [
                {"site_id": s, "week": w, "language": lang, "turns": n}
                for (s, w, lang), n in turn_cells.items()
            ],
        )
    if item_cells:
        op.bulk_insert(
            items,
            [
                {"site_id": s, "week": w, "kind": k, "key": key, "count": n}
                for (s, w, k, key), n in item_cells.items()
            ],
        )


def upgrade() -> None:
    turns, items = _create_usage_tables()
    _fold_old_counts(turns, items)
    op.drop_index("ix_usage_counts_site_id", table_name="usage_counts")
    op.drop_index("ix_usage_counts_day", table_name="usage_counts")
    op.drop_table("usage_counts")

    op.create_table(
        "usage_device_batches",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "batch_id", name="pk_usage_device_batches"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_usage_device_batches_device_id_devices"
        ),
    )
    op.execute(
        "INSERT INTO usage_device_batches (device_id, batch_id, received_at) "
        "SELECT device_id, batch_id, received_at FROM usage_batches"
    )
    op.drop_table("usage_batches")

    with op.batch_alter_table("admin_sessions") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="console"))


def downgrade() -> None:
    with op.batch_alter_table("admin_sessions") as batch:
        batch.drop_column("kind")
    op.create_table(
        "usage_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_usage_batches"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_usage_batches_device_id_devices"),
    )
    op.drop_table("usage_device_batches")
    op.create_table(
        "usage_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("target", sa.String(8), nullable=False),
        sa.Column("direction", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_counts"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_usage_counts_site_id_sites"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_usage_counts_device_id_devices"),
        sa.UniqueConstraint(
            "device_id", "day", "source", "target", "direction", "kind", "key", name="uq_usage_counts_cell"
        ),
    )
    op.create_index("ix_usage_counts_site_id", "usage_counts", ["site_id"])
    op.create_index("ix_usage_counts_day", "usage_counts", ["day"])
    for table in ("usage_items", "usage_turns"):
        op.drop_index(f"ix_{table}_week", table_name=table)
        op.drop_index(f"ix_{table}_site_id", table_name=table)
        op.drop_table(table)
