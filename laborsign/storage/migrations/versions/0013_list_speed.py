"""lists at a million contracts: awaiting flags on contracts, list and search indexes

Revision ID: 0013_list_speed
Revises: 0011
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_list_speed"
down_revision = "0011"
branch_labels = None
depends_on = ("0005",)  # contracts and employees

_PATTERN = "text_pattern_ops"

# (name, table, columns, columns searched by prefix)
_INDEXES: tuple[tuple[str, str, list[str], tuple[str, ...]], ...] = (
    ("ix_contracts_enterprise_created", "contracts", ["enterprise_id", "created_at", "id"], ()),
    (
        "ix_contracts_awaiting_enterprise",
        "contracts",
        ["enterprise_id", "awaiting_enterprise", "created_at", "id"],
        (),
    ),
    (
        "ix_contracts_awaiting_worker",
        "contracts",
        ["enterprise_id", "awaiting_worker", "awaiting_enterprise", "created_at", "id"],
        (),
    ),
    ("ix_contracts_enterprise_worker_name", "contracts", ["enterprise_id", "worker_name"], ("worker_name",)),
    (
        "ix_contracts_enterprise_worker_phone",
        "contracts",
        ["enterprise_id", "worker_phone"],
        ("worker_phone",),
    ),
    ("ix_contracts_enterprise_name", "contracts", ["enterprise_id", "name"], ("name",)),
    ("ix_contracts_enterprise_employee", "contracts", ["enterprise_id", "employee_id"], ()),
    ("ix_employees_enterprise_created", "employees", ["enterprise_id", "created_at", "id"], ()),
    ("ix_employees_enterprise_name", "employees", ["enterprise_id", "name"], ("name",)),
    ("ix_employees_enterprise_id_number_hash", "employees", ["enterprise_id", "id_number_hash"], ()),
)

# Rebuilt: the status index gains the id tie-break, the phone index can answer a prefix.
_REPLACED: tuple[tuple[str, str, list[str], list[str], tuple[str, ...]], ...] = (
    ("ix_contracts_enterprise_status", "contracts", ["enterprise_id", "status", "created_at"],
     ["enterprise_id", "status", "created_at", "id"], ()),
    ("ix_employees_enterprise_phone", "employees", ["enterprise_id", "phone"], ["enterprise_id", "phone"], ("phone",)),
)  # fmt: skip


def _create(name: str, table: str, columns: list[str], patterns: tuple[str, ...]) -> None:
    op.create_index(name, table, columns, postgresql_ops={c: _PATTERN for c in patterns})


def upgrade() -> None:
    # SQLite adds a NOT NULL column with a default in place (no table copy), PostgreSQL too.
    for column in ("awaiting_worker", "awaiting_enterprise"):
        op.add_column("contracts", sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()))
    for role in ("worker", "enterprise"):
        op.execute(
            f"UPDATE contracts SET awaiting_{role} = TRUE WHERE status = 'signing' AND EXISTS ("
            "SELECT 1 FROM contract_parties p WHERE p.contract_id = contracts.id"
            f" AND p.role = '{role}' AND p.status = 'pending')"
        )
    for name, table, _, columns, patterns in _REPLACED:
        op.drop_index(name, table_name=table)
        _create(name, table, columns, patterns)
    for name, table, columns, searched in _INDEXES:
        _create(name, table, columns, searched)
    _count_indexes()
    _fast_compression()


# The views' predicates as the repository writes them (storage/contracts.py _view_filter).
_COUNTED = {
    "awaiting_me": ("awaiting_enterprise = {t}",),
    "awaiting_others": ("awaiting_worker = {t} AND awaiting_enterprise = {f}",),
    "completed": ("status = 'completed'",),
}


def _count_indexes() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    t, f = ("true", "false") if postgres else ("1", "0")
    op.create_index("ix_contracts_enterprise", "contracts", ["enterprise_id"])
    for view, (predicate,) in _COUNTED.items():
        where = sa.text(predicate.format(t=t, f=f))
        op.create_index(f"ix_contracts_count_{view}", "contracts", ["enterprise_id"],
                        postgresql_where=where, sqlite_where=where)  # fmt: skip


def _fast_compression() -> None:
    """A contract row carries its controls and values (several KB of JSON, compressed on every
    write): lz4 costs a fraction of pglz's CPU, where the server has it (PostgreSQL 14+)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    offered = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    )
    if "lz4" not in (offered.scalar() or []):
        return
    for column in ("controls", "values", "files", "enterprise_party"):
        op.execute(f'ALTER TABLE contracts ALTER COLUMN "{column}" SET COMPRESSION lz4')


def downgrade() -> None:
    for view in _COUNTED:
        op.drop_index(f"ix_contracts_count_{view}", table_name="contracts")
    op.drop_index("ix_contracts_enterprise", table_name="contracts")
    for name, table, _, _ in _INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, columns, _, _ in _REPLACED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("awaiting_enterprise")
        batch.drop_column("awaiting_worker")
