"""Accounts persistence: users, enterprises, members, SMS codes, sessions, API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.accounts import (
    AgreementAcceptance,
    ApiKey,
    Enterprise,
    EnterpriseEvent,
    Member,
    Session,
    SmsCode,
    User,
)
from .schema import Id, JSONList, UTCDateTime, mapper_registry, metadata

users = Table(
    "users",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("phone", String(20), nullable=False, unique=True),
    Column("name", String(50)),
    Column("password_hash", String(200)),
    Column("verified", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime()),
    Column("platform_role", String(20)),
    Column("created_at", UTCDateTime(), nullable=False),
)

agreement_acceptances = Table(
    "agreement_acceptances",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False, index=True),
    Column("agreement", String(40), nullable=False),
    Column("version", String(20), nullable=False),
    Column("accepted_at", UTCDateTime(), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("user_agent", String(300), nullable=False, default=""),
)

enterprises = Table(
    "enterprises",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("org_type", String(30), nullable=False),
    Column("verification_status", String(20), nullable=False, default="unverified"),
    Column("created_at", UTCDateTime(), nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("role", String(20), nullable=False),
    Column("permissions", JSONList(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("enterprise_id", "user_id", name="uq_members_enterprise_user"),
)

sms_codes = Table(
    "sms_codes",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("phone", String(20), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("used_at", UTCDateTime()),
    Index("ix_sms_codes_phone_created", "phone", "created_at"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id(), ForeignKey("users.id"), nullable=False, index=True),
    Column("side", String(20), nullable=False),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id")),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("ip", String(64), nullable=False, default=""),
    Column("user_agent", String(300), nullable=False, default=""),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", Id(), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
)

enterprise_events = Table(
    "enterprise_events",
    metadata,
    Column("id", Id(), primary_key=True),
    Column("enterprise_id", Id(), ForeignKey("enterprises.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_id", Id()),
    Column("actor_name", String(50), nullable=False, default=""),
    Column("ip", String(64), nullable=False, default=""),
    Column("details", JSON, nullable=False),
    Index("ix_enterprise_events_enterprise_at", "enterprise_id", "at"),
)


def map_accounts() -> None:
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(AgreementAcceptance, agreement_acceptances)
    mapper_registry.map_imperatively(Enterprise, enterprises)
    mapper_registry.map_imperatively(Member, members)
    mapper_registry.map_imperatively(SmsCode, sms_codes)
    mapper_registry.map_imperatively(Session, sessions)
    mapper_registry.map_imperatively(ApiKey, api_keys)
    mapper_registry.map_imperatively(EnterpriseEvent, enterprise_events)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def user_by_phone(self, phone: str) -> User | None:
        return (await self.s.execute(select(User).where(users.c.phone == phone))).scalar_one_or_none()

    async def sms_sent_since(self, phone: str, since: datetime) -> list[datetime]:
        rows = await self.s.execute(
            select(sms_codes.c.created_at).where(sms_codes.c.phone == phone, sms_codes.c.created_at >= since)
        )
        return [r for (r,) in rows]

    async def last_sms(self, phone: str, purpose: str) -> SmsCode | None:
        stmt = (
            select(SmsCode)
            .where(sms_codes.c.phone == phone, sms_codes.c.purpose == purpose)
            .order_by(sms_codes.c.created_at.desc(), sms_codes.c.id.desc())
            .limit(1)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def lock_sms_code(self, code: SmsCode) -> bool:
        """Mark used only if still unused: two concurrent correct answers use the code once."""
        # No autoflush: the in-memory object already says "used"; the row must not yet.
        with self.s.no_autoflush:
            result = await self.s.execute(
                update(sms_codes)
                .where(sms_codes.c.id == code.id, sms_codes.c.used_at.is_(None))
                .values(used_at=code.used_at, attempts=code.attempts)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def session_by_token_hash(self, token_hash: str) -> Session | None:
        stmt = select(Session).where(sessions.c.token_hash == token_hash)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def enterprise_by_credit_code(self, credit_code: str) -> Enterprise | None:
        stmt = select(Enterprise).where(enterprises.c.credit_code == credit_code)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def memberships(self, user_id: str, active_only: bool = True) -> list[tuple[Member, Enterprise]]:
        stmt = (
            select(Member, Enterprise)
            .join(enterprises, enterprises.c.id == members.c.enterprise_id)
            .where(members.c.user_id == user_id)
            .order_by(members.c.created_at)
        )
        if active_only:
            stmt = stmt.where(members.c.status == "active")
        return [(m, e) for m, e in (await self.s.execute(stmt)).all()]

    async def member(self, enterprise_id: str, user_id: str) -> Member | None:
        stmt = select(Member).where(members.c.enterprise_id == enterprise_id, members.c.user_id == user_id)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def members_of(self, enterprise_id: str, offset: int, limit: int) -> tuple[list[Member], int]:
        where = (members.c.enterprise_id == enterprise_id) & (members.c.status != "removed")
        total = (await self.s.execute(select(func.count()).select_from(members).where(where))).scalar_one()
        stmt = select(Member).where(where).order_by(members.c.created_at).offset(offset).limit(limit)
        return list((await self.s.execute(stmt)).scalars()), int(total)

    async def active_admins(self, enterprise_id: str) -> int:
        stmt = select(func.count()).where(
            members.c.enterprise_id == enterprise_id, members.c.role == "admin", members.c.status == "active"
        )
        return int((await self.s.execute(stmt)).scalar_one())

    async def lock_members_of(self, enterprise_id: str) -> None:
        """Serialises admin edits of one enterprise, so two removals cannot leave no admin."""
        await self.s.execute(
            update(enterprises).where(enterprises.c.id == enterprise_id).values(name=enterprises.c.name)
        )

    async def last_logins(self, enterprise_id: str, user_ids: list[str]) -> dict[str, datetime]:
        """When each person last opened a session acting for the enterprise."""
        if not user_ids:
            return {}
        stmt = (
            select(sessions.c.user_id, func.max(sessions.c.created_at))
            .where(sessions.c.enterprise_id == enterprise_id, sessions.c.user_id.in_(user_ids))
            .group_by(sessions.c.user_id)
        )
        return {uid: at for uid, at in (await self.s.execute(stmt)).all()}

    async def leave_enterprise(self, user_id: str, enterprise_id: str) -> int:
        """Open sessions of the person stop acting for the enterprise; returns how many."""
        result = await self.s.execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.enterprise_id == enterprise_id)
            .values(enterprise_id=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def enterprise_events(
        self, enterprise_id: str, offset: int, limit: int
    ) -> tuple[list[EnterpriseEvent], int]:
        where = enterprise_events.c.enterprise_id == enterprise_id
        total = (
            await self.s.execute(select(func.count()).select_from(enterprise_events).where(where))
        ).scalar_one()
        stmt = (
            select(EnterpriseEvent)
            .where(where)
            .order_by(enterprise_events.c.at.desc(), enterprise_events.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list((await self.s.execute(stmt)).scalars()), int(total)

    async def users_by_ids(self, ids: list[str]) -> dict[str, User]:
        if not ids:
            return {}
        rows = (await self.s.execute(select(User).where(users.c.id.in_(ids)))).scalars()
        return {u.id: u for u in rows}

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        stmt = select(ApiKey).where(api_keys.c.prefix == prefix)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def api_keys_of(self, enterprise_id: str) -> list[ApiKey]:
        stmt = select(ApiKey).where(api_keys.c.enterprise_id == enterprise_id).order_by(api_keys.c.created_at)
        return list((await self.s.execute(stmt)).scalars())
