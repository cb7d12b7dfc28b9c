"""hardening: abuse budgets, one-time keys (replayed callbacks, used captchas), the lease of
a signing session being applied, SMS codes redacted in the outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = ("0007",)  # alters signing_sessions, created on the 0005 → 0007 branch


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("full_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_budgets")),
    )
    op.create_index("ix_budgets_full_at", "budgets", ["full_at"], unique=False)
    op.create_table(
        "seen_once",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_seen_once")),
    )
    op.create_index("ix_seen_once_until", "seen_once", ["until"], unique=False)
    with op.batch_alter_table("signing_sessions") as batch:
        batch.add_column(
            sa.Column("applying_until", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("redacted_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("redacted_at")
    with op.batch_alter_table("signing_sessions") as batch:
        batch.drop_column("applying_until")
    op.drop_index("ix_seen_once_until", table_name="seen_once")
    op.drop_table("seen_once")
    op.drop_index("ix_budgets_full_at", table_name="budgets")
    op.drop_table("budgets")
