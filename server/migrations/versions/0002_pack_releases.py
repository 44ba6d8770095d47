"""Model pack releases the server distributes to devices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pack_releases"),
        sa.UniqueConstraint("pack_id", "version", name="uq_pack_releases_pack_version"),
    )
    op.create_index("ix_pack_releases_pack_id", "pack_releases", ["pack_id"])


def downgrade() -> None:
    op.drop_index("ix_pack_releases_pack_id", table_name="pack_releases")
    op.drop_table("pack_releases")
