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
    # plain ADD COLUMN (no table copy): other tables reference devices, and SQLite adds a column in place
    op.add_column("devices", sa.Column("packs", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("devices", sa.Column("languages", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("devices", "languages")
    op.drop_column("devices", "packs")
