"""An open order holds across side questions and is read in context (issue 10, first slice), over HTTP.

- A side question between the offer and the yes is answered and the order restated; the yes then commits.
- A yes that restates the order is a yes; one that changes it is not.
- An order idle past `order_idle_hours` lapses with a sentence saying so; nothing is sold.
- A proposed meeting is accepted by an acknowledgment ("gracias, quedo atento").
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Harness

ASK_MEETING = "¿Me agendas una visita el martes a las 10?"


async def test_side_question_keeps_the_order_open(bot: Harness) -> None:
    offer = await bot.say("side-1", "quiero 2 martillos")
    assert offer[-1].get("buttons")
    answer = await bot.say("side-1", "¿y aceptan transferencia?")
    assert "sigue abierto" in answer[-1]["text"] and "2 × Martillo" in answer[-1]["text"]
    assert [b["payload"] for b in answer[-1]["buttons"]] == ["confirm", "decline"]
    assert (await bot.product("MART-16"))["stock"] == 7  # nothing sold by a question
    done = await bot.say("side-1", "dale, confirmo la compra")
    assert "Registré" in done[0]["text"]
    assert (await bot.product("MART-16"))["stock"] == 5


async def test_a_yes_that_restates_the_order_is_a_yes_and_one_that_changes_it_is_not(bot: Harness) -> None:
    await bot.say("restate-1", "quiero 2 martillos")
    done = await bot.say("restate-1", "sí, confirmo los 2 martillos")
    assert "Registré" in done[0]["text"] and (await bot.product("MART-16"))["stock"] == 5

    await bot.say("restate-2", "quiero 2 destornilladores")
    changed = await bot.say("restate-2", "sí, confirmo los 3 destornilladores")
    assert "Registré" not in changed[0]["text"]
    assert (await bot.conversation("restate-2"))["sales"] == []


async def test_an_idle_order_lapses_with_a_sentence(bot: Harness) -> None:
    runtime = bot.daemon.runtime
    await bot.say("idle-1", "quiero 1 taladro")
    real = runtime.clock
    later = real() + timedelta(hours=25)
    runtime.clock = lambda: later
    try:
        reply = await bot.say("idle-1", "sí")
    finally:
        runtime.clock = real
    assert "di de baja" in reply[0]["text"]
    assert (await bot.conversation("idle-1"))["sales"] == [] and (await bot.product("TAL-650"))["stock"] == 3


async def test_an_acknowledgment_books_the_proposed_meeting(bot: Harness) -> None:
    offer = await bot.say("meet-ack", ASK_MEETING)
    assert [b["payload"] for b in offer[-1]["buttons"]] == ["confirm", "decline"]
    done = await bot.say("meet-ack", "gracias, quedo atento")
    assert "agendada" in done[0]["text"]
    [appointment] = (await bot.conversation("meet-ack"))["appointments"]
    assert appointment["status"] == "booked"
    await bot.say("meet-hmm", ASK_MEETING)
    await bot.say("meet-hmm", "mmm")
    assert (await bot.conversation("meet-hmm"))["appointments"] == []


async def test_a_yes_that_restates_the_meeting_books_it(bot: Harness) -> None:
    await bot.say("meet-restate", ASK_MEETING)
    done = await bot.say("meet-restate", "dale, el martes a las 10 está perfecto, confirmalo")
    assert "agendada" in done[0]["text"]
    assert len((await bot.conversation("meet-restate"))["appointments"]) == 1
