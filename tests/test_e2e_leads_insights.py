"""Issue #4, leads and insights end to end over HTTP (offline model, real storage).

A contractor asking for a bulk quote with full contact data becomes a
qualified lead and flags the conversation for the owner; a curious browser
does not. Insights, (re)generated through the admin API, classify a
complaint and a purchase and show up in the conversation detail.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness

THRESHOLD = 60  # config lead.threshold (default)
CONTRACTOR = (
    "Hola, soy Carlos Gómez de Constructora del Sur. Necesito cotizar 200 bolsas de cemento para la "
    "semana que viene, tenemos presupuesto de 2 millones. Mi mail es carlos@constructoradelsur.com.ar "
    "y mi cel 11 5555-1234"
)


async def generate_insights(bot: Harness, chat_id: str) -> dict[str, Any]:
    resp = await bot.client.post(f"/admin/conversations/web/{chat_id}/insights", headers=bot.admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_contractor_quote_is_a_qualified_lead_that_needs_attention(bot: Harness) -> None:
    replies = await bot.say("lead-1", CONTRACTOR)
    assert replies and replies[-1]["text"]
    detail = await bot.conversation("lead-1")
    lead = detail["lead"]
    assert lead is not None
    assert lead["name"] == "Carlos Gómez"
    assert lead["company"] == "Constructora del Sur"
    assert lead["email"] == "carlos@constructoradelsur.com.ar"
    assert lead["phone"] == "+541155551234"  # validated and stored as E.164 for AR
    assert "cemento" in (lead["need"] or "")
    assert lead["budget"] and "2 millones" in lead["budget"]
    assert lead["score"] >= THRESHOLD and lead["qualified"] is True
    assert detail["needs_attention"] is True
    assert detail["attention_reason"]


async def test_curious_browser_is_not_a_qualified_lead(bot: Harness) -> None:
    for text in ("hola, qué venden?", "tenés martillos?"):
        assert await bot.say("browse-1", text)
    detail = await bot.conversation("browse-1")
    assert detail["lead"] is None or detail["lead"]["score"] < THRESHOLD
    assert detail["needs_attention"] is False


async def test_complaint_insights_are_generated_and_shown(bot: Harness) -> None:
    await bot.say("complaint-1", "el taladro que compré llegó roto")
    await bot.say("complaint-1", "pésima atención, quiero mi plata")
    insight = await generate_insights(bot, "complaint-1")
    assert insight["category"] == "complaint"
    assert insight["sentiment"] == "negative"
    assert 0 < insight["confidence"] <= 1
    assert insight["summary"].strip()

    shown = (await bot.conversation("complaint-1"))["insights"]
    assert shown is not None
    assert (shown["category"], shown["sentiment"]) == ("complaint", "negative")
    assert shown["summary"] == insight["summary"]
    # both customer messages were kept even though the bot handed the complaint over
    detail = await bot.conversation("complaint-1")
    assert [m["text"] for m in detail["messages"] if m["direction"] == "in"] == [
        "el taladro que compré llegó roto",
        "pésima atención, quiero mi plata",
    ]


async def test_purchase_insights_are_a_sale(bot: Harness) -> None:
    await bot.say("buy-1", "quiero 2 martillos")
    await bot.say("buy-1", "sí")
    detail = await bot.conversation("buy-1")
    assert [(s["sku"], s["quantity"]) for s in detail["sales"]] == [("MART-16", 2)]

    insight = await generate_insights(bot, "buy-1")
    assert insight["category"] == "sale"
    assert insight["sentiment"] != "negative"
    assert insight["summary"].strip()
    assert (await bot.conversation("buy-1"))["insights"]["category"] == "sale"


async def test_insights_of_an_unknown_conversation_is_404(bot: Harness) -> None:
    resp = await bot.client.post("/admin/conversations/web/nobody/insights", headers=bot.admin)
    assert resp.status == 404
    resp = await bot.client.post("/admin/conversations/web/nobody/insights")
    assert resp.status == 401
