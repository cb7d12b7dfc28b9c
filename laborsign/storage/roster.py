"""Roster and onboarding persistence: departments, employees, invite links, invitations,
onboarding records; and the worker directory contracts read from."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import column_property

from ..core.contracts import WorkerCard
from ..core.onboarding import OnboardingRecord
from ..core.paging import Cursor, Total
from ..core.roster import Department, Employee, Invitation, JoinLink, RosterRow
from .accounts import users
from .paging import bounded_count, keyset_page, phone_terms, prefix
from .schema import Id, JSONList, UTCDateTime, mapper_registry, metadata

departments = Table(
    "departments",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False, index=True),
    Column("parent_id", Id(), ForeignKey("departments.id")),
    Column("name", String(50), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

employees = Table(
    "employees",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("user_id", Id(), ForeignKey("users.id")),
    Column("name", String(50), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("gender", String(10)),
    Column("id_type", String(20)),
    Column("id_number_enc", Text),
    Column("id_number_hash", String(64)),
    Column("id_number_masked", String(30)),
    Column("birth_date", Date),
    Column("address", String(100)),
    Column("emergency_contact", JSON, nullable=False),
    Column("department_id", Id(), ForeignKey("departments.id")),
    Column("position", String(50)),
    Column("hire_date", Date),
    Column("status", String(20), nullable=False),
    Column("resign_reason", String(200)),
    Column("resign_remark", String(200)),
    Column("handover_to", String(50)),
    Column("resigned_at", UTCDateTime()),
    Column("onboarding_id", Id()),
    Column("created_at", UTCDateTime(), nullable=False),
    # The last day a signed labor contract covers the employee (NULL: none ever signed), kept
    # by the storage session (storage/counters.py) and never mapped onto the domain object.
    Column("covered_until", Date),
    Index("ix_employees_coverage", "enterprise_id", "status", "covered_until", "hire_date"),
    Index("ix_employees_enterprise_status", "enterprise_id", "status", "created_at"),
    Index("ix_employees_enterprise_created", "enterprise_id", "created_at", "id"),
    # Searches: name and phone prefixes, and the whole ID number by its blind index.
    Index(
        "ix_employees_enterprise_phone",
        "enterprise_id",
        "phone",
        postgresql_ops={"phone": "text_pattern_ops"},
    ),
    Index(
        "ix_employees_enterprise_name", "enterprise_id", "name", postgresql_ops={"name": "text_pattern_ops"}
    ),
    Index("ix_employees_enterprise_id_number_hash", "enterprise_id", "id_number_hash"),
)

join_links = Table(
    "join_links",
    metadata,
    Column("id", Id(), primary_key=True),
    # One link per enterprise: concurrent first requests cannot mint two different links.
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False, index=True, unique=True),
    Column("token", String(40), nullable=False, unique=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("token", String(40), nullable=False),
    Column("department_id", Id(), ForeignKey("departments.id")),
    Column("batch", String(40)),
    Column("status", String(20), nullable=False),
    Column("created_by", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_invitations_enterprise_phone", "enterprise_id", "phone"),
)

onboarding_records = Table(
    "onboarding_records",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("gender", String(10), nullable=False),
    Column("id_type", String(20), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("id_number_hash", String(64), nullable=False),
    Column("id_number_masked", String(30), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("address", String(100), nullable=False),
    Column("emergency_contact", JSON, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reject_reason", String(200)),
    Column("reviewed_by", Id()),
    Column("reviewed_at", UTCDateTime()),
    Column("employee_id", Id()),
    Column("corrections", JSONList(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_onboarding_enterprise_status", "enterprise_id", "status", "created_at"),
)


def map_roster() -> None:
    mapper_registry.map_imperatively(Department, departments)
    mapper_registry.map_imperatively(
        Employee, employees, exclude_properties=["covered_until"],
        properties={"status": column_property(employees.c.status, active_history=True)},
    )  # fmt: skip
    mapper_registry.map_imperatively(JoinLink, join_links)
    mapper_registry.map_imperatively(Invitation, invitations)
    mapper_registry.map_imperatively(OnboardingRecord, onboarding_records)


DayRange = tuple[date | None, date | None]


def _days(hired: DayRange, left: DayRange) -> list[Any]:
    from .contracts import beijing_midnight

    out: list[Any] = []
    if hired[0]:
        out.append(employees.c.hire_date >= hired[0])
    if hired[1]:
        out.append(employees.c.hire_date <= hired[1])
    # Leaving is an instant (the confirmation); its day is the Beijing day it fell on.
    if left[0]:
        out.append(employees.c.resigned_at >= beijing_midnight(left[0]))
    if left[1]:
        out.append(employees.c.resigned_at < beijing_midnight(left[1] + timedelta(days=1)))
    return out


class RosterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def lock_user(self, user_id: str) -> None:
        """Serialises one person's submissions (a double tap, H5 and chat at once): a row lock
        on PostgreSQL, the write lock on SQLite, held until the transaction ends."""
        await self.s.execute(update(users).where(users.c.id == user_id).values(id=users.c.id))

    async def lock_record(self, record_id: str) -> None:
        """Serialises decisions on one onboarding record (approve, reject, correct) across
        processes and hosts: a row lock on PostgreSQL, the write lock on SQLite."""
        await self.s.execute(
            update(onboarding_records)
            .where(onboarding_records.c.id == record_id)
            .values(id=onboarding_records.c.id)
            .execution_options(synchronize_session=False)
        )

    async def departments_of(self, enterprise_id: str) -> list[Department]:
        stmt = (
            select(Department)
            .where(departments.c.enterprise_id == enterprise_id)
            .order_by(departments.c.created_at)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def department_in_use(self, department_id: str) -> bool:
        child = select(departments.c.id).where(departments.c.parent_id == department_id).limit(1)
        staff = (
            select(employees.c.id)
            .where(employees.c.department_id == department_id, employees.c.status != "resigned")
            .limit(1)
        )
        return (await self.s.execute(child)).first() is not None or (
            await self.s.execute(staff)
        ).first() is not None

    def _listed(
        self, enterprise_id: str, status: str | None, department_ids: list[str] | None, q: str | None,
        id_number_hash: str | None, hired: DayRange, left: DayRange,
    ) -> Any:  # fmt: skip
        where = and_(employees.c.enterprise_id == enterprise_id, *_days(hired, left))
        if status:
            where = and_(where, employees.c.status == status)
        if department_ids is not None:
            where = and_(where, employees.c.department_id.in_(department_ids))
        if q:
            # Digits are a phone, its last four or an ID number, never the start of a name.
            names = [] if q.isdigit() else [prefix(self.s, employees.c.name, q)]
            terms = [*names, *phone_terms(self.s, employees.c.phone, q)]
            if id_number_hash:
                terms.append(employees.c.id_number_hash == id_number_hash)
            where = and_(where, or_(*terms))
        return where

    async def roster_rows(
        self, enterprise_id: str, *, status: str | None, department_ids: list[str] | None, q: str | None,
        id_number_hash: str | None, hired: DayRange, left: DayRange,
        after: tuple[datetime, str] | None, limit: int,
    ) -> list[RosterRow]:  # fmt: skip
        """A keyset page (newest first, after `after`) of the roster list's people as its export
        needs them: only the export's columns, no count, no ORM objects."""
        where = self._listed(enterprise_id, status, department_ids, q, id_number_hash, hired, left)
        if after is not None:
            key = tuple_(
                literal(after[0], employees.c.created_at.type), literal(after[1], employees.c.id.type)
            )
            where = and_(where, tuple_(employees.c.created_at, employees.c.id) < key)
        columns = [employees.c[name] for name in RosterRow._fields]
        stmt = (
            select(*columns)
            .where(where)
            .order_by(employees.c.created_at.desc(), employees.c.id.desc())
            .limit(limit)
        )
        return [RosterRow(*row) for row in (await self.s.execute(stmt)).all()]

    async def employees_page(
        self, enterprise_id: str, *, status: str | None, department_ids: list[str] | None, q: str | None,
        offset: int, limit: int, cursor: Cursor | None = None, id_number_hash: str | None = None,
        hired: DayRange = (None, None), left: DayRange = (None, None), count_bound: int | None = None,
    ) -> tuple[list[Employee], Total, bool]:  # fmt: skip
        """`q` matches the start of the name or phone; `id_number_hash`, the whole ID number;
        `hired` and `left` are ranges of Beijing days, both ends included. The total of the
        roster or one status is its counter; of anything narrower, counted up to
        `count_bound` + 1 matches (None: all)."""
        from . import counters

        where = self._listed(enterprise_id, status, department_ids, q, id_number_hash, hired, left)
        if q or department_ids is not None or any((*hired, *left)):
            total = await bounded_count(self.s, employees, where, count_bound)
        else:
            name = counters.employee_status(status) if status else counters.EMPLOYEES
            total = Total((await counters.read(self.s, enterprise_id, [name]))[name])
        rows, more = await keyset_page(self.s, Employee, employees, where, cursor, offset, limit)
        return rows, total, more

    async def employee_ids_by_id_number(self, enterprise_id: str, id_number_hash: str) -> list[str]:
        stmt = select(employees.c.id).where(
            employees.c.enterprise_id == enterprise_id, employees.c.id_number_hash == id_number_hash
        )
        return [r[0] for r in (await self.s.execute(stmt)).all()]

    async def current_employee_by_phone(self, enterprise_id: str, phone: str) -> Employee | None:
        stmt = select(Employee).where(
            employees.c.enterprise_id == enterprise_id,
            employees.c.phone == phone,
            employees.c.status != "resigned",
        )
        return (await self.s.execute(stmt.limit(1))).scalar_one_or_none()

    async def current_phones(self, enterprise_id: str) -> set[str]:
        """Phones already on the roster or invited and not yet onboarded."""
        on_roster = select(employees.c.phone).where(
            employees.c.enterprise_id == enterprise_id, employees.c.status != "resigned"
        )
        invited = select(invitations.c.phone).where(
            invitations.c.enterprise_id == enterprise_id, invitations.c.status == "sent"
        )
        rows = (await self.s.execute(on_roster.union(invited))).all()
        return {r[0] for r in rows}

    async def join_link(self, enterprise_id: str) -> JoinLink | None:
        stmt = (
            select(JoinLink)
            .where(join_links.c.enterprise_id == enterprise_id)
            .order_by(join_links.c.created_at.desc())
        )
        for link in (await self.s.execute(stmt)).scalars():
            if link.active:
                return link
        return None

    async def join_link_by_token(self, token: str) -> JoinLink | None:
        stmt = select(JoinLink).where(join_links.c.token == token)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def invitation_by_token(self, token: str) -> Invitation | None:
        stmt = select(Invitation).where(invitations.c.token == token).limit(1)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def open_invitations(self, enterprise_id: str, phone: str) -> list[Invitation]:
        stmt = select(Invitation).where(
            invitations.c.enterprise_id == enterprise_id,
            invitations.c.phone == phone,
            invitations.c.status == "sent",
        )
        return list((await self.s.execute(stmt)).scalars())

    async def has_invited(self, enterprise_id: str) -> bool:
        """Whether the enterprise has invited anyone (an SMS invitation sent, or an onboarding
        record in through its link or QR code)."""
        for table in (invitations, onboarding_records):
            stmt = select(table.c.id).where(table.c.enterprise_id == enterprise_id).limit(1)
            if (await self.s.execute(stmt)).first() is not None:
                return True
        return False

    async def add_invitations(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert in one statement (10,000 invites must not take one round trip each)."""
        if rows:
            await self.s.execute(invitations.insert(), rows)

    async def records_page(
        self, enterprise_id: str | None, user_id: str | None, status: str | None, offset: int, limit: int
    ) -> tuple[list[OnboardingRecord], int]:
        # One enterprise's records, one person's, or (both given) one person's for one enterprise.
        conditions = []
        if enterprise_id:
            conditions.append(onboarding_records.c.enterprise_id == enterprise_id)
        if user_id or not enterprise_id:
            conditions.append(onboarding_records.c.user_id == user_id)
        where = and_(*conditions)
        if status:
            where = and_(where, onboarding_records.c.status == status)
        total = (
            await self.s.execute(select(func.count()).select_from(onboarding_records).where(where))
        ).scalar_one()
        stmt = select(OnboardingRecord).where(where).order_by(onboarding_records.c.created_at.desc())
        return list((await self.s.execute(stmt.offset(offset).limit(limit))).scalars()), int(total)

    async def pending_record(self, enterprise_id: str, user_id: str) -> OnboardingRecord | None:
        stmt = select(OnboardingRecord).where(
            onboarding_records.c.enterprise_id == enterprise_id,
            onboarding_records.c.user_id == user_id,
            onboarding_records.c.status == "pending_review",
        )
        return (await self.s.execute(stmt.limit(1))).scalar_one_or_none()

    async def cards(self, deps: Any, enterprise_id: str, ids: list[str]) -> dict[str, WorkerCard]:
        """What contracts need about the given employees (ID number decrypted in memory)."""
        if not ids:
            return {}
        stmt = select(Employee).where(employees.c.enterprise_id == enterprise_id, employees.c.id.in_(ids))
        found = list((await self.s.execute(stmt)).scalars())
        names = {d.id: d.name for d in await self.departments_of(enterprise_id)}
        out = {}
        for e in found:
            number = deps.cipher.decrypt(e.id_number_enc, "employees.id_number") if e.id_number_enc else None
            out[e.id] = WorkerCard(
                employee_id=e.id, name=e.name, phone=e.phone, active=e.status == "active", user_id=e.user_id,
                id_type=e.id_type, id_number=number, birth_date=e.birth_date, gender=e.gender,
                department=names.get(e.department_id or ""), address=e.address, position=e.position,
            )  # fmt: skip
        return out
