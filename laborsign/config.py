"""Configuration: `config.toml` (see config.example.toml) with every key overridable by an
environment variable `LABORSIGN_SECTION__KEY`. A bad value stops start-up naming the key."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from .bots.channels.registry import ADAPTERS

ENV_PREFIX = "LABORSIGN_"


class ConfigError(Exception):
    """Raised with a message that names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Section):
    # development: the embedded defaults (sandbox, outbox, dev endpoints on loopback).
    # production: start-up is refused while anything a real deployment must not run with is
    # left (readiness.py lists it; `laborsign check-config` prints it).
    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = ""  # base of links sent to people; empty = http://host:port
    session_days: int = Field(7, ge=1, le=90)
    secure_cookies: bool = False  # set true behind HTTPS
    trusted_proxies: list[str] = []  # peers allowed to set X-Forwarded-For (addresses or networks)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for entry in v:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} 不是 IP 地址或网段") from None
        return v

    @property
    def trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies]


class DatabaseConfig(_Section):
    url: str = ""  # empty = sqlite file in storage.data_dir
    pool_size: int = Field(10, ge=1, le=200)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if v and not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("应以 sqlite+aiosqlite:// 或 postgresql+asyncpg:// 开头")
        return v


class StorageConfig(_Section):
    data_dir: str = "./data"
    # Where files live (contract versions, templates, seals, signatures, letters): "local" =
    # data_dir/files; "s3" = an S3-compatible bucket shared by every host.
    backend: Literal["local", "s3"] = "local"
    s3_endpoint: str = ""  # e.g. https://oss-cn-guangzhou.aliyuncs.com, http://127.0.0.1:9000
    s3_bucket: str = ""
    s3_region: str = ""  # oss-cn-guangzhou (OSS), ap-guangzhou (COS), us-east-1 (MinIO)
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # "auto": virtual-hosted (bucket.host) for Aliyun OSS, Tencent COS and AWS, which refuse
    # path style for new buckets; path style (host/bucket) for everything else (MinIO).
    s3_addressing: Literal["auto", "virtual", "path"] = "auto"

    @model_validator(mode="after")
    def _s3_given(self) -> StorageConfig:
        if self.backend != "s3":
            return self
        missing = [
            f"s3_{name}"
            for name in ("endpoint", "bucket", "region", "access_key_id", "secret_access_key")
            if not getattr(self, f"s3_{name}")
        ]
        if missing:
            raise ValueError(f"storage.backend 为 s3 时必须填写 {', '.join(missing)}")
        if not self.s3_endpoint.startswith(("https://", "http://")):
            raise ValueError("s3_endpoint 应为 http:// 或 https:// 地址")
        return self


class SecurityConfig(_Section):
    # Empty = a random key generated once into data_dir/secret.key (embedded default).
    secret_key: str = ""
    # Abuse budgets (core/budgets.py). SMS codes asked for without logging in, per client
    # address: this many in 10 minutes freely, then each needs a solved image captcha…
    sms_codes_per_ip_before_captcha: int = Field(10, ge=0, le=100_000)
    # …and never more than these, per address and in all.
    sms_codes_per_ip_hour: int = Field(300, ge=1, le=1_000_000)
    sms_codes_global_hour: int = Field(5000, ge=1, le=10_000_000)
    # Codes a logged-in person or a chat user has sent (intent, verification, binding).
    sms_codes_per_user_hour: int = Field(20, ge=1, le=100_000)
    # SMS invitations (single and bulk) and reminders an enterprise sends per day.
    sms_invites_per_enterprise_day: int = Field(3000, ge=1, le=1_000_000)
    reminders_per_enterprise_day: int = Field(3000, ge=1, le=1_000_000)
    # Real-name and enterprise verification attempts (each may cost a provider fee) per
    # person per day.
    verifications_per_user_day: int = Field(20, ge=1, le=100_000)


class SmsConfig(_Section):
    provider: Literal["outbox", "http", "aliyun", "tencent"] = "outbox"
    signature: str = "劳动合同签"
    http_url: str = ""  # the operator's SMS gateway bridge (provider "http")
    http_secret: str = ""  # HMAC-SHA256 key the bridge checks requests with
    # The vendors (provider aliyun / tencent): the approved 签名 (empty = `signature`) and one
    # approved template per message kind (core/sms_templates.py lists the kinds).
    sign_name: str = ""
    templates: dict[str, str] = {}
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com"
    tencent_secret_id: str = ""
    tencent_secret_key: str = ""
    tencent_sdk_app_id: str = ""
    tencent_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_region: str = "ap-guangzhou"
    timeout: float = Field(10.0, gt=0, le=60)  # seconds for one vendor call

    @property
    def vendor_sign_name(self) -> str:
        return self.sign_name or self.signature


