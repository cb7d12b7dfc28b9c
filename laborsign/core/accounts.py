"""Accounts: people, enterprises, memberships, SMS codes, sessions and API keys.

The rules live on the objects; the service layer (`core/services/accounts.py`) loads and
stores them through a unit of work and never decides a rule itself."""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import CHINA_TZ
from .errors import Forbidden, Invalid, RateLimited, WrongState
from .ids import new_id

SMS_CODE_TTL = timedelta(minutes=5)
SMS_RESEND_AFTER = timedelta(seconds=60)
SMS_DAILY_LIMIT = 10
SMS_MAX_WRONG_TRIES = 5
PLATFORM_AGREEMENT_VERSION = "2026-11"


class SmsPurpose(enum.StrEnum):
    LOGIN = "login"
    REGISTER = "register"
    INTENT = "intent"
    VERIFY = "verify"
    BIND = "bind"


SMS_PURPOSE_LABELS = {
    SmsPurpose.LOGIN: "登录",
    SmsPurpose.REGISTER: "注册",
    SmsPurpose.INTENT: "签署意愿认证",
    SmsPurpose.VERIFY: "身份验证",
    SmsPurpose.BIND: "绑定账号",
}


class OrgType(enum.StrEnum):
    ENTERPRISE = "enterprise"
    INDIVIDUAL_BUSINESS = "individual_business"
    OTHER = "other"


ORG_TYPE_LABELS = {
    OrgType.ENTERPRISE: "企业",
    OrgType.INDIVIDUAL_BUSINESS: "个体工商户",
    OrgType.OTHER: "其他（事业单位、学校、律所等）",
}


class Permission(enum.StrEnum):
    TEMPLATES = "templates"
    CONTRACTS = "contracts"
    ONBOARDING = "onboarding"
    INTEGRATIONS = "integrations"  # integrator webhooks


PERMISSION_LABELS = {
    Permission.TEMPLATES: "模板管理",
    Permission.CONTRACTS: "合同管理",
    Permission.ONBOARDING: "入职与花名册",
    Permission.INTEGRATIONS: "系统集成（Webhook）",
}


class PlatformRole(enum.StrEnum):
    REGULATOR = "regulator"
    REVIEWER = "reviewer"


PLATFORM_ROLE_LABELS = {PlatformRole.REGULATOR: "监管端模板管理员", PlatformRole.REVIEWER: "平台审核员"}


