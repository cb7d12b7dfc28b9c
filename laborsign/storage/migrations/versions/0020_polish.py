"""Templates shipped with the platform have no creator

Revision ID: 0020_polish
Revises: 0019_summary
Create Date: 2026-12-02 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_polish"
down_revision = "0019_summary"
branch_labels = None
depends_on = ("0004",)  # the templates table


def upgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.alter_column("created_by", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.alter_column("created_by", existing_type=sa.String(length=32), nullable=False)