IdentityDefault = Literal["sandbox", "disabled"]


class IdentityConfig(_Section):
    # What plays every capability not given a provider of its own below.
    provider: IdentityDefault = "sandbox"
    # Personal methods. Each: a real provider, "sandbox" or "disabled" (the method is then
    # not offered and the API answers 409 method_disabled); unset = `provider`.
    carrier_provider: Literal["sandbox", "appcode", "tencent", "disabled"] | None = None
    bankcard_provider: Literal["sandbox", "tencent", "disabled"] | None = None
    face_provider: Literal["sandbox", "tencent", "alipay", "disabled"] | None = None
    # Enterprise organisation checks (the authorization letter is always reviewed in the console).
    legal_rep_provider: Literal["sandbox", "appcode", "disabled"] | None = None
    corporate_payment_provider: Literal["sandbox", "manual", "disabled"] | None = None
    enterprise_alipay_provider: Literal["sandbox", "alipay", "disabled"] | None = None
    carrier_appcode: str = ""
    carrier_api_base_url: str = "https://mobile3elements.shumaidata.com"
    legal_rep_appcode: str = ""
    legal_rep_api_base_url: str = "https://entfour.market.alicloudapi.com"
    tencent_secret_id: str = ""
    tencent_secret_key: str = ""
    tencent_rule_id: str = ""
    tencent_api_base_url: str = "https://faceid.tencentcloudapi.com"
    tencent_region: str = "ap-guangzhou"
    alipay_app_id: str = ""
    alipay_private_key: str = ""  # the application's RSA2 private key (PEM or its base64 body)
    alipay_public_key: str = ""  # Alipay's public key, checks every answer
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"
    timeout: float = Field(10.0, gt=0, le=60)  # seconds for one vendor call

    def chosen(self, capability: str) -> str:
        """The provider playing a capability (`carrier`, `bankcard`, `face`, `legal_rep`,
        `corporate_payment`, `enterprise_alipay`)."""
        value: str | None = getattr(self, f"{capability}_provider")
        return value or self.provider


class PkiConfig(_Section):
    tsa_url: str = ""  # empty = the platform's own timestamping unit
    workers: int = Field(0, ge=0, le=64)  # PDF process pool size; 0 = CPU count


class JobsConfig(_Section):
    # Run the background work (outbox deliverer, chat housekeeping) in this process. Safe with
    # several processes; tests switch it off and drive one pass at a time.
    background: bool = True
    # A bulk download of signed PDFs of at most this many files streams at once; a larger one
    # is zipped by a background job into the file store, with progress, and downloaded after.
    export_zip_stream_max: int = Field(200, ge=0, le=100_000)


class TemplatesConfig(_Section):
    # Offer the standard 劳动合同 (every clause of Labor Contract Law Art. 17, its blanks
    # placed) as a public template, made once on the first start. Deleting or closing it in the
    # template console sticks: it is not made again.
    standard_public: bool = True


class IntegrationsConfig(_Section):
    # Integrator webhooks may point only at public addresses: a target that is or resolves to
    # loopback, link-local, private or another non-global range is refused at registration and
    # at every delivery. True lets them reach this machine or the internal network (tests, or
    # an OA system on the intranet).
    allow_private_targets: bool = False


class MinimumWageConfig(_Section):
    region: str = Field(min_length=2, max_length=50)  # a city (广州市) or district (深圳市南山区)
    effective: date  # in force from this day until the region's next entry
    monthly: Decimal = Field(ge=0)  # yuan per month


def _default_minimum_wages() -> list[MinimumWageConfig]:
    from .core.labor_law import DEFAULT_MINIMUM_WAGES

    return [
        MinimumWageConfig(region=m.region, effective=m.effective, monthly=m.monthly)
        for m in DEFAULT_MINIMUM_WAGES
    ]


