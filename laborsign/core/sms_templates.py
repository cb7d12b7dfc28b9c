"""SMS through a vendor (Aliyun, Tencent Cloud) is sent from templates the vendor approved in
advance, one per kind of message, with named parameters. This is the catalogue of those kinds:
what each message is, its parameters in the order Tencent Cloud's numbered placeholders take
them ({1}, {2}, …), and how an outbox row becomes one. The operator maps each kind to a template
code in `sms.templates`; config.example.toml documents the same table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TemplateKind:
    key: str
    label: str
    params: tuple[str, ...]
    example: str  # a template text an operator can submit for approval


CODE = ("code",)
KINDS: tuple[TemplateKind, ...] = (
    TemplateKind("login", "登录验证码", CODE, "您的登录验证码为${code}，5分钟内有效，请勿泄露给他人。"),
    TemplateKind("register", "注册验证码", CODE, "您的注册验证码为${code}，5分钟内有效，请勿泄露给他人。"),
    TemplateKind("intent", "签署意愿认证验证码", CODE, "您正在签署电子劳动合同，验证码为${code}，5分钟内有效。"),
    TemplateKind("verify", "实名认证验证码", CODE, "您正在进行实名认证，验证码为${code}，5分钟内有效。"),
    TemplateKind("bind", "绑定账号验证码", CODE, "您正在绑定账号，验证码为${code}，5分钟内有效。"),
    TemplateKind(
        "invitation", "入职邀请", ("name", "enterprise", "link"),
        "${name}您好，【${enterprise}】邀请您办理入职，请点击链接填写入职资料：${link}",
    ),
    TemplateKind(
        "signing", "待签署合同", ("enterprise", "contract", "link"),
        "【${enterprise}】邀请您签署《${contract}》，请点击链接查看并签署：${link}",
    ),
    TemplateKind(
        "reminder", "催签提醒", ("enterprise", "contract", "link"),
        "【${enterprise}】提醒您尽快签署《${contract}》，点击链接直接签署：${link}",
    ),
    TemplateKind(
        "completed", "合同签署完成", ("contract", "link"),
        "《${contract}》已由双方签署完成，可随时查看和下载：${link}",
    ),
    TemplateKind(
        "withdrawn", "合同已撤回", ("enterprise", "contract", "reason"),
        "【${enterprise}】已撤回《${contract}》，原因：${reason}。",
    ),
    TemplateKind("expired", "合同已过期", ("contract",), "《${contract}》已超过签署截止时间，合同已过期。"),
    TemplateKind(
        "review_result", "入职资料审核结果", ("enterprise", "result"),
        "您提交给【${enterprise}】的入职资料${result}",
    ),
    TemplateKind(
        "review_request", "入职资料待审核（发给 HR）", ("enterprise", "name", "link"),
        "【${enterprise}】${name}提交了入职资料，请登录后台审核：${link}",
    ),
    TemplateKind(
        "hr_notice", "合同动态（发给 HR）", ("enterprise", "notice", "link"),
        "【${enterprise}】${notice}，详情：${link}",
    ),
    TemplateKind(
        "enterprise_review", "企业授权书审核结果（发给办理人）", ("enterprise", "result"),
        "您为【${enterprise}】提交的企业实名认证授权书${result}",
    ),
    TemplateKind(
        "labor_alert", "用工期限提醒（发给 HR）", ("enterprise", "name", "event", "date"),
        "【${enterprise}】员工${name}${event}（${date}），请登录后台及时处理。",
    ),
    TemplateKind(
        "certificate", "解除（终止）劳动合同证明已出具", ("enterprise", "link"),
        "【${enterprise}】已为您出具解除（终止）劳动合同证明，可点击链接查看和下载：${link}",
    ),
    TemplateKind(
        "payment_sent", "对公打款已汇出（发给办理人）", ("enterprise",),
        "平台已向【${enterprise}】的对公账户汇出一笔验证打款，请查询到账金额后登录平台回填，完成企业实名认证。",
    ),
)  # fmt: skip
BY_KEY = {k.key: k for k in KINDS}

# Outbox `kind` → template kind (verification codes go by their purpose).
_OUTBOX_KINDS = {
    "invitation": "invitation",
    "contract_to_sign": "signing",
    "contract_reminder": "reminder",
    "contract_completed": "completed",
    "contract_withdrawn": "withdrawn",
    "contract_expired": "expired",
    "onboarding_approved": "review_result",
    "onboarding_rejected": "review_result",
    "onboarding_submitted": "review_request",
    "review_card": "review_request",
    "hr_notice": "hr_notice",
    "verification_review": "enterprise_review",
    "payment_sent": "payment_sent",
    "labor_alert": "labor_alert",
    "certificate_issued": "certificate",
}


class NoTemplate(Exception):
    """The message cannot be sent from a template (unknown kind or missing parameters)."""


def missing_kinds(templates: dict[str, str]) -> list[str]:
    return [k.key for k in KINDS if not str(templates.get(k.key) or "").strip()]


def template_of(kind: str, payload: dict[str, Any]) -> tuple[TemplateKind, dict[str, str]]:
    """The template kind an outbox SMS goes out with and its parameters, in catalogue order.
    Parameters come from the row's payload: `code`, `link`, and `sms` (written by the
    state change that caused the message)."""
    key = str(payload.get("purpose") or "") if kind == "sms_code" else _OUTBOX_KINDS.get(kind, "")
    template = BY_KEY.get(key)
    if template is None:
        raise NoTemplate(f"no SMS template kind for outbox kind {kind!r}")
    given = {**(payload.get("sms") or {}), "code": payload.get("code"), "link": payload.get("link")}
    params = {name: str(given.get(name) or "") for name in template.params}
    empty = [name for name, value in params.items() if not value]
    if empty:
        raise NoTemplate(f"SMS {template.key} lacks parameters: {', '.join(empty)}")
    return template, params