class Role(enum.StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


ROLE_LABELS = {Role.ADMIN: "管理员", Role.MEMBER: "成员"}


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    # The previous admin after a transfer: keeps no access to the enterprise (SPEC §2.9).
    REVOKED = "revoked"
    # Removed by an admin: no access, and no longer listed.
    REMOVED = "removed"


def hash_secret(key: bytes, value: str) -> str:
    """Keyed hash for codes and tokens: a database leak reveals none of them."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(eq=False)
class SmsCode:
    phone: str
    purpose: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None
    id: str = field(default_factory=new_id)

    @staticmethod
    def generate() -> str:
        return f"{secrets.randbelow(1_000_000):06d}"

    @staticmethod
    def check_can_send(recent: list[datetime], purpose_last: datetime | None, now: datetime) -> None:
        """`recent`: send times to this phone today (China calendar day), any purpose."""
        if purpose_last is not None and now - purpose_last < SMS_RESEND_AFTER:
            wait = SMS_RESEND_AFTER - (now - purpose_last)
            raise RateLimited("验证码发送过于频繁，请稍后再试", math.ceil(wait.total_seconds()))
        if len(recent) >= SMS_DAILY_LIMIT:
            local = now.astimezone(CHINA_TZ)
            tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            raise RateLimited(
                "该手机号今日获取验证码次数已达上限，请明天再试",
                math.ceil((tomorrow - local).total_seconds()),
            )

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at and self.attempts < SMS_MAX_WRONG_TRIES

    def try_code(self, key: bytes, code: str, now: datetime) -> bool:
        """Counts a wrong try; marks the code used on success. Returns success."""
        if not self.usable(now):
            return False
        if hmac.compare_digest(self.code_hash, hash_secret(key, f"{self.phone}:{self.purpose}:{code}")):
            self.used_at = now
            return True
        self.attempts += 1
        return False


def day_start(now: datetime) -> datetime:
    local = now.astimezone(CHINA_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(eq=False)
class User:
    phone: str
    created_at: datetime
    name: str | None = None
    password_hash: str | None = None
    verified: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    # Platform staff: "regulator" (public templates) or "reviewer" (authorization letters).
    platform_role: str | None = None
    id: str = field(default_factory=new_id)

    MAX_FAILED_PASSWORDS = 5
    LOCK_FOR = timedelta(minutes=15)

    def check_not_locked(self, now: datetime) -> None:
        if self.locked_until is not None and now < self.locked_until:
            raise RateLimited(
                "密码错误次数过多，账号已暂时锁定，请稍后再试或使用验证码登录",
                math.ceil((self.locked_until - now).total_seconds()),
                code="too_many_failures",
            )

    def record_password_failure(self, now: datetime) -> None:
        self.failed_logins += 1
        if self.failed_logins >= self.MAX_FAILED_PASSWORDS:
            self.locked_until = now + self.LOCK_FOR
            self.failed_logins = 0

    def record_login(self) -> None:
        self.failed_logins = 0
        self.locked_until = None


def validate_password(password: str) -> str:
    if not isinstance(password, str) or not (8 <= len(password) <= 32):
        raise Invalid.field("password", "密码长度应为8-32位")
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise Invalid.field("password", "密码须同时包含字母和数字")
    return password


@dataclass(eq=False)
class AgreementAcceptance:
    user_id: str
    agreement: str
    version: str
    accepted_at: datetime
    ip: str
    user_agent: str = ""
    id: str = field(default_factory=new_id)


@dataclass(eq=False)
class Enterprise:
    name: str
    credit_code: str
    org_type: str
    created_at: datetime
    verification_status: str = "unverified"
    id: str = field(default_factory=new_id)


def validate_enterprise_name(name: object) -> str:
    text = str(name or "").strip()
    if not text:
        raise Invalid.field("name", "请输入企业名称")
    if len(text) > 100:
        raise Invalid.field("name", "企业名称不能超过100个字符")
    return text


def validate_person_name(name: object, field_name: str = "name") -> str:
    text = str(name or "").strip()
    if not text:
        raise Invalid.field(field_name, "请输入姓名")
    if len(text) > 50:
        raise Invalid.field(field_name, "姓名不能超过50个字符")
    return text


@dataclass(eq=False)
class Member:
    enterprise_id: str
    user_id: str
    name: str
    role: str
    created_at: datetime
    permissions: list[str] = field(default_factory=list)
    status: str = MemberStatus.ACTIVE
    id: str = field(default_factory=new_id)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN and self.status == MemberStatus.ACTIVE

    def can(self, permission: str | None) -> bool:
        if self.status != MemberStatus.ACTIVE:
            return False
        return permission is None or self.role == Role.ADMIN or permission in self.permissions

    def require(self, permission: str | None) -> None:
        if not self.can(permission):
            label = PERMISSION_LABELS.get(Permission(permission), permission) if permission else ""
            raise Forbidden(f"您没有{label}权限，请联系企业管理员", "permission_denied")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("仅企业管理员可以进行此操作", "admin_only")

    def transfer_admin_to(self, successor: Member) -> None:
        """转授: the successor becomes admin; this admin loses every right in the enterprise."""
        self.require_admin()
        if successor is self or successor.user_id == self.user_id:
            raise WrongState("不能将管理员权限转授给自己", "same_member")
        if successor.status != MemberStatus.ACTIVE:
            raise WrongState("该成员已失效，无法接受转授", "member_inactive")
        successor.role = Role.ADMIN
        successor.permissions = [p.value for p in Permission]
        self.revoke()

    def revoke(self) -> None:
        """The member leaves the enterprise: no right in it from the next request on."""
        self.role = Role.MEMBER
        self.permissions = []
        self.status = MemberStatus.REVOKED

    def change(self, permissions: list[str], role: str | None, active_admins: int) -> None:
        """An admin edits this member. The enterprise keeps at least one admin."""
        if self.status != MemberStatus.ACTIVE:
            raise WrongState("该成员已失效，不能修改", "member_inactive")
        new_role = Role(role) if role else Role(self.role)
        if self.is_admin and new_role != Role.ADMIN and active_admins <= 1:
            raise WrongState("企业至少需要一名管理员：请先将管理员转授给其他成员", "last_admin")
        self.role = new_role
        self.permissions = [p.value for p in Permission] if new_role == Role.ADMIN else permissions

    def remove(self, active_admins: int) -> None:
        if self.status == MemberStatus.REMOVED:
            raise WrongState("该成员已被移除", "member_removed")
        if self.is_admin and active_admins <= 1:
            raise WrongState("不能移除企业唯一的管理员：请先将管理员转授给其他成员", "last_admin")
        self.status = MemberStatus.REMOVED
        self.permissions = []

    def rejoin(self, name: str, permissions: list[str]) -> None:
        """A removed or revoked member added again starts afresh as a plain member."""
        if self.status == MemberStatus.ACTIVE:
            raise WrongState("该手机号已是本企业成员", "member_exists")
        self.name, self.role, self.permissions = name, Role.MEMBER, permissions
        self.status = MemberStatus.ACTIVE


@dataclass(eq=False)
class Session:
    token_hash: str
    user_id: str
    side: str
    csrf: str
    created_at: datetime
    expires_at: datetime
    enterprise_id: str | None = None
    ip: str = ""
    user_agent: str = ""
    id: str = field(default_factory=new_id)

    def active(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(eq=False)
class ApiKey:
    enterprise_id: str
    name: str
    prefix: str
    secret_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: str = field(default_factory=new_id)


@dataclass(eq=False)
class EnterpriseEvent:
    """An enterprise-level audit entry (exports, member changes): who did what, when, from where."""

    enterprise_id: str
    kind: str  # export_employees_xlsx, member_removed, …
    at: datetime
    actor_id: str | None
    actor_name: str
    ip: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)


ENTERPRISE_EVENT_LABELS = {
    "member_updated": "修改成员权限",
    "member_removed": "移除成员",
    "export_employees_xlsx": "导出花名册（Excel）",
    "export_contracts_xlsx": "导出合同台账（Excel）",
    "export_contracts_jsonl": "导出合同信息要素（JSON Lines）",
    "export_contracts_zip": "批量下载已签合同（ZIP）",
}
