"""Page plumbing shared by the employer dashboard and the worker H5/PC pages: Jinja2
environment, the base layout, static files and the home-page entry registry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..core.verification import Capability
from ..http import DEPS
from .labels import label_tables, labels_module

STATIC = Path(__file__).with_name("static").resolve()
JINJA = web.AppKey("jinja", jinja2.Environment)
LABELS_PATH = "js/labels.js"  # generated from core's tables, not a file
IMMUTABLE = "public, max-age=31536000, immutable"


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


@cache
def static_build() -> str:
    """One version for all static files and the labels module. It is a path segment
    (/static/<build>/…), so the modules' relative imports carry it too and every file can be
    cached for good: a changed file makes a new build and new URLs."""
    digest = hashlib.sha256(labels_module().encode())
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(STATIC)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def jinja_env() -> jinja2.Environment:
    """One environment for both page doors (the templates include each other's layouts)."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("laborsign.web", "templates"),
            jinja2.PackageLoader("laborsign.dashboard", "templates"),
            jinja2.PackageLoader("laborsign.h5", "templates"),
        ]
    )
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]))
    env.globals["labels"] = label_tables()
    env.globals["static"] = static_url
    return env


def setup_pages(app: web.Application) -> None:
    """A page door: its templates."""
    app[JINJA] = jinja_env()


def setup_static(app: web.Application) -> None:
    """The static files and the favicon, served by the site's door for both page doors."""
    app.router.add_get("/static/{build}/{path:.+}", static_file, name="static")
    app.router.add_get("/favicon.ico", favicon)


async def favicon(request: web.Request) -> web.StreamResponse:
    """Browsers ask /favicon.ico of pages that name no icon (a PDF tab, a bookmark)."""
    raise web.HTTPFound(static_url("favicon.svg"))


def static_url(name: str) -> str:
    return f"/static/{static_build()}/{name}"


async def static_file(request: web.Request) -> web.StreamResponse:
    # Another build's URL (a process not yet upgraded asked for it) is served, but not kept.
    current = request.match_info["build"] == static_build()
    headers = {"Cache-Control": IMMUTABLE if current else "no-cache"}
    name = request.match_info["path"]
    if name == LABELS_PATH:
        return web.Response(text=labels_module(), content_type="text/javascript", headers=headers)
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers=headers)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    env = request.app[JINJA]
    deps = request.app[DEPS]
    context.setdefault("dev_sms", deps.config.sms.provider == "outbox")
    # Face intent at signing is offered only while a face provider is on (read by js/signing.js).
    context.setdefault("face_intent", deps.identity.offers(Capability.FACE))
    html = env.get_template(template).render(request=request, **context)
    return web.Response(
        text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
    )


def home_entries(side: str) -> list[HomeEntry]:
    return sorted((e for e in HOME_ENTRIES if e.side == side), key=lambda e: e.order)
