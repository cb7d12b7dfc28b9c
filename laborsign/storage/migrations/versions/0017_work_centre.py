"""HR work centre: the signing order chosen at launch, the enterprise audit log (exports, members)
(the indexes in the lists' order come with 0013_list_speed)

Revision ID: 0017_work_centre
Revises: 0011
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0017_work_centre"
down_revision = "0011"
branch_labels = None
depends_on = ("0005",)  # contracts, employees


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(
            sa.Column("signing_order", sa.String(length=20), nullable=False, server_default="parallel")
        )
    op.create_table(
        "enterprise_events",
        sa.Column("id", laborsign.storage.schema.Id(), nullable=False),
        sa.Column("enterprise_id", laborsign.storage.schema.Id(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", laborsign.storage.schema.Id(), nullable=True),
        sa.Column("actor_name", sa.String(length=50), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_enterprise_events_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_events")),
    )
    op.create_index("ix_enterprise_events_enterprise_at", "enterprise_events", ["enterprise_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_enterprise_events_enterprise_at", table_name="enterprise_events")
    op.drop_table("enterprise_events")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("signing_order")
