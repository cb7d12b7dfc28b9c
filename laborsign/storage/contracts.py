"""Contracts persistence: contracts, parties, the audit chain, seals, signing sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.contracts import Contract, ContractEvent, Party
from ..core.signing import Seal, SigningSession
from .schema import Id, JSONList, UTCDateTime, mapper_registry, metadata

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
    Column("controls", JSONList(), nullable=False),
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
    Index("ix_contracts_enterprise_status", "enterprise_id", "status", "created_at"),
    Index("ix_contracts_worker", "worker_phone", "status"),
    Index("ix_contracts_document_sha256", "document_sha256"),
    Index("ix_contracts_deadline", "status", "sign_deadline"),
    # The lists' order: pages (and exports) walk the index instead of sorting every row.
    Index("ix_contracts_enterprise_created", "enterprise_id", "created_at", "id"),
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
    mapper_registry.map_imperatively(Contract, contracts)
    mapper_registry.map_imperatively(Party, parties)
    mapper_registry.map_imperatively(ContractEvent, events)
    mapper_registry.map_imperatively(Seal, seals)
    mapper_registry.map_imperatively(SigningSession, signing_sessions)


VIEWS = ("all", "awaiting_me", "awaiting_others", "completed")


def _pending(role: str) -> Any:
    return exists().where(
        parties.c.contract_id == contracts.c.id, parties.c.role == role, parties.c.status == "pending"
    )


def _view_filter(view: str, me: str) -> Any:
    """`me` is the party role of the viewer: awaiting me = signing and my turn (my party pending,
    and not waiting for the other to sign first); awaiting others = signing, someone else
    pending and not my turn."""
    other = "worker" if me == "enterprise" else "enterprise"
    signing = contracts.c.status == "signing"
    # My turn: my part pending, and the other party is not the one to sign first while theirs is.
    my_turn = and_(_pending(me), or_(contracts.c.signing_order != f"{other}_first", ~_pending(other)))
    if view == "awaiting_me":
        return and_(signing, my_turn)
    if view == "awaiting_others":
        return and_(signing, _pending(other), ~my_turn)
    if view == "completed":
        return contracts.c.status == "completed"
    return None


class ContractRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

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
    ) -> tuple[list[Contract], int]:
        me = "enterprise" if enterprise_id else "worker"
        if enterprise_id:
            where = contracts.c.enterprise_id == enterprise_id
        else:
            where = and_(contracts.c.worker_phone == worker_phone, contracts.c.status != "draft")
        view_filter = _view_filter(view, me)
        if view_filter is not None:
            where = and_(where, view_filter)
        if status:
            where = and_(where, contracts.c.status == status)
        if q:
            like = f"%{q}%"
            where = and_(where, or_(contracts.c.name.like(like), contracts.c.worker_name.like(like)))
        total = (await self.s.execute(select(func.count()).select_from(contracts).where(where))).scalar_one()
        stmt = select(Contract).where(where).order_by(contracts.c.created_at.desc(), contracts.c.id.desc())
        rows = (await self.s.execute(stmt.offset(offset).limit(limit))).scalars()
        return list(rows), int(total)

    async def counts(
        self, *, enterprise_id: str | None = None, worker_phone: str | None = None
    ) -> dict[str, int]:
        out = {}
        for view in VIEWS:
            _, total = await self.page(
                enterprise_id=enterprise_id,
                worker_phone=worker_phone,
                view=view,
                q=None,
                status=None,
                offset=0,
                limit=0,
            )
            out[view] = total
        return out

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

    async def bump_version(self, contract: Contract, expected: int) -> bool:
        """Optimistic lock: only one concurrent signer of a contract gets through."""
        with self.s.no_autoflush:
            result = await self.s.execute(
                update(contracts)
                .where(contracts.c.id == contract.id, contracts.c.version == expected)
                .values(version=expected + 1)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def claim_session(self, session_id: str, now: datetime, until: datetime, take_over: bool) -> bool:
        """pending → confirming, once: a double confirmation signs nothing twice. With
        `take_over`, a session left confirming by a process whose lease ran out (it died) is
        claimed instead. Either way the claimer holds the lease until `until`."""
        if take_over:
            claimable = and_(
                signing_sessions.c.status == "confirming",
                or_(signing_sessions.c.applying_until.is_(None), signing_sessions.c.applying_until <= now),
            )
        else:
            claimable = signing_sessions.c.status == "pending"
        with self.s.no_autoflush:
            result = await self.s.execute(
                update(signing_sessions)
                .where(signing_sessions.c.id == session_id, claimable)
                .values(status="confirming", applying_until=until)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def extend_lease(self, session_id: str, until: datetime) -> None:
        with self.s.no_autoflush:
            await self.s.execute(
                update(signing_sessions)
                .where(signing_sessions.c.id == session_id, signing_sessions.c.status == "confirming")
                .values(applying_until=until)
                .execution_options(synchronize_session=False)
            )

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
