"""Bearer-token auth for /admin (constant-time compare), the token's origin, and who is acting."""

from __future__ import annotations

import hmac
import os
import re
import secrets
from pathlib import Path

from aiohttp import web

ADMIN_PREFIX = "/admin"
PAGE_PATHS = ("/admin", "/admin/")
STATIC_PREFIX = "/admin/static/"
ACTOR_HEADER = "X-Admin-User"
MAX_ACTOR = 120
# Printable text only: a header's invalid UTF-8 arrives as lone surrogates, which no database stores.
_ACTOR = re.compile(rf"[^\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_ACTOR}}}")


def load_or_create_token(configured: str | None, data_dir: Path) -> tuple[str, bool]:
    """The configured token, else one generated once into the data dir (0600).

    Returns (token, created_now) so the caller can print a new token once.
    """
    if configured:
        return configured, False
    path = data_dir / "admin_token"
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    token = secrets.token_urlsafe(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    return token, True


def token_matches(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token.encode())


def auth_middleware(token: str) -> web.middleware:
    @web.middleware
    async def middleware(request: web.Request, handler):
        path = request.path
        if path in PAGE_PATHS or path.startswith(STATIC_PREFIX):
            # The dashboard page answers 401 itself (with its login form) and holds no data;
            # its static assets hold none either. Every API call the page makes needs the token.
            return await handler(request)
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            if not token_matches(request.headers.get("Authorization"), token):
                return web.json_response(
                    {"error": "missing or invalid bearer token"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="mostrador-admin"'},
                )
            who = request.headers.get(ACTOR_HEADER)
            if who is not None and who.strip() and not _ACTOR.fullmatch(who.strip()):
                # Refused before the handler changes anything, so no edit goes unattributed.
                return web.json_response(
                    {"error": f"{ACTOR_HEADER} must be at most {MAX_ACTOR} printable characters"}, status=400
                )
        return await handler(request)

    return middleware
