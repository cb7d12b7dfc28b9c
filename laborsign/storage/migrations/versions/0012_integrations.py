"""integrator webhooks: endpoints and the attempts of their deliveries

Revision ID: 0012_integrations
Revises: 0011
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import laborsign.storage.schema

revision = "0012_integrations"
down_revision = "0011"  # 0011_shared_storage.py
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", laborsign.storage.schema.JSONList(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("created_at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_webhook_endpoints_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_enterprise_id"), "webhook_endpoints", ["enterprise_id"], unique=False
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("at", laborsign.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_webhook_attempts_endpoint_id"), "webhook_attempts", ["endpoint_id"], unique=False
    )
    op.create_index(
        "ix_webhook_attempts_delivery_at", "webhook_attempts", ["delivery_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_delivery_at", table_name="webhook_attempts")
    op.drop_index(op.f("ix_webhook_attempts_endpoint_id"), table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index(op.f("ix_webhook_endpoints_enterprise_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
