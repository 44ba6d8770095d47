"""Packs pushed to one site from the console: a release may be held back from every site and offered
only to the sites IT pushes it to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: every release stored so far stays offered to every site
    op.add_column(
        "pack_releases", sa.Column("all_sites", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_table(
        "site_pack_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(100), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_site_pack_offers_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_site_pack_offers"),
        sa.UniqueConstraint("site_id", "pack_id", name="uq_site_pack_offers_site_pack"),
    )
    op.create_index("ix_site_pack_offers_site_id", "site_pack_offers", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_site_pack_offers_site_id", table_name="site_pack_offers")
    op.drop_table("site_pack_offers")
    with op.batch_alter_table("pack_releases") as batch:
        batch.drop_column("all_sites")
