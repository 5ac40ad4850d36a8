"""Admin API routes (JSON unless noted), all behind the bearer token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from agent.runtime import AgentRuntime
from config.store import ConfigStore
from prompts import PromptStore
from storage.catalog_import import import_catalog
from storage.catalog_index import CatalogIndex
from storage.models import Appointment, Conversation, Insight, Lead, Message, Sale
from storage.repository import Repositories

log = logging.getLogger(__name__)
MAX_CSV = 50 * 1024 * 1024


@dataclass
class AdminDeps:
    repos: Repositories
    catalog: CatalogIndex
    runtime: AgentRuntime
    config: ConfigStore
    prompts: PromptStore


DEPS = web.AppKey("admin_deps", AdminDeps)


def _deps(request: web.Request) -> AdminDeps:
    return request.app[DEPS]


def _bad(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def product_json(p) -> dict[str, Any]:
    return {
        "sku": p.sku, "name": p.name, "description": p.description, "category": p.category,
        "price": float(p.price), "stock": p.stock, "updated_at": iso(p.updated_at),
    }


def sale_json(s: Sale) -> dict[str, Any]:
    return {
        "id": s.id, "order_id": s.order_id, "sku": s.sku, "name": s.product_name, "quantity": s.quantity,
        "unit_price": float(s.unit_price), "total": float(s.total), "currency": s.currency,
        "conversation_id": s.conversation_id, "created_at": iso(s.created_at),
    }


def message_json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "direction": m.direction, "author": m.author, "kind": m.kind, "text": m.text,
        "created_at": iso(m.created_at), "channel_message_id": m.channel_message_id,
        "delivery_status": m.delivery_status, "payload": m.payload, "error": m.error,
    }


def appointment_json(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.id, "start": iso(a.start), "end": iso(a.end), "status": a.status, "topic": a.topic,
        "attendee_name": a.attendee_name, "attendee_email": a.attendee_email, "calendar": a.calendar,
        "conversation_id": a.conversation_id,
    }


def lead_json(lead: Lead | None) -> dict[str, Any] | None:
    if lead is None:
        return None
    return {
        "name": lead.name, "email": lead.email, "phone": lead.phone, "company": lead.company,
        "need": lead.need, "budget": lead.budget, "timeline": lead.timeline, "authority": lead.authority,
        "score": lead.score, "breakdown": lead.breakdown, "qualified": lead.qualified,
        "conversation_id": lead.conversation_id, "updated_at": iso(lead.updated_at),
    }


def insight_json(i: Insight | None) -> dict[str, Any] | None:
    if i is None:
        return None
    return {**(i.data or {}), "category": i.category, "confidence": i.confidence, "sentiment": i.sentiment,
            "source": i.source, "created_at": iso(i.created_at)}


def conversation_json(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id, "channel": c.channel, "chat_id": c.chat_id, "status": c.status, "language": c.language,
        "customer_name": c.customer_name, "needs_attention": c.needs_attention,
        "attention_reason": c.attention_reason, "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
    }


async def conversation_detail(repos: Repositories, conv: Conversation) -> dict[str, Any]:
    async with repos.db.session() as s:
        appointments = (await s.execute(
            select(Appointment).where(Appointment.conversation_id == conv.id).order_by(Appointment.start)
        )).scalars()
        lead = (await s.execute(select(Lead).where(Lead.conversation_id == conv.id))).scalar_one_or_none()
        insight = (await s.execute(select(Insight).where(Insight.conversation_id == conv.id))).scalar_one_or_none()
        appointments = list(appointments)
    return {
        **conversation_json(conv),
        "messages": [message_json(m) for m in await repos.messages.list(conv.id)],
        "sales": [sale_json(s) for s in await repos.sales.list(conversation_id=conv.id)],
        "appointments": [appointment_json(a) for a in appointments],
        "lead": lead_json(lead),
        "insights": insight_json(insight),
    }


# -- products ---------------------------------------------------------------------

async def import_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    if request.content_length and request.content_length > MAX_CSV:
        return _bad(413, f"CSV larger than {MAX_CSV // (1024 * 1024)} MB")
    try:
        text = (await request.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        return _bad(400, "the CSV must be UTF-8 text")
    result = await import_catalog(deps.repos.products, deps.catalog, text)
    if result["errors"]:
        return web.json_response(result, status=422)
    log.info("catalog imported: %s rows", result["imported"])
    return web.json_response(result)


async def get_product(request: web.Request) -> web.Response:
    product = await _deps(request).repos.products.get(request.match_info["sku"])
    if product is None:
        return _bad(404, "no product with that sku")
    return web.json_response(product_json(product))


async def search_products(request: web.Request) -> web.Response:
    deps = _deps(request)
    q = request.query.get("q", "").strip()
    if not q:
        return _bad(400, "q is required")
    try:
        k = max(1, min(50, int(request.query.get("k", "5"))))
    except ValueError:
        return _bad(400, "k must be an integer")
    hits = await deps.catalog.search(q, k)
    products = await deps.repos.products.get_many(h.sku for h in hits)
    return web.json_response([
        {"sku": h.sku, "name": products[h.sku].name, "price": float(products[h.sku].price),
         "stock": products[h.sku].stock, "score": round(h.score, 4)}
        for h in hits if h.sku in products
    ])


# -- conversations ----------------------------------------------------------------

async def get_conversation(request: web.Request) -> web.Response:
    deps = _deps(request)
    conv = await deps.repos.conversations.get(request.match_info["channel"], request.match_info["chat_id"])
    if conv is None:
        return _bad(404, "no such conversation")
    return web.json_response(await conversation_detail(deps.repos, conv))


def register(app: web.Application, deps: AdminDeps) -> None:
    app[DEPS] = deps
    r = app.router
    r.add_post("/admin/products/import", import_products)
    r.add_get("/admin/products/search", search_products)
    r.add_get("/admin/products/{sku}", get_product)
    r.add_get("/admin/conversations/{channel}/{chat_id}", get_conversation)
