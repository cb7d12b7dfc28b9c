"""Page plumbing shared by the employer dashboard and the worker H5/PC pages: Jinja2
environment, the base layout, static files and the home-page entry registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..api.http import DEPS
from ..core.verification import Capability

STATIC = Path(__file__).with_name("static")
JINJA = web.AppKey("jinja", jinja2.Environment)


@dataclass(frozen=True)
class HomeEntry:
    """A tile on a home page. Features register theirs when they exist, so the home page
    never shows an entry whose feature is not built."""

    side: str  # "employer" | "worker"
    title: str
    href: str
    icon: str  # one character shown in a coloured disc (no emoji: phones may lack the font)
    description: str = ""
    permission: str | None = None
    order: int = 100
    badge: str | None = None  # API path returning {"count": n} or a counts object key "path#key"


HOME_ENTRIES: list[HomeEntry] = []


def register_home_entry(entry: HomeEntry) -> None:
    if entry not in HOME_ENTRIES:
        HOME_ENTRIES.append(entry)


def setup_pages(app: web.Application) -> None:
    if JINJA in app:
        return
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("laborsign.web", "templates"),
            jinja2.PackageLoader("laborsign.dashboard", "templates"),
            jinja2.PackageLoader("laborsign.h5", "templates"),
        ]
    )
    app[JINJA] = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]))
    app.router.add_static("/static/", STATIC, name="static", append_version=True)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    env = request.app[JINJA]
    deps = request.app[DEPS]
    context.setdefault("dev_sms", deps.config.sms.provider == "outbox")
    # Face intent at signing is offered only while a face provider is on (read by signing.js).
    context.setdefault("face_intent", deps.identity.offers(Capability.FACE))
    html = env.get_template(template).render(request=request, static=_static_url(request), **context)
    return web.Response(
        text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
    )


def _static_url(request: web.Request) -> Any:
    def url(name: str) -> str:
        return str(request.app.router["static"].url_for(filename=name))

    return url


def home_entries(side: str) -> list[HomeEntry]:
    return sorted((e for e in HOME_ENTRIES if e.side == side), key=lambda e: e.order)
