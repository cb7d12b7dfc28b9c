"""Error pages: a person who follows a wrong link (or whose browser asks a page in a way it
does not answer) gets a page in the site's style and in Chinese, not aiohttp's "404: Not
Found". The page doors' middleware; the API and the webhooks doors answer in JSON."""

from __future__ import annotations

import logging

from aiohttp import web

from ..core.errors import DomainError
from ..http import Handler, asks_for_json
from . import JINJA, render

_TITLES = {
    400: ("请求有误", "请求的格式不正确，请返回后重试。"),
    403: ("没有权限", "您没有权限访问该页面。"),
    404: ("页面不存在", "您访问的页面不存在，链接可能有误或已失效。"),
    405: ("不支持该访问方式", "该页面不支持这种访问方式，请从页面上的链接或按钮进入。"),
    413: ("内容过大", "提交的内容超过了大小限制。"),
    500: ("服务暂时出错", "服务器处理时出错，请稍后刷新重试；如果一直出现，请联系平台运营方。"),
}
_OTHER = ("无法处理该请求", "请求无法处理，请返回后重试。")
log = logging.getLogger("laborsign.web")


def _is_page_request(request: web.Request) -> bool:
    """The page doors' requests are for pages, unless the client asks for JSON."""
    return not asks_for_json(request)


def _homes(path: str) -> list[tuple[str, str]]:
    if path.startswith(("/h5", "/worker", "/sandbox")):
        return [("/h5", "返回劳动者首页")]
    if path.startswith("/console"):
        return [("/console", "返回监管端")]
    if path.startswith("/dashboard"):
        return [("/dashboard", "返回用人单位首页")]
    return [("/dashboard", "用人单位首页"), ("/h5", "劳动者首页")]


def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    title, text = _TITLES.get(status, _OTHER)
    return render(
        request, "error.html", status=status, code=status, title=title, message=message or text,
        homes=_homes(request.path),
    )  # fmt: skip


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not (400 <= exc.status < 500) or not _is_page_request(request) or JINJA not in request.app:
            raise
        page = error_page(request, exc.status)
        if "Allow" in exc.headers:
            page.headers["Allow"] = exc.headers["Allow"]
        return page
    except DomainError as exc:
        if not (400 <= exc.status < 500) or not _is_page_request(request) or JINJA not in request.app:
            raise
        return error_page(request, exc.status, exc.message)
    except Exception:
        # A fault in a page handler: the person gets the site's 500 page (a client that asked
        # for JSON gets the JSON answer of laborsign/http.py), the log gets the traceback.
        if not _is_page_request(request) or JINJA not in request.app:
            raise
        log.exception("unhandled error on page %s %s", request.method, request.path[:300])
        return error_page(request, 500)
