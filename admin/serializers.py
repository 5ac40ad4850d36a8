"""JSON shapes of the admin API (one place, shared by routes and exports)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from storage.models import Appointment, Conversation, Insight, Lead, Message, Sale
from storage.repository import Repositories


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def product_json(p) -> dict[str, Any]:
    return {
        "sku": p.sku, "name": p.name, "description": p.description, "category": p.category,
        "price": float(p.price), "stock": p.stock, "updated_at": iso(p.updated_at),
    }


def sale_json(s: Sale) -> dict[str, Any]:
    return {
        "id": s.id, "order_id": s.order_id, "order": s.order_ref or s.order_id, "sku": s.sku, "name": s.product_name, "quantity": s.quantity,
        "unit_price": float(s.unit_price), "total": float(s.total), "currency": s.currency,
        "conversation_id": s.conversation_id, "created_at": iso(s.created_at),
    }


def message_json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "direction": m.direction, "author": m.author, "kind": m.kind, "text": m.text,
        "created_at": iso(m.created_at), "channel_message_id": m.channel_message_id,
        "delivery_status": m.delivery_status, "payload": m.payload, "error": m.error,
    }


def appointment_json(a: Appointment, tz: tzinfo | None = None) -> dict[str, Any]:
    """Times with their offset; in the business time zone when `tz` is given."""
    start, end = (a.start.astimezone(tz), a.end.astimezone(tz)) if tz else (a.start, a.end)
    return {
        "id": a.id, "start": iso(start), "end": iso(end), "status": a.status, "topic": a.topic,
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


async def conversation_detail(repos: Repositories, conv: Conversation, tz: tzinfo | None = None) -> dict[str, Any]:
    return {
        **conversation_json(conv),
        "messages": [message_json(m) for m in await repos.messages.list(conv.id)],
        "sales": [sale_json(s) for s in await repos.sales.list(conversation_id=conv.id)],
        "appointments": [appointment_json(a, tz) for a in await repos.appointments.list(conversation_id=conv.id)],
        "lead": lead_json(await repos.leads.get_for_conversation(conv.id)),
        "insights": insight_json(await repos.insights.get(conv.id)),
    }
