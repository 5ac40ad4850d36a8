"""Messages read in context with the built-in model, over HTTP (issue 10, after fresh set 12).

Each test is one behaviour the fresh set found missing: a regional "set it aside for me" and a yes said
with a pronoun ("simón, confírmalo", "regálemela"), products named without a verb once products are on
the table, a line named again among new ones, a swap that says its own count, an hour "de la mañana"
that is not tomorrow, and a day the customer refuses beside the one they choose.
"""

from __future__ import annotations

from tests.conftest import Harness
from tests.test_dialogue_state import appointment_start


async def test_set_it_aside_accepts_the_product_shown_and_a_mexican_yes_commits(bot: Harness) -> None:
    await bot.say("sep-1", "buenas, tienen cemento portland?")
    [offer] = await bot.say("sep-1", "ok, me lo separa por favor")
    assert "Cemento Portland" in offer["text"] and "No encontré" not in offer["text"]
    await bot.say("sep-1", "3 bolsas")
    await bot.say("sep-1", "simón, confírmalo")
    assert await bot.sold("sep-1") == [("CEM-50", 3)]


async def test_a_yes_with_a_pronoun_and_a_payment_remark_commits(bot: Harness) -> None:
    await bot.say("regal-1", "quiero comprar el taladro percutor")
    await bot.say("regal-1", "perfecto, sí, regálemelo, yo pago por transferencia")
    assert await bot.sold("regal-1") == [("TAL-650", 1)]


async def test_products_named_without_a_verb_after_a_list_are_the_order(bot: Harness) -> None:
    await bot.say("bare-1", "hola, qué herramientas tienen?")
    [offer] = await bot.say("bare-1", "ya, entonces el martillo y 2 destornilladores")
    assert "Martillo" in offer["text"] and "Destornillador" in offer["text"], offer
    await bot.say("bare-1", "sí po")
    assert await bot.sold("bare-1") == [("DEST-PH2", 2), ("MART-16", 1)]


async def test_a_line_named_again_among_new_ones_is_not_ordered_twice(bot: Harness) -> None:
    await bot.say("again-1", "necesito 2 destornilladores phillips")
    await bot.say("again-1", "ya, mándame el martillo y los 2 destornilladores")
    await bot.say("again-1", "sí, confirmo")
    assert await bot.sold("again-1") == [("DEST-PH2", 2), ("MART-16", 1)]


async def test_a_swap_that_says_its_own_count(bot: Harness) -> None:
    await bot.say("swap-n", "quiero un martillo carpintero")
    await bot.say("swap-n", "no, el otro, el destornillador, el que tiene punta imantada. dame 2")
    await bot.say("swap-n", "ya, confirmo")
    assert await bot.sold("swap-n") == [("DEST-PH2", 2)]


async def test_eleven_in_the_morning_is_on_the_day_named_not_tomorrow(bot: Harness) -> None:
    [offer] = await bot.say("morning-1", "qué onda, puedo pasar el jueves que viene como a las 11 de la mañana?")
    assert "jueves" in offer["text"] and "11:00" in offer["text"], offer
    await bot.say("morning-1", "órale, sí agéndame")
    start = await appointment_start(bot, "morning-1")
    assert (start.weekday(), start.hour) == (3, 11)


async def test_a_day_refused_beside_the_one_chosen_is_not_booked(bot: Harness) -> None:
    await bot.say("refuse-1", "oiga, ¿puedo ir el viernes a las 12 a ver una carretilla?")
    [offer] = await bot.say("refuse-1", "no, sabe qué, mejor el lunes a las 12, el viernes no alcanzo")
    assert "lunes" in offer["text"] and "12:00" in offer["text"], offer
    await bot.say("refuse-1", "Vale, perfecto, apúntamelo")
    start = await appointment_start(bot, "refuse-1")
    assert (start.weekday(), start.hour) == (0, 12)
