"""Orders of several lines with the built-in model, over HTTP: one message with several products,
a product added to the open order, a quantity changed; one yes commits every line in one transaction."""

from __future__ import annotations

from tests.conftest import Harness


async def test_several_products_in_one_message_make_one_order(bot: Harness) -> None:
    offer = await bot.say("multi-1", "hola, quiero 2 martillos y 3 destornilladores phillips")
    text = offer[-1]["text"]
    assert "2 × Martillo carpintero 16 oz" in text and "3 × Destornillador Phillips PH2" in text
    assert offer[-1]["buttons"]
    assert (await bot.product("MART-16"))["stock"] == 7
    done = await bot.say("multi-1", "dale, confirmo")
    assert "Registré" in done[0]["text"]
    sales = (await bot.conversation("multi-1"))["sales"]
    assert sorted((s["sku"], s["quantity"]) for s in sales) == [("DEST-PH2", 3), ("MART-16", 2)]
    assert len({s["order"] for s in sales}) == 1  # one order, its reference shared by its lines
    assert len({s["order_id"] for s in sales}) == 2  # each line its own idempotency key


async def test_a_product_added_to_the_open_order_and_a_quantity_changed(bot: Harness) -> None:
    await bot.say("multi-2", "quiero 2 martillos")
    both = await bot.say("multi-2", "y también quiero 1 bolsa de cemento")
    assert "2 × Martillo" in both[-1]["text"] and "1 × Cemento Portland" in both[-1]["text"]
    changed = await bot.say("multi-2", "mejor que sean 3 martillos")
    assert "3 × Martillo" in changed[-1]["text"] and "1 × Cemento Portland" in changed[-1]["text"]
    await bot.say("multi-2", "sí")
    assert await bot.sold("multi-2") == [("CEM-50", 1), ("MART-16", 3)]


async def test_more_of_the_same_and_one_more_product_with_also(bot: Harness) -> None:
    await bot.say("multi-3", "quiero 2 martillos")
    more = await bot.say("multi-3", "agregale 2 más porfa")
    assert "4 × Martillo" in more[-1]["text"]
    also = await bot.say("multi-3", "y también 1 bolsa de cemento")
    assert "4 × Martillo" in also[-1]["text"] and "1 × Cemento Portland" in also[-1]["text"]
    await bot.say("multi-3", "listo, confirmo los dos. Los retiro en el local")
    assert await bot.sold("multi-3") == [("CEM-50", 1), ("MART-16", 4)]


async def test_a_line_taken_out_of_the_order(bot: Harness) -> None:
    await bot.say("multi-4", "quiero 2 martillos, 1 taladro y 3 destornilladores phillips")
    out = await bot.say("multi-4", "sacá el taladro, ya tengo uno")
    assert "Taladro" not in out[-1]["text"] and "2 × Martillo" in out[-1]["text"]
    assert "3 × Destornillador" in out[-1]["text"] and out[-1]["buttons"]
    await bot.say("multi-4", "listo, confirmo el resto")
    assert await bot.sold("multi-4") == [("DEST-PH2", 3), ("MART-16", 2)]
    assert (await bot.product("TAL-650"))["stock"] == 3


async def test_the_last_line_taken_out_leaves_nothing_pending(bot: Harness) -> None:
    await bot.say("multi-5", "quiero 1 bolsa de cemento")
    out = await bot.say("multi-5", "mejor sacá el cemento")
    assert "saqué" in out[-1]["text"] and not out[-1].get("buttons")
    await bot.say("multi-5", "sí")
    assert (await bot.conversation("multi-5"))["sales"] == []
