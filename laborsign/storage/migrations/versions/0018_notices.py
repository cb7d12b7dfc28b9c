"""HR notices, their read marks and the members' notice settings

Revision ID: 0018_notices
Revises: 0012_integrations
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0018_notices"
down_revision = "0012_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contract_id", sa.String(length=32), nullable=True),
        sa.Column("employee_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("event_id", name=op.f("uq_notices_event_id")),
    )
    op.create_index("ix_notices_enterprise_created", "notices", ["enterprise_id", "created_at"], unique=False)
    op.create_table(
        "notice_reads",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("read_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notice_reads_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_reads_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("member_id", "notice_id", name="pk_notice_reads"),
    )
    op.create_table(
        "notice_prefs",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("notify_by_sms", sa.Boolean(), nullable=False),
        sa.Column("read_until", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notice_prefs_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_notice_prefs")),
    )


def downgrade() -> None:
    op.drop_table("notice_prefs")
    op.drop_table("notice_reads")
    op.drop_index("ix_notices_enterprise_created", table_name="notices")
    op.drop_table("notices")
