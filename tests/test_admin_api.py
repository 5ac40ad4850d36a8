"""The admin API over HTTP: the bearer token guards every /admin route; listings, CSV, stats, eval."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from tests.conftest import ADMIN_TOKEN, Harness

# Placeholder values used to turn a route's pattern into a concrete path.
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<regex>[^()]*)\)")
_LITERAL = re.compile(r"^[A-Za-z0-9_.-]+$")


def _concrete(resource: web.AbstractResource) -> str | None:
    """A path that `resource` matches: plain paths as they are, `{name}` filled with a sample value."""
    info = resource.get_info()
    if "path" in info:
        return info["path"]
    if "formatter" not in info:
        return None
    pattern: re.Pattern[str] = info["pattern"]
    values = {}
    for group in _GROUP.finditer(pattern.pattern):
        regex = group["regex"]
        values[group["name"]] = regex if _LITERAL.match(regex) else "sample"  # `{kind:prompts}` -> "prompts"
    path = info["formatter"].format(**values)
    assert pattern.fullmatch(path), (path, pattern.pattern)
    return path


def admin_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) of every /admin route except the static assets (which hold no data)."""
    out = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        path = _concrete(resource)
        if path is not None and (path == "/admin" or path.startswith("/admin/")):
            out.append((route.method, path))
    return out


BAD_HEADERS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"},  # the real token as a prefix
    {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},  # a prefix of the real token
    {"Authorization": ADMIN_TOKEN},  # no "Bearer"
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"X-Admin-Token": ADMIN_TOKEN},
]


async def test_every_admin_route_answers_401_without_the_token(bot: Harness) -> None:
    await bot.say("secret-chat", "quiero 2 martillos")
    routes = admin_routes(bot.daemon.app)
    paths = {p for _, p in routes}
    # The enumeration is not vacuous: it sees the routes of every admin module.
    for expected in (
        "/admin",
        "/admin/",
        "/admin/config",
        "/admin/prompts/sample",
        "/admin/knowledge",
        "/admin/conversations",
        "/admin/conversations/sample/sample/reply",
        "/admin/sales",
        "/admin/stats",
        "/admin/audit",
        "/admin/eval",
        "/admin/products/import",
    ):
        assert expected in paths, sorted(paths)
    assert len(routes) >= 40

    for method, path in routes:
        for headers in BAD_HEADERS:
            resp = await bot.client.request(method, path, headers=headers, data=b'{"text": "x"}')
            body = await resp.text()
            assert resp.status == 401, (method, path, headers, resp.status, body[:200])
            assert "Bearer" in resp.headers.get("WWW-Authenticate", ""), (method, path)
            assert "secret-chat" not in body and "Martillo" not in body, (method, path)
            if path in ("/admin", "/admin/") and method == "GET":
                assert resp.content_type == "text/html" and 'type="password"' in body  # the login page
    # Nothing was changed by the refused calls.
    assert (await bot.product("MART-16"))["stock"] == 7
    assert (await bot.client.get("/admin/audit", headers=bot.admin)).status == 200
    assert (await (await bot.client.get("/admin/audit", headers=bot.admin)).json())["items"] == []

    # With the token, every GET route gets past the guard.
    for method, path in routes:
        if method == "GET":
            resp = await bot.client.get(path, headers=bot.admin)
            assert resp.status != 401, (path, await resp.text())
    page = await bot.client.get("/admin/", headers=bot.admin)
    assert page.status == 200 and page.content_type == "text/html"

    # Static assets are the one exception, and hold no business data.
    asset = await bot.client.get("/admin/static/dashboard.js")
    assert asset.status == 200
    text = await asset.text()
    assert "secret-chat" not in text and ADMIN_TOKEN not in text


# -- listings ---------------------------------------------------------------------------


