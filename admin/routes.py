"""Admin API routes (JSON unless noted), all behind the bearer token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from admin.revisions import RevisionStore
from admin.serializers import conversation_detail, insight_json, message_json, product_json
from agent.metrics import HANDOFFS
from agent.runtime import AgentRuntime
from channels.http_input import http_error, query_int, read_body, read_json
from config.store import ConfigStore
from prompts import PromptStore
from storage.catalog_import import import_catalog
from storage.catalog_index import CatalogIndex
from storage.repository import Repositories
from tools.generate_insights import generate_for_conversation

log = logging.getLogger(__name__)
MAX_CSV = 50 * 1024 * 1024
CSV_BODY_TIMEOUT_S = 300.0  # a big catalog over a slow uplink; other bodies get the app's deadline
MAX_JSON = 64 * 1024
MAX_SKU = 64  # as stored (storage.models.Product.sku)
MAX_CHAT_ID = 128  # as stored (storage.models.Conversation.chat_id)
MAX_QUERY = 200


@dataclass
class AdminDeps:
    repos: Repositories
    catalog: CatalogIndex
    runtime: AgentRuntime
    config: ConfigStore
    prompts: PromptStore
    revisions: RevisionStore
    settings: Any


DEPS = web.AppKey("admin_deps", AdminDeps)


def _deps(request: web.Request) -> AdminDeps:
    return request.app[DEPS]


def bad_request(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def path_param(request: web.Request, name: str, max_len: int) -> str:
    """A path segment no longer than what is stored, else 400 with the reason."""
    value = request.match_info[name]
    if len(value) > max_len:
        raise http_error(web.HTTPBadRequest, f"{name} longer than {max_len} characters")
    return value


def query_text(request: web.Request, name: str, max_len: int = MAX_QUERY) -> str:
    """A text query parameter (stripped), at most `max_len` characters, else 400."""
    value = request.query.get(name, "").strip()
    if len(value) > max_len:
        raise http_error(web.HTTPBadRequest, f"{name} longer than {max_len} characters")
    return value


# -- products ---------------------------------------------------------------------

async def import_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    body = await read_body(request, MAX_CSV, within_s=CSV_BODY_TIMEOUT_S)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return bad_request(400, "the CSV must be UTF-8 text")
    if "\x00" in text:
        return bad_request(400, "the CSV must be text (it holds NUL characters)")
    result = await import_catalog(deps.repos.products, deps.catalog, text, country=deps.config.current.country)
    if result["errors"]:
        return web.json_response(result, status=422)
    log.info("catalog imported: %s rows", result["imported"])
    return web.json_response(result)


async def get_product(request: web.Request) -> web.Response:
    product = await _deps(request).repos.products.get(path_param(request, "sku", MAX_SKU))
    if product is None:
        return bad_request(404, "no product with that sku")
    return web.json_response(product_json(product))


async def search_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    q = query_text(request, "q")
    if not q:
        return bad_request(400, "q is required")
    k = query_int(request, "k", 5, 1, 50)
    hits = await deps.catalog.search(q, k)
    products = await deps.repos.products.get_many(h.sku for h in hits)
    return web.json_response([
        {"sku": h.sku, "name": products[h.sku].name, "price": float(products[h.sku].price),
         "stock": products[h.sku].stock, "score": round(h.score, 4)}
        for h in hits if h.sku in products
    ])


# -- conversations ----------------------------------------------------------------

async def get_conversation(request: web.Request) -> web.Response:
    deps, conv = await _conversation(request)
    return web.json_response(await conversation_detail(deps.repos, conv, deps.config.current.tz))


async def _conversation(request: web.Request):
    deps = _deps(request)
    channel, chat_id = path_param(request, "channel", 32), path_param(request, "chat_id", MAX_CHAT_ID)
    conv = await deps.repos.conversations.get(channel, chat_id)
    if conv is None:
        raise web.HTTPNotFound(text='{"error": "no such conversation"}', content_type="application/json")
    return deps, conv


def actor(request: web.Request) -> str:
    """Who made an admin change: the optional X-Admin-User header, else "admin"."""
    return (request.headers.get("X-Admin-User") or "admin").strip()[:120] or "admin"


async def handoff(request: web.Request) -> web.Response:
    deps, conv = await _conversation(request)
    await deps.repos.conversations.update(conv.id, status="human", needs_attention=True,
                                          attention_reason="taken over by the owner")
    HANDOFFS.labels("owner").inc()
    await deps.revisions.audit(actor(request), "conversation.handoff", f"{conv.channel}/{conv.chat_id}")
    return web.json_response(await conversation_detail(
        deps.repos, await deps.repos.conversations.by_id(conv.id), deps.config.current.tz
    ))


async def resume(request: web.Request) -> web.Response:
    deps, conv = await _conversation(request)
    await deps.repos.conversations.update(conv.id, status="bot", needs_attention=False, attention_reason=None)
    await deps.revisions.audit(actor(request), "conversation.resume", f"{conv.channel}/{conv.chat_id}")
    return web.json_response(await conversation_detail(
        deps.repos, await deps.repos.conversations.by_id(conv.id), deps.config.current.tz
    ))


async def reply(request: web.Request) -> web.Response:
    deps, conv = await _conversation(request)
    body = await read_json(request, MAX_JSON)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return bad_request(400, "text must be a non-empty string")
    if "\x00" in text:
        return bad_request(400, "text must not hold NUL characters")
    if len(text) > 4000:
        return bad_request(413, "text longer than 4000 characters")
    stored = await deps.runtime.human_reply(conv, text.strip())
    await deps.revisions.audit(actor(request), "conversation.reply", f"{conv.channel}/{conv.chat_id}")
    return web.json_response({"message": message_json(stored)})


async def insights(request: web.Request) -> web.Response:
    deps, conv = await _conversation(request)
    model = deps.runtime.services.extra.get("insights_model")
    await generate_for_conversation(deps.runtime.services, conv.id, model=model)
    return web.json_response(insight_json(await deps.repos.insights.get(conv.id)))


def register(app: web.Application, deps: AdminDeps) -> None:
    app[DEPS] = deps
    r = app.router
    r.add_post("/admin/products/import", import_products)
    r.add_get("/admin/products/search", search_products)
    r.add_get("/admin/products/{sku}", get_product)
    r.add_get("/admin/conversations/{channel}/{chat_id}", get_conversation)
    r.add_post("/admin/conversations/{channel}/{chat_id}/handoff", handoff)
    r.add_post("/admin/conversations/{channel}/{chat_id}/resume", resume)
    r.add_post("/admin/conversations/{channel}/{chat_id}/reply", reply)
    r.add_post("/admin/conversations/{channel}/{chat_id}/insights", insights)
