"""Initial schema: sites, devices, glossary versions, usage, admins, console sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("name", name="uq_sites_name"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("last_seen_at", _TS, nullable=True),
        sa.Column("app_version", sa.String(40), nullable=True),
        sa.Column("glossary_version", sa.String(80), nullable=True),
        sa.Column("glossary_number", sa.Integer(), nullable=True),
        sa.Column("pack_ids", sa.Text(), nullable=False),
        sa.Column("free_disk_bytes", sa.BigInteger(), nullable=True),
        sa.Column("last_error_code", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_devices_site_id_sites"),
        sa.UniqueConstraint("token_hash", name="uq_devices_token_hash"),
        sa.UniqueConstraint("site_id", "name", name="uq_devices_site_name"),
    )
    op.create_table(
        "glossary_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(80), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("published_at", sa.String(32), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("term_count", sa.Integer(), nullable=False),
        sa.Column("phrase_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_glossary_versions"),
        sa.UniqueConstraint("number", name="uq_glossary_versions_number"),
        sa.UniqueConstraint("version", name="uq_glossary_versions_version"),
    )
    op.create_table(
        "usage_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_usage_batches"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_usage_batches_device_id_devices"),
    )
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
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("username", name="uq_admins_username"),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_sessions"),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], name="fk_admin_sessions_admin_id_admins"),
        sa.UniqueConstraint("token_hash", name="uq_admin_sessions_token_hash"),
    )
    op.create_table(
        "pending_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_uploads"),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], name="fk_pending_uploads_admin_id_admins"),
    )


def downgrade() -> None:
    for table in ("pending_uploads", "admin_sessions", "admins", "usage_counts", "usage_batches"):
        op.drop_table(table)
    op.drop_table("glossary_versions")
    op.drop_table("devices")
    op.drop_table("sites")