async def items(bot: Harness, path: str, **params: Any) -> dict[str, Any]:
    resp = await bot.client.get(path, params={k: str(v) for k, v in params.items()}, headers=bot.admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def csv_rows(bot: Harness, path: str) -> list[dict[str, str]]:
    resp = await bot.client.get(path, params={"format": "csv"}, headers=bot.admin)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/csv"
    text = await resp.text()
    header = text.splitlines()[0].split(",")
    assert header and all(header), header
    return list(csv.DictReader(io.StringIO(text)))


async def test_listings_filters_paging_csv_and_stats(bot: Harness) -> None:
    # Seed through the bot itself: a sale, a lead, an appointment, a handoff, insights.
    await bot.say("l-sale", "quiero 2 martillos")
    assert "Registré" in (await bot.say("l-sale", "sí"))[0]["text"]
    await bot.say("l-lead", "soy Ana Ruiz de Obras SA, ana@obras.com, necesito 100 bolsas de cemento")
    await bot.say("l-meet", "¿Me agendás una visita el martes a las 10?")
    await bot.say("l-meet", "sí")
    await bot.say("l-human", "quiero hablar con una persona")
    resp = await bot.client.post("/admin/conversations/web/l-lead/insights", headers=bot.admin)
    assert resp.status == 200, await resp.text()
    await asyncio.sleep(0.05)
    boundary = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await bot.say("l-late", "hola")
    all_chats = {"l-sale", "l-lead", "l-meet", "l-human", "l-late"}

    everything = await items(bot, "/admin/conversations")
    assert everything["total"] == 5 and {i["chat_id"] for i in everything["items"]} == all_chats
    assert all(i["last_message"]["text"] for i in everything["items"])
    assert (await items(bot, "/admin/conversations", channel="web"))["total"] == 5
    assert (await items(bot, "/admin/conversations", channel="telegram")) == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
    human = await items(bot, "/admin/conversations", status="human")
    assert human["total"] == 1 and [i["chat_id"] for i in human["items"]] == ["l-human"]
    assert human["items"][0]["needs_attention"] is True
    assert (await items(bot, "/admin/conversations", status="bot"))["total"] == 4
    found = await items(bot, "/admin/conversations", q="martillos")
    assert [i["chat_id"] for i in found["items"]] == ["l-sale"] and found["total"] == 1
    assert (await bot.client.get("/admin/conversations?status=robot", headers=bot.admin)).status == 400
    assert (await bot.client.get("/admin/conversations?since=yesterday", headers=bot.admin)).status == 400

    # since: the same instant written with any offset selects the same conversations.
    for tz in (UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))):
        late = await items(bot, "/admin/conversations", since=boundary.astimezone(tz).isoformat())
        assert [i["chat_id"] for i in late["items"]] == ["l-late"] and late["total"] == 1, tz
    assert (await items(bot, "/admin/conversations", since=boundary.isoformat().replace("+00:00", "Z")))[
        "total"
    ] == 1
    assert (await items(bot, "/admin/conversations", since=(boundary - timedelta(hours=1)).isoformat()))[
        "total"
    ] == 5
    assert (await items(bot, "/admin/conversations", since=(boundary + timedelta(hours=1)).isoformat()))[
        "total"
    ] == 0

    # Paging: limit/offset pages cover every conversation once; total is the filtered count.
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = await items(bot, "/admin/conversations", limit=2, offset=offset)
        assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == offset
        assert len(page["items"]) == (2 if offset < 4 else 1)
        seen += [i["chat_id"] for i in page["items"]]
    assert sorted(seen) == sorted(all_chats)
    beyond = await items(bot, "/admin/conversations", limit=2, offset=10)
    assert beyond["items"] == [] and beyond["total"] == 5
    bots_page = await items(bot, "/admin/conversations", status="bot", limit=3, offset=3)
    assert len(bots_page["items"]) == 1 and bots_page["total"] == 4

    # Sales, leads, appointments, insights: JSON and CSV hold the seeded rows.
    sales = await items(bot, "/admin/sales")
    assert sales["total"] == 1
    assert {k: sales["items"][0][k] for k in ("sku", "quantity", "unit_price", "total")} == {
        "sku": "MART-16",
        "quantity": 2,
        "unit_price": 12500.0,
        "total": 25000.0,
    }
    (sale_row,) = await csv_rows(bot, "/admin/sales")
    assert (sale_row["sku"], sale_row["quantity"], float(sale_row["total"])) == ("MART-16", "2", 25000.0)
    assert (await items(bot, "/admin/sales", since=(boundary + timedelta(hours=1)).isoformat()))["total"] == 0

    leads = await items(bot, "/admin/leads")
    assert leads["total"] == 1 and leads["items"][0]["email"] == "ana@obras.com"
    (lead_row,) = await csv_rows(bot, "/admin/leads")
    assert (lead_row["name"], lead_row["email"], lead_row["company"]) == (
        "Ana Ruiz",
        "ana@obras.com",
        "Obras SA",
    )

    appointments = await items(bot, "/admin/appointments")
    assert appointments["total"] == 1 and appointments["items"][0]["status"] == "booked"
    start = datetime.fromisoformat(appointments["items"][0]["start"])
    assert start.utcoffset() is not None
    local = start.astimezone(bot.daemon.config.current.tz)
    assert (local.weekday(), local.hour, local.minute) == (1, 10, 0)  # Tuesday 10:00, business time
    (appt_row,) = await csv_rows(bot, "/admin/appointments")
    assert appt_row["status"] == "booked" and datetime.fromisoformat(appt_row["start"]) == start

    insights = await items(bot, "/admin/insights")
    assert insights["total"] == 1 and insights["items"][0]["category"] in ("sale", "support", "complaint")
    (insight_row,) = await csv_rows(bot, "/admin/insights")
    assert insight_row["category"] == insights["items"][0]["category"]
    assert insight_row["conversation_id"] == str(insights["items"][0]["conversation_id"])

    conv_rows = await csv_rows(bot, "/admin/conversations")
    assert {r["chat_id"] for r in conv_rows} == all_chats

    # Stats: the seeded sale's revenue on its day.
    stats = await items(bot, "/admin/stats")
    sale_at = datetime.fromisoformat(sales["items"][0]["created_at"])
    sale_at = sale_at if sale_at.tzinfo else sale_at.replace(tzinfo=UTC)
    days = {
        sale_at.astimezone(UTC).date().isoformat(),
        sale_at.astimezone(bot.daemon.config.current.tz).date().isoformat(),
    }
    assert len(stats["sales_per_day"]) == 1
    (per_day,) = stats["sales_per_day"]
    assert per_day["day"] in days and per_day["count"] == 1 and per_day["revenue"] == 25000.0
    assert stats["totals"]["revenue"] == 25000.0 and stats["totals"]["sales"] == 1
    assert stats["totals"]["conversations"] == 5 and stats["totals"]["leads"] == 1
    assert stats["conversations_by_status"] == {"bot": 4, "human": 1}
    assert stats["totals"]["needs_attention"] == 1 and stats["currency"] == "ARS"