class LaborLawConfig(_Section):
    # Checks before launch (issue 13). `region`: the enterprise's city, used when a contract's
    # work place names no region of the table. `minimum_wages`: the table by region and
    # effective date (earlier values stay for contracts starting before a change).
    # `minimum_monthly_wage`: used for a region the table does not know (unset: no check).
    region: str = "广州市"
    minimum_monthly_wage: Decimal | None = Field(None, ge=0)
    minimum_wages: list[MinimumWageConfig] = Field(default_factory=_default_minimum_wages)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    security: SecurityConfig = SecurityConfig()
    sms: SmsConfig = SmsConfig()
    identity: IdentityConfig = IdentityConfig()
    pki: PkiConfig = PkiConfig()
    labor_law: LaborLawConfig = LaborLawConfig()
    jobs: JobsConfig = JobsConfig()
    templates: TemplatesConfig = TemplatesConfig()
    integrations: IntegrationsConfig = IntegrationsConfig()

    @model_validator(mode="after")
    def _shared_secret(self) -> _Config:
        # Hosts sharing a bucket share one database too, and everything in it is encrypted
        # under this key: a key generated on one host's disk would differ on the next.
        if self.storage.backend == "s3" and not self.security.secret_key:
            raise ValueError(
                "security.secret_key is required：storage.backend 为 s3 时必须设置（各主机须使用同一密钥）"
            )
        return self

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir).resolve()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'laborsign.db'}"

    @property
    def public_url(self) -> str:
        base = self.server.public_url or f"http://{self.server.host}:{self.server.port}"
        return base.rstrip("/")

    if TYPE_CHECKING:
        # The channels' sections (`config.wechat`, …) are fields added from the registry below.
        def __getattr__(self, name: str) -> Any: ...


# Every chat channel brings its own section, `[name]`, from its module (bots/channels/).
if TYPE_CHECKING:
    Config = _Config
else:
    Config = create_model(
        "Config",
        __base__=_Config,
        __module__=__name__,
        **{a.name: (a.section, a.section()) for a in ADAPTERS},
    )


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        out.setdefault(section.lower(), {})[key.lower()] = value
    return out


def _coerce_env(section_model: type[BaseModel], key: str, raw: str) -> Any:
    """Environment values are strings; lists are written as comma-separated text, tables as
    comma-separated key=value pairs."""
    field = section_model.model_fields.get(key)
    origin = getattr(field.annotation, "__origin__", None) if field is not None else None
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if origin is list:
        return parts
    if origin is dict:
        pairs = [part.partition("=") for part in parts]
        bad = next((name for name, eq, _ in pairs if not eq or not name.strip()), None)
        if bad is not None:
            raise ValueError(f"{bad!r} 不是 key=value 形式")
        return {name.strip(): value.strip() for name, _, value in pairs}
    return raw


_PYDANTIC_MESSAGES = {
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为表（键值对）",
    "extra_forbidden": "未知的配置项",
    "missing": "缺少必填项",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "取值过小",
    "less_than_equal": "取值过大",
    "greater_than": "取值过小",
    "less_than": "取值过大",
}


def _pydantic_message(err: Any) -> str:
    """A validation problem in Chinese: our validators' own (Chinese) message, or the kind of
    value expected, with pydantic's English kept after it for the allowed values."""
    if err["type"] == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    known = _PYDANTIC_MESSAGES.get(err["type"])
    return f"{known}（{err['msg']}）" if known else err["msg"]


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None, *, check: bool = True
) -> Config:
    """`check`: also refuse what readiness.py finds (missing keys for a chosen provider, and in
    production whatever a real deployment must not run with). `laborsign check-config` loads
    without it to report everything at once."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is None and Path("config.toml").is_file():
        path = "config.toml"
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"找不到配置文件：{path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} 不是有效的 TOML：{exc}") from exc
    for section, values in _env_overrides(environ).items():
        model = Config.model_fields.get(section)
        if model is None:
            raise ConfigError(f"环境变量中有未知的配置节：{section}")
        section_type = model.annotation
        assert isinstance(section_type, type) and issubclass(section_type, BaseModel)
        target = data.setdefault(section, {})
        for key, raw in values.items():
            try:
                target[key] = _coerce_env(section_type, key, raw)
            except ValueError as exc:
                raise ConfigError(f"配置无效 — {section}.{key}: {exc}") from exc
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            problems.append(f"{key}: {_pydantic_message(err)}")
        raise ConfigError("配置无效 — " + "; ".join(problems)) from exc
    if check:
        from .readiness import refusals

        found = refusals(config)
        if found:
            raise ConfigError("配置无效 — " + "; ".join(f"{f.key}: {f.message}" for f in found))
    return config
