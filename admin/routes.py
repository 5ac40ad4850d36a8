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
from config.store import ConfigStore
from prompts import PromptStore
from storage.catalog_import import import_catalog
from storage.catalog_index import CatalogIndex
from storage.repository import Repositories
from tools.generate_insights import generate_for_conversation

log = logging.getLogger(__name__)
MAX_CSV = 50 * 1024 * 1024


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


# -- products ---------------------------------------------------------------------

async def import_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    if request.content_length and request.content_length > MAX_CSV:
        return bad_request(413, f"CSV larger than {MAX_CSV // (1024 * 1024)} MB")
    try:
        text = (await request.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        return bad_request(400, "the CSV must be UTF-8 text")
    result = await import_catalog(deps.repos.products, deps.catalog, text, country=deps.config.current.country)
    if result["errors"]:
        return web.json_response(result, status=422)
    log.info("catalog imported: %s rows", result["imported"])
    return web.json_response(result)


async def get_product(request: web.Request) -> web.Response:
    product = await _deps(request).repos.products.get(request.match_info["sku"])
    if product is None:
        return bad_request(404, "no product with that sku")
    return web.json_response(product_json(product))


async def search_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    q = request.query.get("q", "").strip()
    if not q:
        return bad_request(400, "q is required")
    try:
        k = max(1, min(50, int(request.query.get("k", "5"))))
    except ValueError:
        return bad_request(400, "k must be an integer")
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
    conv = await deps.repos.conversations.get(request.match_info["channel"], request.match_info["chat_id"])
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
    try:
        body = await request.json()
    except ValueError:
        return bad_request(400, "malformed JSON")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return bad_request(400, "text must be a non-empty string")
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
