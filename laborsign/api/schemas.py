"""The shapes of the API's answers, as types the handlers' JSON builders are declared to return.

A builder written `def notice_json(n) -> NoticeOut` with `class NoticeOut(TypedDict)` is checked
by mypy against the dict it builds; the route names the same type (`answer=NoticeOut`) and the
OpenAPI document is generated from it by pydantic. One declaration, checked twice and published
once — so a field renamed in the code cannot silently disagree with the document.

Codes that come from core's tables (statuses, kinds, methods) are published as enums taken from
those tables (`Annotated[str, Codes(TABLE)]`), never retyped here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Generic, NotRequired, TypeVar

from pydantic import GetJsonSchemaHandler, TypeAdapter, WithJsonSchema
from typing_extensions import TypedDict

T = TypeVar("T")

# Scalars as the JSON API writes them (see core.clock.iso and the money/date builders).
Timestamp = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601，含时区"})
]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"})]
Money = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "description": "金额（元）"})
]
Url = Annotated[str, WithJsonSchema({"type": "string", "description": "地址（绝对或站内路径）"})]


class Codes:
    """Metadata for `Annotated[str, Codes(TABLE)]`: a string that is one of a core table's codes
    (an enum class or the keys of a label table), published as an enum. mypy sees a `str`."""

    def __init__(self, values: Iterable[str], description: str = "") -> None:
        self.values = list(dict.fromkeys(str(v) for v in values))
        self.description = description

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "enum": self.values}
        if self.description:
            schema["description"] = self.description
        return schema


class Page(TypedDict, Generic[T]):
    """分页列表（?page=&per_page=，部分列表另有 cursor）"""

    items: list[T]
    total: int
    page: int
    per_page: int
    next_cursor: NotRequired[str | None]


class PageFields(TypedDict):
    """A paged list with more keys than `Page`: subclass this and declare `items` yourself
    (a subclass of `Page[X]` would lose X in the document)."""

    total: int
    page: int
    per_page: int
    next_cursor: NotRequired[str | None]


class Items(TypedDict, Generic[T]):
    """A list answered whole (not paged)."""

    items: list[T]


class Done(TypedDict):
    ok: bool


class ErrorOut(TypedDict):
    error: str
    message: str
    fields: NotRequired[dict[str, str]]
    retry_after: NotRequired[int]


# What each error status means to a client; every operation lists the ones it can answer.
ERROR_STATUSES: dict[int, str] = {
    400: "请求格式不正确（不是 JSON、字段类型不对等）",
    401: "未登录或会话已失效",
    403: "没有权限，或 CSRF 令牌不正确",
    404: "资源不存在（或属于其他企业）",
    409: "当前状态不允许此操作（error 字段给出原因代码）",
    413: "请求体或上传的文件过大",
    415: "不支持的内容类型",
    422: "输入内容有误（fields 字段逐项说明）",
    428: "需要先完成图形验证码",
    429: "请求过于频繁（retry_after 秒后再试）",
    503: "服务或其依赖的第三方（实名认证、存储、数据库等）暂时不可用，未做任何更改，请稍后重试",
}


def json_schema(kind: Any, definitions: dict[str, Any], *, request: bool = False) -> dict[str, Any]:
    """The schema of `kind` with its named parts moved into `definitions` (components/schemas).
    Two different shapes under one name would make one of them lie: that is refused."""
    schema = TypeAdapter(kind).json_schema(
        mode="validation" if request else "serialization", ref_template="#/components/schemas/{model}"
    )
    for name, part in schema.pop("$defs", {}).items():
        if definitions.setdefault(name, part) != part:
            raise ValueError(f"two API shapes are both named {name}: rename one")
    return schema
