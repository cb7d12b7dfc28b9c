"""Security headers on every response the service writes: pages, the JSON API, webhooks,
static files and error pages alike.

Pages run only the service's own static modules and style sheets: no inline script, no inline
style (not even `style="…"` attributes), so an injected fragment of markup can neither run nor
restyle anything. Images may also be `data:` URLs (a drawn signature before it is sent, the
captcha). Nothing may frame a page: signing links carry tokens, and a framed signing page could
be clickjacked. No response sends a Referer onwards, for the same tokens."""

from __future__ import annotations

from aiohttp import web, web_response

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# JSON, XML, downloads: nothing in them may run, load or be framed.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
# A PDF or a picture opened in a tab is shown by the browser's own viewer, whose styling a
# default-src 'none' blocks; neither can carry script (SVG can, so it is not among them).
VIEWER_POLICY = "frame-ancestors 'none'"
SERVER_NAME = "LaborSign"
HSTS = "max-age=31536000"

_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Server": SERVER_NAME,
}


def setup_security(app: web.Application, *, https: bool) -> None:
    """`https`: the service is reached over HTTPS only (`server.secure_cookies`), so browsers
    are told to keep to it."""
    # aiohttp has no setting for its Server header and writes a few answers itself before any
    # application code runs (a malformed request line, for one); those would name its version.
    web_response.SERVER_SOFTWARE = SERVER_NAME

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.update(_FIXED)
        headers["Content-Security-Policy"] = policy(response.content_type or "")
        if https:
            headers["Strict-Transport-Security"] = HSTS

    app.on_response_prepare.append(add_headers)


def policy(content_type: str) -> str:
    if content_type == "text/html":
        return PAGE_POLICY
    if content_type == "application/pdf" or (content_type.startswith("image/") and "svg" not in content_type):
        return VIEWER_POLICY
    return OTHER_POLICY
