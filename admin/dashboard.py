"""The owner's dashboard: one static page that logs in with the admin token and calls the JSON API.

GET /admin and /admin/ always send the whole page. Without a valid bearer (a
browser navigation never has one) the status is 401, so no client mistakes the
page for an authorised answer; the page itself asks for the token, keeps it in
sessionStorage and sends it on every API call. Assets under /admin/static/
hold no business data and are served without a token; the auth middleware lets
these paths reach the handlers here (admin.auth.PAGE_PATHS, STATIC_PREFIX).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from admin.auth import token_matches

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE = STATIC_DIR / "dashboard.html"
STATIC_PREFIX = "/admin/static"

# The page runs no inline script or style and talks only to this origin.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page_handler(token: str):
    async def page(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(PAGE.read_bytes)
        authorised = token_matches(request.headers.get("Authorization"), token)
        headers = dict(HEADERS)
        if not authorised:
            headers["WWW-Authenticate"] = 'Bearer realm="mostrador-admin"'
        return web.Response(
            body=body, status=200 if authorised else 401, content_type="text/html", charset="utf-8",
            headers=headers,
        )

    return page


def register(app: web.Application, token: str) -> None:
    """GET /admin, /admin/ (the page) and /admin/static/* (its script and style sheet)."""
    page = _page_handler(token)
    app.router.add_get("/admin", page)
    app.router.add_get("/admin/", page)
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, append_version=False)
