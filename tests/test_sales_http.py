"""The sale as real state, over HTTP: offer clamped to stock, only a yes commits."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Sale, Turn
from tests.conftest import Harness


async def sales_count(bot: Harness) -> int:
    async with bot.daemon.services.repos.db.session() as s:
        return (await s.execute(select(func.count()).select_from(Sale))).scalar_one()


async def test_purchase_clamped_to_stock_then_confirmed(bot: Harness) -> None:
    replies = await bot.say("c1", "Quiero comprar 10 martillos")
    offer = replies[-1]
    assert "7" in offer["text"] and "Martillo" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["confirm", "decline"]
    assert await sales_count(bot) == 0  # an offer is not a sale

    replies = await bot.say("c1", "Sí")
    assert "Registré" in replies[0]["text"] or "registr" in replies[0]["text"].lower()
    detail = await bot.conversation("c1")
    assert [(s["sku"], s["quantity"], s["unit_price"]) for s in detail["sales"]] == [("MART-16", 7, 12500.0)]
    assert (await bot.product("MART-16"))["stock"] == 0


async def test_declined_offer_registers_nothing(bot: Harness) -> None:
    await bot.say("c2", "quiero 2 martillos")
    replies = await bot.say("c2", "no, gracias")
    assert replies and "no registré" in replies[0]["text"].lower()
    assert await sales_count(bot) == 0
    assert (await bot.product("MART-16"))["stock"] == 7


async def test_confirm_button_payload_commits(bot: Harness) -> None:
    await bot.say("c3", "I want 2 hammers")
    replies = await bot.say("c3", "Yes", button_payload="confirm")
    assert "registered" in replies[0]["text"].lower()
    assert (await bot.product("MART-16"))["stock"] == 5


async def test_price_comes_from_the_database(bot: Harness) -> None:
    replies = await bot.say("c4", "quiero 2 martillos a 10 pesos cada uno")
    assert "$12.500" in replies[-1]["text"] and "$25.000" in replies[-1]["text"]


async def test_twenty_customers_race_for_five_units(bot: Harness) -> None:
    chats = [f"race-{i}" for i in range(20)]
    offers = await asyncio.gather(*(bot.say(c, "quiero 1 bolsa de cemento") for c in chats))
    assert all(o[-1].get("buttons") for o in offers), offers
    await asyncio.gather(*(bot.say(c, "sí") for c in chats))
    async with bot.daemon.services.repos.db.session() as s:
        sold = (await s.execute(select(func.coalesce(func.sum(Sale.quantity), 0)))).scalar_one()
    assert sold == 5
    assert (await bot.product("CEM-50"))["stock"] == 0


async def test_same_message_id_is_processed_once(bot: Harness) -> None:
    first = await bot.say("dup", "hola, tenés taladros?", message_id="m-1")
    second = await bot.say("dup", "hola, tenés taladros?", message_id="m-1")
    assert first == second and first
    async with bot.daemon.services.repos.db.session() as s:
        turns = (await s.execute(select(func.count()).select_from(Turn))).scalar_one()
    assert turns == 1
    detail = await bot.conversation("dup")
    assert [m["direction"] for m in detail["messages"]].count("in") == 1


async def test_concurrent_messages_to_one_conversation_never_interleave(bot: Harness) -> None:
    texts = [f"tenés {w}?" for w in ("martillos", "destornilladores", "taladros", "cemento", "clavos", "pintura")]
    results = await asyncio.gather(*(bot.say("burst", t, message_id=f"b-{i}") for i, t in enumerate(texts)))
    assert all(results)
    messages = (await bot.conversation("burst"))["messages"]
    assert len([m for m in messages if m["direction"] == "in"]) == 6
    # Strictly in, out(s), in, out(s)...: every reply follows its own inbound message.
    current_in = None
    for m in messages:
        if m["direction"] == "in":
            current_in = m["id"]
        else:
            assert current_in is not None
    async with bot.daemon.services.repos.db.session() as s:
        turns = list((await s.execute(select(Turn).order_by(Turn.id))).scalars())
    assert len(turns) == 6
    # Turn records are written in the order inbound messages were stored: one at a time.
    assert [t.inbound_message_id for t in turns] == sorted(t.inbound_message_id for t in turns)


async def test_quantity_change_while_offer_pending(bot: Harness) -> None:
    await bot.say("qc", "quiero 2 martillos")
    replies = await bot.say("qc", "mejor 3")
    assert "3 × Martillo" in replies[-1]["text"]
    await bot.say("qc", "dale")
    assert (await bot.product("MART-16"))["stock"] == 4


HAMMERS = """sku,name,description,category,price,stock
MAR-BOLA,Martillo de bola 24 oz,Martillo de mecánico con cabeza de bola,Herramientas,14200.00,0
MAR-CARP,Martillo carpintero 16 oz,Martillo de uña con mango de fibra,Herramientas,12500.00,18
MAR-GOMA,Martillo de goma,Maza de goma con mango de madera,Herramientas,8900.00,12
"""


async def test_several_hammers_the_one_offered_is_in_stock_and_picks_follow_the_list(bot: Harness) -> None:
    """Equally named products: the offer is for one that can be sold; "el primero" means the
    first product of the list the customer was shown, not the sold-out one they asked for."""
    assert (await bot.import_csv(HAMMERS))["status"] == 200
    offer = (await bot.say("h1", "quiero 2 martillos"))[-1]
    assert "buttons" in offer and "bola" not in offer["text"]
    assert any(name in offer["text"] for name in ("carpintero", "goma", "Martillo carpintero 16 oz"))
    await bot.say("h1", "no")

    shown = (await bot.say("h2", "quiero 2 martillos de bola"))[-1]["text"]
    assert "sin stock" in shown
    listed = [line for line in shown.splitlines() if line.startswith("•")]
    assert listed and "bola" not in " ".join(listed)
    first = listed[0].lstrip("• ").split(":")[0].strip()
    offer = (await bot.say("h2", "el primero"))[-1]
    assert "buttons" in offer and first in offer["text"], (listed, offer["text"])
