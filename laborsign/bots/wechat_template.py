"""What goes into the fields of the WeChat template message used for notices.

The `[wechat] notice_template_fields` setting maps each key of the account's template to one
of the values a notice has (`NOTICE_VALUES`). WeChat types a current template's fields by the
key's name (`thing1`, `time2`, `phrase3`, …) and refuses a value that breaks the type's limit;
old-style templates (`first`, `keywordN`, `remark`) take any text. No SDK here: rules only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from ..core.clock import china_time

NOTICE_VALUES = {
    "title": "the notice's title (劳动合同签通知)",
    "text": "the notice itself",
    "hint": "点击查看详情 when the notice opens a link, else empty",
    "time": "when the notice was written (2026年11月28日 09:30)",
    "status": "what the notice is about in at most 5 Chinese characters (待签署, 已撤回, …)",
}
DEFAULT_FIELDS = {"first": "title", "keyword1": "text", "remark": "hint"}
DEFAULT_TITLE = "劳动合同签通知"
HINT = "点击查看详情"

# Old-style keys take any value; a typed key takes the values that can meet its rules.
LEGACY_TYPES = {"first", "keyword", "remark"}
TYPED_VALUES = {
    "thing": {"title", "text", "hint", "status"},  # at most 20 characters: cut to fit
    "time": {"time"},
    "date": {"time"},
    "phrase": {"status"},  # at most 5 Chinese characters
}
THING_LIMIT = 20
# WeChat's other types (character_string, number, letter, symbol, amount, phone_number,
# car_number, name, const, enum) accept nothing a notice has.

# `status` for each notice kind; a kind not listed (a new notice) shows 新通知.
NOTICE_STATUS = {
    "invitation": "入职邀请",
    "onboarding_approved": "审核通过",
    "onboarding_rejected": "未通过",
    "contract_to_sign": "待签署",
    "contract_reminder": "待签署",
    "contract_withdrawn": "已撤回",
    "contract_expired": "已过期",
    "contract_completed": "已签署",
}
OTHER_STATUS = "新通知"

_KEY = re.compile(r"([a-z_]*[a-z])(\d*)")


def key_type(key: str) -> str | None:
    """`thing1` → thing, `character_string3` → character_string; None for a malformed key."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def check_fields(fields: Mapping[str, str]) -> None:
    """Raises ValueError naming the template key whose value cannot work."""
    if not fields:
        raise ValueError("at least one template key is needed")
    for key, value in fields.items():
        kind = key_type(key)
        if kind is None:
            raise ValueError(f"{key!r} is not a template key (like thing1, time2, keyword1)")
        if value not in NOTICE_VALUES:
            raise ValueError(f"{key}: unknown value {value!r}, expected one of {', '.join(NOTICE_VALUES)}")
        if kind in LEGACY_TYPES:
            continue
        allowed = TYPED_VALUES.get(kind)
        if allowed is None:
            raise ValueError(f"{key}: no notice value fits a WeChat {kind} field")
        if value not in allowed:
            raise ValueError(f"{key}: a {kind} field takes {' or '.join(sorted(allowed))}, not {value!r}")
    if "text" not in fields.values():
        raise ValueError('one template key must take the notice\'s text (e.g. thing1 = "text")')


def notice_values(
    kind: str, text: str, link: str | None, title: str | None, written: datetime
) -> dict[str, str]:
    local = china_time(written)
    return {
        "title": title or DEFAULT_TITLE,
        # The whole message opens the link, so a text written to lead into one (an SMS's
        # "…请点击链接查看并签署：") drops its colon.
        "text": text.rstrip("：:") if link else text,
        "hint": HINT if link else "",
        "time": f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}",
        "status": NOTICE_STATUS.get(kind, OTHER_STATUS),
    }


def template_data(fields: Mapping[str, str], values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"value": _fit(key, values[value])} for key, value in fields.items()}


def _fit(key: str, value: str) -> str:
    if key_type(key) != "thing":
        return value
    value = " ".join(value.splitlines())  # WeChat refuses line breaks in typed fields
    return value if len(value) <= THING_LIMIT else value[: THING_LIMIT - 1] + "…"
