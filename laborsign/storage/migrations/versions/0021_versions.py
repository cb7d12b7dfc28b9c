"""Signing sessions and review cards carry a version (the one optimistic-locking style)

Revision ID: 0021_versions
Revises: 0020_polish
Create Date: 2026-12-02 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_versions"
down_revision = "0020_polish"
branch_labels = None
depends_on = None

TABLES = ("signing_sessions", "chat_review_cards")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
