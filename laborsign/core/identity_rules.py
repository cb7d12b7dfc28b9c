"""Format rules for identity documents and bank cards, checked before any provider is asked.
The same rules serve real-name verification, the onboarding form and the chat flows."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from .errors import Invalid
from .values import mask_middle


class IdType(enum.StrEnum):
    RESIDENT_ID = "resident_id"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    PASSPORT = "passport"


ID_TYPE_LABELS = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.HK_MACAU_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.PASSPORT: "护照",
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: province-level division codes of GB/T 2260.
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class IdDocument:
    id_type: IdType
    number: str

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)

    @property
    def birth_date(self) -> date | None:
        if self.id_type != IdType.RESIDENT_ID:
            return None
        n = self.number
        return date(int(n[6:10]), int(n[10:12]), int(n[12:14]))

    @property
    def gender(self) -> str | None:
        """'male' / 'female' from the sequence digit of a resident ID."""
        if self.id_type != IdType.RESIDENT_ID:
            return None
        return "male" if int(self.number[16]) % 2 else "female"


def mask_id_number(number: str) -> str:
    """`4401**********1234` for an 18-digit ID; shorter documents keep 2 + 2."""
    return mask_middle(number, 4, 4) if len(number) >= 15 else mask_middle(number, 2, 2)


def resident_id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_id_type(raw: object, field: str = "id_type") -> IdType:
    try:
        return IdType(str(raw or ""))
    except ValueError:
        raise Invalid.field(field, "请选择证件类型：居民身份证、港澳通行证、台胞证或护照") from None


def parse_id_document(id_type: object, number: object, today: date, field: str = "id_number") -> IdDocument:
    kind = parse_id_type(id_type)
    text = str(number or "").strip().upper().replace(" ", "")
    if not text:
        raise Invalid.field(field, "请输入证件号码")
    checker = {
        IdType.RESIDENT_ID: _check_resident_id,
        IdType.HK_MACAU_PERMIT: _check_hk_macau,
        IdType.TAIWAN_PERMIT: _check_taiwan,
        IdType.PASSPORT: _check_passport,
    }[kind]
    message = checker(text, today)
    if message:
        raise Invalid.field(field, message)
    return IdDocument(kind, text)


def _check_resident_id(text: str, today: date) -> str | None:
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return "身份证号码应为18位，最后一位可为数字或X"
    if text[:2] not in _PROVINCES:
        return "身份证号码的地区码不正确"
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "身份证号码中的出生日期不存在"
    if born > today or born.year < today.year - 120:
        return "身份证号码中的出生日期不合理"
    if resident_id_check_char(text[:17]) != text[17]:
        return "身份证号码校验位错误，请核对后重新输入"
    return None


def _check_hk_macau(text: str, today: date) -> str | None:
    # 往来内地通行证 (回乡证): H or M followed by 8 digits (10 digits on older cards).
    if not re.fullmatch(r"[HM]\d{8}(\d{2})?", text):
        return "港澳居民来往内地通行证号码应为H或M开头加8位数字"
    return None


def _check_taiwan(text: str, today: date) -> str | None:
    # 台胞证: 8 digits (new card) or 10 digits / 8 digits with a bracketed letter on older ones.
    if not re.fullmatch(r"\d{8}|\d{10}|\d{8}\([A-Z]\)", text):
        return "台湾居民来往大陆通行证号码应为8位数字"
    return None


def _check_passport(text: str, today: date) -> str | None:
    if not re.fullmatch(r"[A-Z0-9]{5,17}", text) or text.isalpha():
        return "护照号码应为5-17位字母和数字"
    return None


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def parse_bank_card(raw: object, field: str = "bank_card") -> str:
    """A UnionPay card: 16-19 digits, Luhn-valid, UnionPay BIN range (62…) or a domestic
    card number of the same length."""
    text = str(raw or "").replace(" ", "").strip()
    if not text:
        raise Invalid.field(field, "请输入银行卡号")
    if not text.isdigit() or not 16 <= len(text) <= 19:
        raise Invalid.field(field, "银行卡号应为16-19位数字")
    if not luhn_ok(text):
        raise Invalid.field(field, "银行卡号校验失败，请核对后重新输入")
    return text


def mask_bank_card(card: str) -> str:
    return mask_middle(card, 4, 4)
