"""Real-name verification persistence. Sensitive columns hold ciphertext (`*_enc`), a keyed
hash for lookups (`*_index`) and a masked copy for display; never the plaintext."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.verification import EnterpriseVerification, PersonIdentity, PersonVerification
from .accounts import users
from .schema import Id, UTCDateTime, mapper_registry, metadata

person_verifications = Table(
    "person_verifications",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False),
    Column("method", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("name", String(50), nullable=False),
    Column("id_type", String(20), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("id_number_index", String(64), nullable=False, index=True),
    Column("id_number_masked", String(40), nullable=False),
    Column("phone", String(20)),
    Column("phone_enc", Text),
    Column("bank_card_enc", Text),
    Column("bank_card_masked", String(40)),
    Column("provider", String(20), nullable=False, default=""),
    Column("provider_ref", String(128), unique=True),
    Column("redirect_url", Text),
    Column("face_result_enc", Text),
    Column("reason", String(200)),
    Column("consent_version", String(20), nullable=False),
    Column("consent_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime()),
    Index("ix_person_verifications_user_created", "user_id", "created_at"),
)

person_identities = Table(
    "person_identities",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False, unique=True),
    Column("name", String(50), nullable=False),
    Column("id_type", String(20), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("id_number_index", String(64), nullable=False, index=True),
    Column("id_number_masked", String(40), nullable=False),
    Column("method", String(20), nullable=False),
    Column("verification_id", Id(), ForeignKey("person_verifications.id"), nullable=False),
    Column("verified_at", UTCDateTime(), nullable=False),
)

enterprise_verifications = Table(
    "enterprise_verifications",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("method", String(30)),
    Column("info_confirmed_by", Id(), ForeignKey("users.id"), nullable=False),
    Column("operator_user_id", Id(), ForeignKey("users.id")),
    Column("legal_rep_name", String(50)),
    Column("legal_rep_id_enc", Text),
    Column("legal_rep_id_index", String(64)),
    Column("legal_rep_id_masked", String(40)),
    Column("legal_rep_phone", String(20)),
    Column("bank_name", String(60)),
    Column("bank_account_enc", Text),
    Column("bank_account_masked", String(40)),
    Column("account_name", String(100)),
    Column("amount_enc", Text),
    Column("paid_by", Id(), ForeignKey("users.id")),
    Column("paid_at", UTCDateTime()),
    Column("wrong_tries", Integer, nullable=False, default=0),
    Column("letter_blob", String(64), index=True),
    Column("letter_filename", String(100)),
    Column("letter_type", String(40)),
    Column("reviewer_id", Id(), ForeignKey("users.id")),
    Column("reviewed_at", UTCDateTime()),
    Column("provider", String(20), nullable=False, default=""),
    Column("provider_ref", String(128), unique=True),
    Column("redirect_url", Text),
    Column("reason", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Index("ix_enterprise_verifications_enterprise_created", "enterprise_id", "created_at"),
    Index("ix_enterprise_verifications_method_status", "method", "status"),
)


def map_verification() -> None:
    mapper_registry.map_imperatively(PersonVerification, person_verifications)
    mapper_registry.map_imperatively(PersonIdentity, person_identities)
    mapper_registry.map_imperatively(EnterpriseVerification, enterprise_verifications)


class VerificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def lock_user(self, user_id: str) -> None:
        """Serialises a person's attempts: a row lock on PostgreSQL, the write lock on SQLite."""
        await self.s.execute(update(users).where(users.c.id == user_id).values(id=users.c.id))

    async def latest_person(self, user_id: str) -> PersonVerification | None:
        stmt = (
            select(PersonVerification)
            .where(person_verifications.c.user_id == user_id)
            .order_by(person_verifications.c.created_at.desc(), person_verifications.c.id.desc())
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def person_by_ref(self, ref: str) -> PersonVerification | None:
        stmt = select(PersonVerification).where(person_verifications.c.provider_ref == ref)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def bankcard_attempts_since(self, user_id: str, id_index: str, since: datetime) -> list[datetime]:
        """Bank-card checks by this user or with this ID document (per person, either way)."""
        c = person_verifications.c
        stmt = select(c.created_at).where(
            c.method == "bankcard4",
            c.created_at >= since,
            or_(c.user_id == user_id, c.id_number_index == id_index),
        )
        return [t for (t,) in await self.s.execute(stmt)]

    async def identity_of(self, user_id: str) -> PersonIdentity | None:
        stmt = select(PersonIdentity).where(person_identities.c.user_id == user_id)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def identities_by_index(self, index: str) -> list[PersonIdentity]:
        stmt = select(PersonIdentity).where(person_identities.c.id_number_index == index)
        return list((await self.s.execute(stmt)).scalars())

    async def latest_enterprise(self, enterprise_id: str) -> EnterpriseVerification | None:
        c = enterprise_verifications.c
        stmt = (
            select(EnterpriseVerification)
            .where(c.enterprise_id == enterprise_id)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def enterprise_by_ref(self, ref: str) -> EnterpriseVerification | None:
        stmt = select(EnterpriseVerification).where(enterprise_verifications.c.provider_ref == ref)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def letters_page(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[EnterpriseVerification], int]:
        c = enterprise_verifications.c
        where = [c.method == "authorization_letter"]
        if status:
            where.append(c.status == status)
        total = (
            await self.s.execute(select(func.count()).select_from(enterprise_verifications).where(*where))
        ).scalar_one()
        stmt = (
            select(EnterpriseVerification)
            .where(*where)
            .order_by(c.created_at.desc(), c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars()), int(total)

    async def payments_of(self, enterprise_id: str) -> list[EnterpriseVerification]:
        c = enterprise_verifications.c
        stmt = (
            select(EnterpriseVerification)
            .where(c.enterprise_id == enterprise_id, c.method == "corporate_payment")
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return list((await self.s.execute(stmt)).scalars())

    async def manual_payments_page(
        self, paid: bool | None, offset: int, limit: int
    ) -> tuple[list[EnterpriseVerification], int]:
        """Corporate payments a platform reviewer makes (provider manual): still to pay
        (`paid=False`, only attempts still waiting), already paid, or all."""
        c = enterprise_verifications.c
        where = and_(c.method == "corporate_payment", c.provider == "manual")
        if paid is False:
            where = and_(where, c.paid_at.is_(None), c.status == "pending")
        elif paid is True:
            where = and_(where, c.paid_at.is_not(None))
        total = (
            await self.s.execute(select(func.count()).select_from(enterprise_verifications).where(where))
        ).scalar_one()
        stmt = (
            select(EnterpriseVerification)
            .where(where)
            .order_by(c.created_at.desc(), c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars()), int(total)