# -- eval ----------------------------------------------------------------------------------

EVAL_YAML = """
conversations:
  - name: compra de martillos
    turns: ["quiero 2 martillos", "sí"]
    expect:
      sale: {sku: MART-16, quantity: 2}
      reply_contains: ["Registré"]
"""


async def test_eval_plays_a_purchase_on_a_throwaway_copy(bot: Harness) -> None:
    resp = await bot.client.post(
        "/admin/eval",
        data=EVAL_YAML.encode(),
        headers={**bot.admin, "Content-Type": "application/yaml", "X-Admin-User": "ana"},
    )
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert (report["passed"], report["failed"]) == (1, 0), report
    assert report["results"][0]["passed"] is True and report["results"][0]["name"] == "compra de martillos"
    # The live data is untouched: no sale, no stock change, no conversation.
    assert (await bot.product("MART-16"))["stock"] == 7
    assert (await items(bot, "/admin/sales"))["total"] == 0
    assert (await items(bot, "/admin/conversations"))["total"] == 0
    audit = (await items(bot, "/admin/audit"))["items"]
    assert [(a["actor"], a["action"]) for a in audit] == [("ana", "eval.run")]

    bad = await bot.client.post(
        "/admin/eval",
        data=b"conversations: [{name: x, turns: [hola], expect: {salee: true}}]",
        headers=bot.admin,
    )
    assert bad.status == 422 and "salee" in (await bad.json())["error"]
