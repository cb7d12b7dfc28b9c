"""signing sessions: intent verification by face

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-27 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_sessions") as batch:
        batch.add_column(
            sa.Column("intent_status", sa.String(length=20), server_default="code_sent", nullable=False)
        )
        batch.add_column(sa.Column("intent_ref", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("intent_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("intent_reason", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("intent_result_enc", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("intent_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index(batch.f("ix_signing_sessions_intent_ref"), ["intent_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signing_sessions") as batch:
        batch.drop_index(batch.f("ix_signing_sessions_intent_ref"))
        for name in (
            "intent_at",
            "intent_result_enc",
            "intent_reason",
            "intent_url",
            "intent_ref",
            "intent_status",
        ):
            batch.drop_column(name)
