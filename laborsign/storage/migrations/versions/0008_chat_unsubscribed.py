"""chat identities: who no longer follows the app

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_identities") as batch:
        batch.add_column(
            sa.Column("unsubscribed_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_identities") as batch:
        batch.drop_column("unsubscribed_at")
