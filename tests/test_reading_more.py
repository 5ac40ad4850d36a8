"""More messages read in context with the built-in model, over HTTP (issue 10, after fresh set 9).

Each test is one behaviour a fresh evaluation set found missing: several lines taken out of an order in
one message, a line named in other words than the catalog's, the total of the open order, a wait read as
a complaint (and counted so in the insights), a person asked for beside other words, a cold prospect.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness

CART = "quiero 2 martillos carpintero, 3 destornilladores phillips y 1 taladro percutor"


async def insights(bot: Harness, chat_id: str) -> dict[str, Any]:
    resp = await bot.client.post(f"/admin/conversations/web/{chat_id}/insights", headers=bot.admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_lines_left_out_of_an_only_these_come_out_of_the_order(bot: Harness) -> None:
    await bot.say("only-1", CART)
    [reply] = await bot.say("only-1", "perdón, el taladro ya no, solo los martillos y los destornilladores")
    assert "Taladro" not in reply["text"] and "Martillo" in reply["text"]
    await bot.say("only-1", "sí, confirmo")
    assert sorted(await bot.sold("only-1")) == [("DEST-PH2", 3), ("MART-16", 2)]


async def test_two_lines_taken_out_in_one_clause(bot: Harness) -> None:
    await bot.say("out-2", CART)
    await bot.say("out-2", "sacá el taladro y los destornilladores")
    await bot.say("out-2", "sí")
    assert await bot.sold("out-2") == [("MART-16", 2)]


async def test_a_line_named_in_english_is_looked_up_before_it_comes_out(bot: Harness) -> None:
    await bot.say("out-en", "I'd like 2 carpenter hammers and 1 hammer drill")
    [reply] = await bot.say("out-en", "please remove the hammer drill")
    assert "Taladro" not in reply["text"]
    await bot.say("out-en", "yes, confirm")
    assert await bot.sold("out-en") == [("MART-16", 2)]


async def test_the_total_of_the_open_order_is_answered_and_the_order_stays_open(bot: Harness) -> None:
    await bot.say("total-1", "necesito 2 martillos carpintero y 1 cemento portland")
    [reply] = await bot.say("total-1", "¿cuánto sería el total?")
    assert "El total de tu pedido es $34.800" in reply["text"] and "No encontré" not in reply["text"]
    await bot.say("total-1", "ya, altiro, confirmo el pedido po")
    assert sorted(await bot.sold("total-1")) == [("CEM-50", 1), ("MART-16", 2)]


async def test_a_wait_with_no_news_is_a_complaint_handed_over_and_counted_so(bot: Harness) -> None:
    [reply] = await bot.say("wait-1", "Buenas, llevo 3 días esperando un pedido y nadie me avisa nada. "
                                      "Qué falta de seriedad, de verdad")
    assert (await bot.conversation("wait-1"))["status"] == "human"
    assert "persona" in reply["text"]
    found = await insights(bot, "wait-1")
    assert found["category"] == "complaint" and found["sentiment"] == "negative"
    assert await bot.sold("wait-1") == []  # "llevo 3 días" bought nothing


async def test_asking_for_a_person_outranks_the_rest_of_the_message(bot: Harness) -> None:
    await bot.say("adm-1", "Hi, I'd like to open a business credit account for my construction company. "
                           "Can I talk to someone in administration?")
    assert (await bot.conversation("adm-1"))["status"] == "human"


async def test_a_question_about_a_policy_in_a_sale_word_is_support(bot: Harness) -> None:
    await bot.say("pol-1", "che, si compro algo y no me sirve, hasta cuando lo puedo cambiar?")
    assert (await insights(bot, "pol-1"))["category"] == "support"


async def test_a_cold_prospect_is_kept_as_a_lead_with_a_low_score(bot: Harness) -> None:
    await bot.say("cold-1", "hola, soy Martín. capaz más adelante necesito cosas para pintar un depto, "
                            "todavía no sé cuándo ni cuánto")
    lead = (await bot.conversation("cold-1"))["lead"]
    assert lead is not None and lead["name"] == "Martín"
    assert lead["score"] <= 40 and not lead["qualified"]


async def test_one_of_each_orders_every_product_asked_about(bot: Harness) -> None:
    await bot.say("each-1", "hola, ¿tenés martillo carpintero? ¿y destornillador phillips también?")
    await bot.say("each-1", "genial, dame uno de cada uno")
    await bot.say("each-1", "sí")
    assert sorted(await bot.sold("each-1")) == [("DEST-PH2", 1), ("MART-16", 1)]


async def test_a_count_of_bags_after_a_price_question_is_the_order(bot: Harness) -> None:
    await bot.say("bags-1", "how much is a 50kg bag of portland cement? I need 3 bags for a small patio")
    await bot.say("bags-1", "yes")
    assert await bot.sold("bags-1") == [("CEM-50", 3)]
