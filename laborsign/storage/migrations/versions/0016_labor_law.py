"""labor-law assistant: contract terms as data, deadline alerts told once

Revision ID: 0016_labor_law
Revises: 0011
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0016_labor_law"
down_revision = "0011"
branch_labels = None
depends_on = ("0005",)  # contracts and employees


def upgrade() -> None:
    op.create_table(
        "contract_terms",
        sa.Column("contract_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("probation_end_date", sa.Date(), nullable=True),
        sa.Column("monthly_wage", sa.String(length=24), nullable=True),
        sa.Column("probation_wage", sa.String(length=24), nullable=True),
        sa.Column("position", sa.String(length=100), nullable=True),
        sa.Column("work_place", sa.String(length=200), nullable=True),
        sa.Column("renewal_of", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_terms_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_contract_terms")),
    )
    op.create_index("ix_contract_terms_renewal_of", "contract_terms", ["renewal_of"], unique=False)
    op.create_table(
        "labor_alert_notices",
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("notified_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_labor_alert_notices_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "alert_key", name=op.f("pk_labor_alert_notices")),
    )
    op.create_index(
        "ix_labor_alert_notices_notified_at", "labor_alert_notices", ["notified_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_labor_alert_notices_notified_at", table_name="labor_alert_notices")
    op.drop_table("labor_alert_notices")
    op.drop_index("ix_contract_terms_renewal_of", table_name="contract_terms")
    op.drop_table("contract_terms")
