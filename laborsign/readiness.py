"""Whether a configuration can run, and whether it can run for real.

Two kinds of findings: a chosen provider missing what it needs (refused in every environment),
and what a production deployment must not run with — a sandbox or the SMS outbox, a generated
secret key, a public address that is not https, cookies without the Secure flag (refused when
`server.environment = "production"`). `laborsign check-config` prints both, per capability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core.sms_templates import BY_KEY, missing_kinds

if TYPE_CHECKING:
    from .config import Config

PROVIDER_LABELS = {
    "outbox": "outbox（只存储不发送，开发用）",
    "http": "http（运营方自建短信桥接）",
    "aliyun": "aliyun（阿里云短信）",
    "tencent": "tencent（腾讯云）",
    "sandbox": "sandbox（沙箱，开发用）",
    "appcode": "appcode（API 市场 APPCODE 接口）",
    "alipay": "alipay（支付宝）",
    "manual": "manual（平台审核员人工打款）",
    "disabled": "disabled（已停用）",
}
PERSONAL = ("carrier", "bankcard", "face")
IDENTITY_CAPABILITIES = {
    "carrier": "个人实名 · 运营商三要素",
    "bankcard": "个人实名 · 银行卡四要素",
    "face": "个人实名 · 人脸识别（含签署时刷脸意愿认证）",
    "legal_rep": "企业认证 · 法定代表人",
    "corporate_payment": "企业认证 · 对公打款",
    "enterprise_alipay": "企业认证 · 企业支付宝",
}
NEEDS = {
    ("sms", "http"): ("http_url", "http_secret"),
    ("sms", "aliyun"): ("aliyun_access_key_id", "aliyun_access_key_secret", "aliyun_endpoint"),
    ("sms", "tencent"): ("tencent_secret_id", "tencent_secret_key", "tencent_sdk_app_id", "tencent_endpoint"),
    ("carrier", "appcode"): ("carrier_appcode", "carrier_api_base_url"),
    ("carrier", "tencent"): ("tencent_secret_id", "tencent_secret_key", "tencent_api_base_url"),
    ("bankcard", "tencent"): ("tencent_secret_id", "tencent_secret_key", "tencent_api_base_url"),
    ("face", "tencent"): ("tencent_secret_id", "tencent_secret_key", "tencent_rule_id", "tencent_api_base_url"),
    ("face", "alipay"): ("alipay_app_id", "alipay_private_key", "alipay_public_key", "alipay_gateway_url"),
    ("legal_rep", "appcode"): ("legal_rep_appcode", "legal_rep_api_base_url"),
    ("enterprise_alipay", "alipay"): (
        "alipay_app_id", "alipay_private_key", "alipay_public_key", "alipay_gateway_url",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    key: str  # the configuration key to change
    message: str
    production_only: bool = False


@dataclass
class Capability:
    label: str
    key: str
    provider: str
    inherited: bool = False  # the provider comes from identity.provider
    missing: list[str] = field(default_factory=list)

    @property
    def development_only(self) -> bool:
        return self.provider in ("sandbox", "outbox")

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS.get(self.provider, self.provider)


def secret_is_generated(config: Config) -> bool:
    """The embedded default: a random key written into the data folder on first start, which
    another host would not share and a lost disk would take with it."""
    return not config.security.secret_key


def _missing(section: object, names: tuple[str, ...], prefix: str) -> list[str]:
    return [f"{prefix}.{name}" for name in names if not str(getattr(section, name) or "").strip()]


def _sms_capability(config: Config) -> Capability:
    sms = config.sms
    cap = Capability("短信（验证码与通知）", "sms.provider", sms.provider)
    cap.missing = _missing(sms, NEEDS.get(("sms", sms.provider), ()), "sms")
    if sms.provider in ("aliyun", "tencent") and missing_kinds(sms.templates):
        cap.missing.append("sms.templates")
    return cap


def capabilities(config: Config) -> list[Capability]:
    identity = config.identity
    out = [_sms_capability(config)]
    for name, label in IDENTITY_CAPABILITIES.items():
        provider = identity.chosen(name)
        cap = Capability(
            label, f"identity.{name}_provider", provider, getattr(identity, f"{name}_provider") is None
        )
        cap.missing = _missing(identity, NEEDS.get((name, provider), ()), "identity")
        out.append(cap)
    return out


def _format_findings(config: Config) -> list[Finding]:
    found: list[Finding] = []
    sms = config.sms
    if sms.provider == "http":
        if sms.http_url and not sms.http_url.startswith(("https://", "http://")):
            found.append(Finding("sms.http_url", "应为 http:// 或 https:// 开头的桥接地址"))
        if sms.http_secret and len(sms.http_secret) < 16:
            found.append(Finding("sms.http_secret", "至少16个字符"))
    for kind in sms.templates:
        if kind not in BY_KEY:
            found.append(Finding(f"sms.templates.{kind}", f"未知的短信类型，可用：{'、'.join(BY_KEY)}"))
    if all(config.identity.chosen(name) == "disabled" for name in PERSONAL):
        found.append(
            Finding("identity.carrier_provider", "个人实名认证方式全部停用：劳动者和办理人将无法完成实名认证")
        )
    return found


def findings(config: Config) -> list[Finding]:
    """Everything wrong with `config`, production rules included (marked)."""
    found: list[Finding] = []
    for cap in capabilities(config):
        for key in cap.missing:
            if key == "sms.templates":
                kinds = "、".join(missing_kinds(config.sms.templates))
                found.append(Finding(key, f"使用 {cap.provider} 时每种短信都要有审核通过的模板，缺少：{kinds}"))
            else:
                found.append(Finding(key, f"{cap.label}使用 {cap.provider} 时必须填写"))
        if cap.development_only:
            where = f"（未单独设置，沿用 identity.provider = \"{cap.provider}\"）" if cap.inherited else ""
            instead = "aliyun、tencent 或 http" if cap.key == "sms.provider" else "真实服务商或 disabled"
            found.append(Finding(cap.key, f"生产环境不能使用 {cap.provider_label}{where}，请改为{instead}", True))
    found += _format_findings(config)
    if secret_is_generated(config):
        found.append(
            Finding(
                "security.secret_key",
                "生产环境必须配置固定密钥（当前为首次启动时自动生成到数据目录，多机无法共享、丢失即无法解密）",
                True,
            )
        )
    if not config.server.public_url.startswith("https://"):
        found.append(Finding("server.public_url", "生产环境必须是 https:// 开头的公网地址（短信、二维码、证书中的链接）", True))
    if not config.server.secure_cookies:
        found.append(Finding("server.secure_cookies", "生产环境必须为 true（HTTPS 下 Cookie 带 Secure 标记）", True))
    return found


def refusals(config: Config) -> list[Finding]:
    """What stops start-up in this configuration's own environment."""
    production = config.server.environment == "production"
    return [f for f in findings(config) if production or not f.production_only]
