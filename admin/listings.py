"""Read-only admin listings (sales, leads, appointments, insights, conversations), CSV export and stats."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, tzinfo
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from admin.routes import DEPS, bad_request, query_text
from admin.serializers import (
    appointment_json,
    conversation_json,
    insight_json,
    lead_json,
    message_json,
    sale_json,
)
from channels.http_input import http_error, query_int
from storage.models import Conversation, Insight, Lead, Message, Sale

SCORE_BUCKETS = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))


def _since(request: web.Request) -> datetime | None:
    raw = request.query.get("since")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        # Stored times are UTC; an offset must be converted, not dropped (SQLite compares the text).
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise http_error(web.HTTPBadRequest, "since must be an ISO-8601 date or datetime from year 1 to 9999") from None


def _respond(request: web.Request, name: str, items: list[dict[str, Any]]) -> web.Response:
    if request.query.get("format") != "csv":
        return web.json_response({"items": items, "total": len(items)})
    columns: list[str] = []
    for item in items:
        columns.extend(k for k in item if k not in columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or ["id"], extrasaction="ignore")
    writer.writeheader()
    for item in items:
        writer.writerow({k: _cell(v) for k, v in item.items()})
    return web.Response(
        text=buf.getvalue(), content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet never runs as a formula (OWASP: prefix a quote).

    Customer-controlled text (names, emails, needs, summaries, product names)
    can start with `=`, `+`, `-`, `@`, a tab or a carriage return; numbers
    are written as numbers.
    """
    if isinstance(value, dict | list):
        value = str(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def list_sales(request: web.Request) -> web.Response:
    sales = await request.app[DEPS].repos.sales.list(since=_since(request))
    return _respond(request, "sales", [sale_json(s) for s in sales])


async def list_leads(request: web.Request) -> web.Response:
    min_score = query_int(request, "min_score", 0, 0, 100) if request.query.get("min_score") else None
    qualified = {"true": True, "false": False}.get(request.query.get("qualified", "").lower())
    leads = await request.app[DEPS].repos.leads.list(min_score=min_score, qualified=qualified)
    return _respond(request, "leads", [lead_json(x) for x in leads])


async def list_appointments(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    items = await request.app[DEPS].repos.appointments.list(status=status, since=_since(request))
    return _respond(request, "appointments", [appointment_json(a, request.app[DEPS].config.current.tz) for a in items])


async def list_insights(request: web.Request) -> web.Response:
    items = await request.app[DEPS].repos.insights.list(
        category=request.query.get("category") or None, sentiment=request.query.get("sentiment") or None
    )
    return _respond(request, "insights", [{"conversation_id": i.conversation_id, **insight_json(i)} for i in items])


async def list_conversations(request: web.Request) -> web.Response:
    repos = request.app[DEPS].repos
    status = request.query.get("status") or None
    if status not in (None, "bot", "human"):
        return bad_request(400, "status must be bot or human")
    limit, offset = query_int(request, "limit", 50, 1, 500), query_int(request, "offset", 0, 0, 10**9)
    filters = dict(channel=request.query.get("channel") or None, status=status, since=_since(request),
                   text=query_text(request, "q") or None)
    convs = await repos.conversations.list(**filters, limit=limit, offset=offset)
    total = await repos.conversations.count(**filters)
    items = []
    async with repos.db.session() as s:
        for c in convs:
            last = (await s.execute(
                select(Message).where(Message.conversation_id == c.id).order_by(Message.id.desc()).limit(1)
            )).scalar_one_or_none()
            items.append({**conversation_json(c), "last_message": None if last is None else {
                k: v for k, v in message_json(last).items() if k in ("text", "direction", "author", "created_at")
            }})
    if request.query.get("format") == "csv":
        return _respond(request, "conversations", [{k: v for k, v in i.items() if k != "last_message"} for i in items])
    return web.json_response({"items": items, "total": total, "limit": limit, "offset": offset})


async def stats(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    repos = deps.repos
    bid = repos.business_id
    async with repos.db.session() as s:
        sale_rows = (await s.execute(select(Sale.created_at, Sale.total).where(Sale.business_id == bid))).all()
        channels = dict((await s.execute(
            select(Conversation.channel, func.count()).where(Conversation.business_id == bid).group_by(Conversation.channel)
        )).all())
        statuses = dict((await s.execute(
            select(Conversation.status, func.count()).where(Conversation.business_id == bid).group_by(Conversation.status)
        )).all())
        attention = (await s.execute(
            select(func.count()).select_from(Conversation).where(
                Conversation.business_id == bid, Conversation.needs_attention.is_(True))
        )).scalar_one()
        scores = [row[0] for row in (await s.execute(select(Lead.score).where(Lead.business_id == bid))).all()]
        qualified = (await s.execute(
            select(func.count()).select_from(Lead).where(Lead.business_id == bid, Lead.qualified.is_(True))
        )).scalar_one()
        insight_rows = (await s.execute(
            select(Insight.category, Insight.sentiment).where(Insight.business_id == bid)
        )).all()
    categories = Counter({"sale": 0, "support": 0, "complaint": 0})
    sentiments = Counter({"positive": 0, "neutral": 0, "negative": 0})
    for category, sentiment in insight_rows:
        categories[category] += 1
        sentiments[sentiment] += 1
    per_day = _per_business_day(sale_rows, deps.config.current.tz)
    revenue = sum(float(r[2] or 0) for r in per_day)
    return web.json_response({
        "sales_per_day": [{"day": str(d), "count": n, "revenue": float(total or 0)} for d, n, total in per_day],
        "conversations_by_channel": channels,
        "conversations_by_status": {"bot": statuses.get("bot", 0), "human": statuses.get("human", 0)},
        "leads_by_score": [
            {"bucket": f"{lo}-{hi}", "count": sum(1 for x in scores if lo <= x <= hi)} for lo, hi in SCORE_BUCKETS
        ],
        "categories": dict(categories),
        "sentiments": dict(sentiments),
        "totals": {
            "revenue": revenue, "sales": sum(r[1] for r in per_day), "conversations": sum(channels.values()),
            "leads": len(scores), "qualified_leads": qualified, "needs_attention": attention,
        },
        "currency": deps.config.current.currency,
    })


def _per_business_day(rows: list[Any], tz: tzinfo) -> list[tuple[str, int, float]]:
    """Sales counted on the owner's calendar day (business time zone), oldest first."""
    days: dict[str, list[float]] = {}
    for created_at, total in rows:
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        day = created_at.astimezone(tz).date().isoformat()
        days.setdefault(day, []).append(float(total or 0))
    return [(day, len(totals), sum(totals)) for day, totals in sorted(days.items())]


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/conversations", list_conversations)
    r.add_get("/admin/sales", list_sales)
    r.add_get("/admin/leads", list_leads)
    r.add_get("/admin/appointments", list_appointments)
    r.add_get("/admin/insights", list_insights)
    r.add_get("/admin/stats", stats)
