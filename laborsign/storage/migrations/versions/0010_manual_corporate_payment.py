"""enterprise verifications: a corporate payment made by a platform reviewer (provider manual)

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = ("0002",)  # enterprise_verifications lives on that branch


def upgrade() -> None:
    with op.batch_alter_table("enterprise_verifications") as batch:
        batch.add_column(sa.Column("paid_by", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("paid_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            batch.f("fk_enterprise_verifications_paid_by_users"), "users", ["paid_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise_verifications") as batch:
        batch.drop_constraint(batch.f("fk_enterprise_verifications_paid_by_users"), type_="foreignkey")
        batch.drop_column("paid_at")
        batch.drop_column("paid_by")
