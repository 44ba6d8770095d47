"""What each device reports about its packs: kind, languages, licence (for the console's packs page),
and its enabled counter languages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("packs", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("languages", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("languages")
        batch.drop_column("packs")
