"""Value objects with validation and masking built in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Invalid

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Mobile virtual network operator (虚拟运营商) segments cannot be checked against carriers.
VIRTUAL_PREFIXES = ("162", "165", "167", "170", "171")


def mask_middle(text: str, keep_start: int, keep_end: int, star: str = "*") -> str:
    if len(text) <= keep_start + keep_end:
        return star * len(text)
    return text[:keep_start] + star * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


@dataclass(frozen=True, slots=True)
class Phone:
    """A mainland China mobile number (11 digits)."""

    value: str

    @classmethod
    def parse(cls, raw: object, field: str = "phone") -> Phone:
        text = str(raw or "").strip().replace(" ", "").replace("-", "")
        if text.startswith("+86"):
            text = text[3:]
        if not text:
            raise Invalid.field(field, "请输入手机号")
        if not _MOBILE.match(text):
            raise Invalid.field(field, "手机号格式不正确，请输入11位中国大陆手机号")
        return cls(text)

    @property
    def is_virtual(self) -> bool:
        return self.value.startswith(VIRTUAL_PREFIXES)

    @property
    def masked(self) -> str:
        return mask_phone(self.value)

    def __str__(self) -> str:
        return self.value


def mask_phone(phone: str) -> str:
    return mask_middle(phone, 3, 4)


# GB 32100-2015: 18 characters from this 31-symbol alphabet (no I, O, S, V, Z).
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_AUTHORITIES = "156789ANY"


@dataclass(frozen=True, slots=True)
class CreditCode:
    """统一社会信用代码 (unified social credit code), checksum validated."""

    value: str

    @classmethod
    def parse(cls, raw: object, field: str = "credit_code") -> CreditCode:
        text = str(raw or "").strip().upper()
        if not text:
            raise Invalid.field(field, "请输入统一社会信用代码")
        if len(text) != 18:
            raise Invalid.field(field, "统一社会信用代码应为18位")
        if any(ch not in _CREDIT_ALPHABET for ch in text):
            raise Invalid.field(field, "统一社会信用代码含有无效字符（不使用I、O、S、V、Z）")
        if text[0] not in _CREDIT_AUTHORITIES or not text[2:8].isdigit():
            raise Invalid.field(field, "统一社会信用代码格式不正确")
        if text[17] != credit_code_check_char(text[:17]):
            raise Invalid.field(field, "统一社会信用代码校验位错误，请核对后重新输入")
        return cls(text)

    def __str__(self) -> str:
        return self.value


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]
