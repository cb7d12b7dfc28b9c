"""Contracts carry the last day of their fixed term: a tenant's expiries are one index range

Revision ID: 0023_fixed_term_end
Revises: 0022_counts
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_fixed_term_end"
down_revision = "0022_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contracts", sa.Column("fixed_term_end", sa.Date(), nullable=True))
    op.execute(
        "UPDATE contracts SET fixed_term_end = (SELECT t.end_date FROM contract_terms AS t"
        " WHERE t.contract_id = contracts.id AND t.type = 'fixed')"
        " WHERE id IN (SELECT contract_id FROM contract_terms WHERE type = 'fixed' AND end_date IS NOT NULL)"
    )
    where = sa.text("status = 'completed' AND source != 'certificate'")
    # Only renewing terms in the renewal_of index (a full one of NULLs misled SQLite's planner).
    op.drop_index("ix_contract_terms_renewal_of", table_name="contract_terms")
    renews = sa.text("renewal_of IS NOT NULL")
    op.create_index("ix_contract_terms_renewal_of", "contract_terms", ["renewal_of"],
                    postgresql_where=renews, sqlite_where=renews)  # fmt: skip
    op.create_index("ix_contracts_fixed_term_end", "contracts", ["enterprise_id", "fixed_term_end"],
                    postgresql_where=where, sqlite_where=where, postgresql_include=["id", "employee_id"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_contract_terms_renewal_of", table_name="contract_terms")
    op.create_index("ix_contract_terms_renewal_of", "contract_terms", ["renewal_of"])
    op.drop_index("ix_contracts_fixed_term_end", table_name="contracts")
    op.drop_column("contracts", "fixed_term_end")
