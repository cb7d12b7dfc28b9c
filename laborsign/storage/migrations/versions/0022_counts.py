"""Per-tenant counters, employees' coverage, the list's launch/completion day indexes

Revision ID: 0022_counts
Revises: 0021_export_jobs, 0021_versions
Create Date: 2026-12-03 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_counts"
down_revision = ("0021_export_jobs", "0021_versions")
branch_labels = None
depends_on = ("0013_list_speed", "0017_work_centre")  # the awaiting flags, signing_order


def upgrade() -> None:
    op.create_table(
        "tenant_counts",
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_tenant_counts_enterprise_id_enterprises"
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "name", name="pk_tenant_counts"),
    )
    op.add_column("employees", sa.Column("covered_until", sa.Date(), nullable=True))
    op.create_index(
        "ix_employees_coverage", "employees", ["enterprise_id", "status", "covered_until", "hire_date"]
    )
    op.create_index("ix_contracts_enterprise_launched", "contracts", ["enterprise_id", "launched_at"])
    op.create_index("ix_contracts_enterprise_completed", "contracts", ["enterprise_id", "completed_at"])
    # Counters and coverage of the rows already there, from the rows themselves.
    from laborsign.storage.counters import recount_statements

    bind = op.get_bind()
    for stmt in recount_statements(None):
        bind.execute(stmt)


def downgrade() -> None:
    op.drop_index("ix_contracts_enterprise_completed", table_name="contracts")
    op.drop_index("ix_contracts_enterprise_launched", table_name="contracts")
    op.drop_index("ix_employees_coverage", table_name="employees")
    with op.batch_alter_table("employees") as batch:
        batch.drop_column("covered_until")
    op.drop_table("tenant_counts")
