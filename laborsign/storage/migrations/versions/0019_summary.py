"""The home page's numbers: an employee's contracts by status, terms by end date

Revision ID: 0019_summary
Revises: 0018_notices
Create Date: 2026-12-02 04:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0019_summary"
down_revision = "0018_notices"
branch_labels = None
depends_on = ("0016_labor_law",)  # contract_terms


def upgrade() -> None:
    op.create_index("ix_contracts_employee_status", "contracts", ["employee_id", "status"], unique=False)
    op.create_index("ix_contract_terms_end_date", "contract_terms", ["end_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_contract_terms_end_date", table_name="contract_terms")
    op.drop_index("ix_contracts_employee_status", table_name="contracts")
