"""Contracts persistence: contracts, parties, the audit chain, seals, signing sessions."""

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
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import column_property

from ..core.clock import CHINA_TZ
from ..core.contracts import Contract, ContractEvent, ContractFilters, Party
from ..core.exports import LedgerRecord
from ..core.paging import Cursor, Total
from ..core.signing import Seal, SigningSession
from .paging import bounded_count, keyset_page, phone_terms, prefix
from .schema import ControlList, Id, JSONList, UTCDateTime, mapper_registry, metadata, versioned

contracts = Table(
    "contracts",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("batch_id", Id(), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("employee_id", Id(), nullable=False),
    Column("worker_user_id", Id(), ForeignKey("users.id")),
    Column("worker_name", String(50), nullable=False),
    Column("worker_phone", String(20), nullable=False),
    Column("created_by", Id(), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("source", String(20), nullable=False),
    Column("document_blob", String(64), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("original_blob", String(64), nullable=False),
    Column("original_sha256", String(64), nullable=False, index=True),
    Column("files", JSONList(), nullable=False),
    Column("controls", ControlList(), nullable=False),
    Column("values", JSON, nullable=False),
    Column("enterprise_party", JSON, nullable=False),
    Column("template_ids", JSONList(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("launched_at", UTCDateTime()),
    Column("last_reminded_at", UTCDateTime()),
    Column("sign_deadline", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("ended_reason", String(200)),
    Column("reinitiated_from", Id()),
    Column("version", Integer, nullable=False, default=0),
    Column("signing_order", String(20), nullable=False, default="parallel", server_default="parallel"),
    Column("awaiting_worker", Boolean, nullable=False, default=False, server_default=false()),
    Column("awaiting_enterprise", Boolean, nullable=False, default=False, server_default=false()),
    Column("fixed_term_end", Date),
    # Each list view of a tenant is one range of one index, newest first (read backwards).
    Index("ix_contracts_enterprise_created", "enterprise_id", "created_at", "id"),
    Index("ix_contracts_enterprise_status", "enterprise_id", "status", "created_at", "id"),
    Index("ix_contracts_awaiting_enterprise", "enterprise_id", "awaiting_enterprise", "created_at", "id"),
    Index(
        "ix_contracts_awaiting_worker",
        "enterprise_id",
        "awaiting_worker",
        "awaiting_enterprise",
        "created_at",
        "id",
    ),
    # Searches: prefixes of names and phones, and the employee (found by ID-number blind index).
    *(
        Index(
            f"ix_contracts_enterprise_{col}", "enterprise_id", col, postgresql_ops={col: "text_pattern_ops"}
        )
        for col in ("worker_name", "worker_phone", "name")
    ),
    Index("ix_contracts_enterprise_employee", "enterprise_id", "employee_id"),
    Index("ix_contracts_worker", "worker_phone", "status"),
    Index("ix_contracts_document_sha256", "document_sha256"),
    Index("ix_contracts_deadline", "status", "sign_deadline"),
    Index("ix_contracts_employee_status", "employee_id", "status"),  # the home page's per-employee checks
    # The list's launch and completion day ranges.
    Index("ix_contracts_enterprise_launched", "enterprise_id", "launched_at"),
    Index("ix_contracts_enterprise_completed", "enterprise_id", "completed_at"),
)

parties = Table(
    "contract_parties",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("contract_id", Id(), ForeignKey("contracts.id"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("user_id", Id()),
    Column("signed_at", UTCDateTime()),
    Column("verification_method", String(20)),
    Column("decline_reason", String(200)),
    UniqueConstraint("contract_id", "role", name="uq_contract_parties_contract_role"),
)

events = Table(
    "contract_events",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("contract_id", Id(), ForeignKey("contracts.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_type", String(20), nullable=False),
    Column("actor_id", Id()),
    Column("actor_name", String(100), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("user_agent", String(300), nullable=False),
    Column("method", String(20)),
    # Indexed for the orphan sweeper: every committed version of a document is named here.
    Column("document_sha256", String(64), nullable=False, index=True),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # One event per position in the chain: two writers racing for the same seq cannot both win.
    UniqueConstraint("contract_id", "seq", name="uq_contract_events_contract_seq"),
)

seals = Table(
    "seals",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("source", String(20), nullable=False),
    Column("blob", String(64), nullable=False, index=True),
    Column("created_by", Id(), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

signing_sessions = Table(
    "signing_sessions",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("party_role", String(20), nullable=False),
    Column("enterprise_id", Id()),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("contract_ids", JSONList(), nullable=False),
    Column("seal_id", Id()),
    Column("signature_blob", String(64), index=True),
    Column("fields", JSON, nullable=False),
    Column("intent_method", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("result", JSON, nullable=False),
    Column("ip", String(64), nullable=False),
    Column("user_agent", String(300), nullable=False),
    Column("intent_status", String(20), nullable=False, server_default="code_sent"),
    Column("intent_ref", String(128), index=True),
    Column("intent_url", Text),
    Column("intent_reason", String(200), nullable=False, server_default=""),
    Column("intent_result_enc", Text),
    Column("intent_at", UTCDateTime()),
    Column("applying_until", UTCDateTime()),  # lease of the process applying its signatures
    Column("version", Integer, nullable=False, server_default="1"),
)

saved_signatures = Table(
    "saved_signatures",
    metadata,
    Column("user_id", Id(), ForeignKey("users.id"), primary_key=True),
    Column("blob", String(64), nullable=False, index=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("note", Text),
)


def map_contracts() -> None:
    # The counted columns load their old value when set, so a flush knows what it moved
    # (storage/counters.py) even for a row whose attributes were expired.
    counted = {
        name: column_property(contracts.c[name], active_history=True)
        for name in ("status", "awaiting_worker", "awaiting_enterprise")
    }
    mapper_registry.map_imperatively(
        Contract, contracts, properties=counted, **versioned(contracts, first=0)
    )
    mapper_registry.map_imperatively(Party, parties)
    mapper_registry.map_imperatively(ContractEvent, events)
    mapper_registry.map_imperatively(Seal, seals)
    mapper_registry.map_imperatively(SigningSession, signing_sessions, **versioned(signing_sessions))


VIEWS = ("all", "awaiting_me", "awaiting_others", "completed")


def _view_filter(view: str, me: str) -> Any:
    """`me` is the party role of the viewer: awaiting me = signing, my party pending and my turn
    (signing_order); awaiting others = someone else awaited and not me. The contract's own
    flags say so (kept by its transitions)."""
    mine, other = (
        (contracts.c.awaiting_enterprise, contracts.c.awaiting_worker)
        if me == "enterprise"
        else (contracts.c.awaiting_worker, contracts.c.awaiting_enterprise)
    )
    if view == "awaiting_me":
        return mine == true()
    if view == "awaiting_others":
        return and_(other == true(), mine == false())
    if view == "completed":
        return contracts.c.status == "completed"
    return None


def beijing_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def _narrowed(f: ContractFilters) -> list[Any]:
    """ContractFilters as conditions on contracts (days are Beijing days, both ends included)."""
    from .labor import contract_terms
    from .roster import employees

    out: list[Any] = []
    if f.department_ids is not None:
        staff = select(employees.c.id).where(employees.c.department_id.in_(f.department_ids))
        out.append(contracts.c.employee_id.in_(staff))
    if f.template_id:
        out.append(cast(contracts.c.template_ids, String).contains(f'"{f.template_id}"'))
    for column, (first, last) in (
        (contracts.c.launched_at, f.launched),
        (contracts.c.completed_at, f.completed),
    ):
        if first:
            out.append(column >= beijing_midnight(first))
        if last:
            out.append(column < beijing_midnight(last + timedelta(days=1)))
    first, last = f.term_end
    if first or last:
        ends = select(contract_terms.c.contract_id).where(
            contract_terms.c.end_date >= first if first else true(),
            contract_terms.c.end_date <= last if last else true(),
        )
        out.append(contracts.c.id.in_(ends))
    return out


# Counting a tenant's view reads a one-column index of just that view: PostgreSQL stores its
# equal entries deduplicated, so a count of 100,000 reads a few pages instead of 100,000 keys.
Index("ix_contracts_enterprise", contracts.c.enterprise_id)
for _view in ("awaiting_me", "awaiting_others", "completed"):
    _where = _view_filter(_view, "enterprise")
    Index(
        f"ix_contracts_count_{_view}", contracts.c.enterprise_id, postgresql_where=_where, sqlite_where=_where
    )
# A tenant's signed labor contracts by the day their fixed term ends (the home page's expiries):
# only completed ones are in it, so the range holds just the rows counted, and on PostgreSQL
# it carries the keys the count joins on (an index-only scan: 43 -> 9 ms at 1M contracts).
SIGNED_LABOR = and_(contracts.c.status == "completed", contracts.c.source != "certificate")
Index(
    "ix_contracts_fixed_term_end", contracts.c.enterprise_id, contracts.c.fixed_term_end,
    postgresql_where=SIGNED_LABOR, sqlite_where=SIGNED_LABOR, postgresql_include=["id", "employee_id"],
)  # fmt: skip


class ContractRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    def _owner(self, enterprise_id: str | None, worker_phone: str | None) -> Any:
        if enterprise_id:
            return contracts.c.enterprise_id == enterprise_id
        return and_(contracts.c.worker_phone == worker_phone, contracts.c.status != "draft")

    def _search(self, q: str, employee_ids: list[str]) -> Any:
        """Prefix of the worker's name, the contract's name or the phone (or its last four
        digits); or the employees whose whole ID number was given. All digits: only the phone
        and the ID number."""
        # Digits are a phone, its last four or an ID number: no name starts with them, and
        # looking would read the tenant's name indexes for nothing.
        names = [] if q.isdigit() else [prefix(self.s, contracts.c.worker_name, q), prefix(self.s, contracts.c.name, q)]
        terms = [*names, *phone_terms(self.s, contracts.c.worker_phone, q)]
        if employee_ids:
            terms.append(contracts.c.employee_id.in_(employee_ids))
        return or_(*terms)

    def _listed(
        self, enterprise_id: str | None, worker_phone: str | None, view: str, q: str | None,
        status: str | None, employee_ids: list[str] | None, filters: ContractFilters | None,
    ) -> Any:  # fmt: skip
        me = "enterprise" if enterprise_id else "worker"
        where = self._owner(enterprise_id, worker_phone)
        view_filter = _view_filter(view, me)
        if view_filter is not None:
            where = and_(where, view_filter)
        if status:
            where = and_(where, contracts.c.status == status)
        if q:
            where = and_(where, self._search(q, employee_ids or []))
        if filters is not None:
            where = and_(where, *_narrowed(filters))
        return where

    async def ledger(
        self, *, enterprise_id: str, view: str, q: str | None, status: str | None,
        employee_ids: list[str] | None, filters: ContractFilters | None,
        after: tuple[datetime, str] | None, limit: int,
    ) -> list[LedgerRecord]:  # fmt: skip
        """A keyset page (newest first, after `after`) of the list's contracts as the exports
        need them: only the ledger's columns, both signing times and the worker's ID in the same
        statement, no ORM objects built."""
        from .roster import employees

        where = self._listed(enterprise_id, None, view, q, status, employee_ids, filters)
        if after is not None:
            key = tuple_(
                literal(after[0], contracts.c.created_at.type), literal(after[1], contracts.c.id.type)
            )
            where = and_(where, tuple_(contracts.c.created_at, contracts.c.id) < key)

        def signed(role: str) -> Any:
            return (
                select(parties.c.signed_at)
                .where(parties.c.contract_id == contracts.c.id, parties.c.role == role)
                .limit(1)
                .scalar_subquery()
            )

        columns = [
            contracts.c.id, contracts.c.created_at, contracts.c.name, contracts.c.worker_name,
            contracts.c["values"], contracts.c.enterprise_party, contracts.c.template_ids,
            contracts.c.status, contracts.c.document_sha256, signed("worker"), signed("enterprise"),
            employees.c.id_type, employees.c.id_number_enc,
        ]  # fmt: skip
        stmt = (
            select(*columns)
            .select_from(contracts)
            .outerjoin(employees, employees.c.id == contracts.c.employee_id)
            .where(where)
            .order_by(contracts.c.created_at.desc(), contracts.c.id.desc())
            .limit(limit)
        )
        return [LedgerRecord(*row) for row in (await self.s.execute(stmt)).all()]

    async def page(
        self,
        *,
        enterprise_id: str | None = None,
        worker_phone: str | None = None,
        view: str,
        q: str | None,
        status: str | None,
        offset: int,
        limit: int,
        cursor: Cursor | None = None,
        employee_ids: list[str] | None = None,
        filters: ContractFilters | None = None,
        count_bound: int | None = None,
    ) -> tuple[list[Contract], Total, bool]:
        """The page, the total of the view (and search), and whether rows follow the page.
        A tenant's view (and status) alone is counted by its counter; anything narrower is
        counted up to `count_bound` + 1 matches (None: all)."""
        where = self._listed(enterprise_id, worker_phone, view, q, status, employee_ids, filters)
        counted = None
        if enterprise_id and not q and not (filters is not None and _narrowed(filters)):
            counted = await self._counted(enterprise_id, view, status)
        total = Total(counted) if counted is not None else await bounded_count(self.s, contracts, where, count_bound)
        rows, more = await keyset_page(self.s, Contract, contracts, where, cursor, offset, limit)
        return rows, total, more

    async def _counted(self, enterprise_id: str, view: str, status: str | None) -> int | None:
        """The tenant's counter of a view narrowed to a status, or None without one."""
        from . import counters

        if view == "all":
            name = counters.contract_status(status) if status else counters.CONTRACTS
        else:
            # Only a signing contract is awaited; completed is a status of its own.
            known = {
                "completed": (counters.contract_status("completed"), "completed"),
                "awaiting_me": (counters.AWAITING_ME, "signing"),
                "awaiting_others": (counters.AWAITING_OTHERS, "signing"),
            }.get(view)
            if known is None:
                return None
            name, only = known
            if status and status != only:
                return 0
        return (await counters.read(self.s, enterprise_id, [name]))[name]

    async def counts(
        self, *, enterprise_id: str | None = None, worker_phone: str | None = None
    ) -> dict[str, int]:
        """The four views' totals in one statement: a tenant's from its counters, a worker's
        each counted from its own index."""
        if enterprise_id:
            from . import counters

            names = {
                "all": counters.CONTRACTS, "awaiting_me": counters.AWAITING_ME,
                "awaiting_others": counters.AWAITING_OTHERS, "completed": counters.contract_status("completed"),
            }  # fmt: skip
            found = await counters.read(self.s, enterprise_id, list(names.values()))
            return {view: found[names[view]] for view in VIEWS}
        me = "worker"
        owner = self._owner(enterprise_id, worker_phone)
        columns = []
        for view in VIEWS:
            view_filter = _view_filter(view, me)
            where = owner if view_filter is None else and_(owner, view_filter)
            columns.append(
                select(func.count()).select_from(contracts).where(where).scalar_subquery().label(view)
            )
        row = (await self.s.execute(select(*columns))).one()
        return {view: int(row[i]) for i, view in enumerate(VIEWS)}

    async def parties_of(self, contract_ids: list[str]) -> dict[str, list[Party]]:
        out: dict[str, list[Party]] = {cid: [] for cid in contract_ids}
        if not contract_ids:
            return out
        rows = (await self.s.execute(select(Party).where(parties.c.contract_id.in_(contract_ids)))).scalars()
        for p in rows:
            out[p.contract_id].append(p)
        for items in out.values():
            items.sort(key=lambda p: 0 if p.role == "worker" else 1)
        return out

    async def last_event(self, contract_id: str) -> ContractEvent | None:
        stmt = (
            select(ContractEvent)
            .where(events.c.contract_id == contract_id)
            .order_by(events.c.seq.desc())
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def events_of(self, contract_id: str) -> list[ContractEvent]:
        stmt = select(ContractEvent).where(events.c.contract_id == contract_id).order_by(events.c.seq)
        return list((await self.s.execute(stmt)).scalars())

    async def session_by_intent_ref(self, ref: str) -> SigningSession | None:
        stmt = select(SigningSession).where(signing_sessions.c.intent_ref == ref).limit(1)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def latest_session(self, user_id: str, intent_method: str) -> SigningSession | None:
        stmt = (
            select(SigningSession)
            .where(signing_sessions.c.user_id == user_id, signing_sessions.c.intent_method == intent_method)
            .order_by(signing_sessions.c.created_at.desc(), signing_sessions.c.id.desc())
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def sessions_to_resume(self, now: datetime, limit: int) -> list[SigningSession]:
        """Sessions a stopped process never finished: face-verified ones never applied (still
        pending, intent passed, not yet expired), and ones left half applied (confirming,
        their applier's lease run out — the intent was proven before it stopped)."""
        never_applied = and_(
            signing_sessions.c.status == "pending",
            signing_sessions.c.intent_status == "passed",
            signing_sessions.c.expires_at > now,
        )
        abandoned = and_(
            signing_sessions.c.status == "confirming",
            or_(signing_sessions.c.applying_until.is_(None), signing_sessions.c.applying_until <= now),
        )
        stmt = (
            select(SigningSession)
            .where(or_(never_applied, abandoned))
            .order_by(signing_sessions.c.created_at)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def by_sha256(self, sha256: str) -> Contract | None:
        stmt = (
            select(Contract)
            .where(or_(contracts.c.document_sha256 == sha256, contracts.c.original_sha256 == sha256))
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def due_to_expire(self, now: datetime, limit: int) -> list[Contract]:
        stmt = (
            select(Contract)
            .where(contracts.c.status == "signing", contracts.c.sign_deadline <= now)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars())

    async def seals_of(self, enterprise_id: str) -> list[Seal]:
        stmt = select(Seal).where(seals.c.enterprise_id == enterprise_id).order_by(seals.c.created_at)
        return list((await self.s.execute(stmt)).scalars())

    async def saved_signature(self, user_id: str) -> str | None:
        row = (
            await self.s.execute(select(saved_signatures.c.blob).where(saved_signatures.c.user_id == user_id))
        ).first()
        return row[0] if row else None

    async def forget_signature(self, user_id: str) -> bool:
        result = await self.s.execute(saved_signatures.delete().where(saved_signatures.c.user_id == user_id))
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def save_signature(self, user_id: str, blob: str, now: datetime) -> None:
        existing = await self.saved_signature(user_id)
        if existing is None:
            await self.s.execute(saved_signatures.insert().values(user_id=user_id, blob=blob, updated_at=now))
        else:
            await self.s.execute(
                update(saved_signatures)
                .where(saved_signatures.c.user_id == user_id)
                .values(blob=blob, updated_at=now)
            )
