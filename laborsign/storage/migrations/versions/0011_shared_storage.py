"""several hosts: platform values (the shared CA), pending uploads, blob reference indexes

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = ("0002", "0007")  # the tables indexed below; the lead relinks the chain

# (table, column) pairs the orphan sweeper looks blob keys up in.
_REFERENCES = (
    ("contract_events", "document_sha256"),
    ("seals", "blob"),
    ("signing_sessions", "signature_blob"),
    ("saved_signatures", "blob"),
    ("enterprise_verifications", "letter_blob"),
)


def upgrade() -> None:
    op.create_table(
        "platform_values",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_values")),
    )
    op.create_table(
        "blob_uploads",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("touched_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_blob_uploads")),
    )
    op.create_index("ix_blob_uploads_touched_at", "blob_uploads", ["touched_at"], unique=False)
    for table, column in _REFERENCES:
        with op.batch_alter_table(table) as batch:
            batch.create_index(batch.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in _REFERENCES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_{column}"))
    op.drop_index("ix_blob_uploads_touched_at", table_name="blob_uploads")
    op.drop_table("blob_uploads")
    op.drop_table("platform_values")
