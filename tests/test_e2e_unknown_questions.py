"""Business questions the documents don't cover, over HTTP with the real daemon and the demo data.

A question that is not clearly about products goes to the owner's documents
first; when they don't cover it the bot says so honestly (no catalog miss,
nothing made up) and offers a person, and a "sí" hands the chat over with the
question as the reason. Questions the documents answer still cite them, and
product questions still list products.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Harness, make_settings, running

HONEST_ES = "No tengo esa información"
OFFER_ES = "¿Querés que te pase con una persona del equipo?"
CATALOG_MISS = re.compile(r"No encontré .* en el catálogo|couldn't find .* in the catalog")


@pytest.fixture
async def demo(data_dir: Path) -> AsyncIterator[Harness]:
    async with running(make_settings(data_dir, demo_catalog=True)) as harness:
        yield harness


async def text_of(bot: Harness, chat_id: str, message: str) -> str:
    replies = await bot.say(chat_id, message)
    return "\n".join(r["text"] for r in replies)


async def test_cuit_of_the_owner_gets_the_honest_reply(demo: Harness) -> None:
    text = await text_of(demo, "uq-1", "¿cuál es el CUIT del dueño?")
    assert HONEST_ES in text and OFFER_ES in text
    assert not CATALOG_MISS.search(text)
    assert not re.search(r"\d", text)  # no CUIT, no number of any kind made up
    assert ".md" not in text  # and no document cited for it
    conversation = await demo.conversation("uq-1")  # the promise to ask is visible to the owner
    assert conversation["status"] == "bot" and conversation["needs_attention"]
    assert "CUIT" in conversation["attention_reason"]


@pytest.mark.parametrize(
    ("message", "honest"),
    [
        ("what's the owner's name?", "I don't have that information"),
        ("do you have a loyalty program?", "I don't have that information"),
        ("¿tienen programa de puntos?", HONEST_ES),
        ("¿cuánto sale la membresía?", HONEST_ES),
    ],
)
async def test_other_uncovered_questions_get_the_honest_reply(
    demo: Harness, message: str, honest: str
) -> None:
    text = await text_of(demo, "uq-2", message)
    assert honest in text
    assert not CATALOG_MISS.search(text)
    assert not re.search(r"\d", text)


async def test_yes_to_the_offer_hands_the_chat_to_a_person(demo: Harness) -> None:
    await text_of(demo, "uq-3", "¿cuál es el CUIT del dueño?")
    text = await text_of(demo, "uq-3", "sí, dale")
    assert "persona" in text.lower()
    conversation = await demo.conversation("uq-3")
    assert conversation["status"] == "human" and conversation["needs_attention"]
    assert "CUIT del dueño" in conversation["attention_reason"]


async def test_covered_questions_still_cite_their_document(demo: Harness) -> None:
    text = await text_of(demo, "uq-4", "¿A qué hora abren los domingos?")
    assert ".md" not in text and "«" in text and "cerrado" in text.lower()
    text = await text_of(demo, "uq-5", "¿hacen factura A?")
    assert ".md" not in text and "«" in text and "factura A" in text


async def test_product_questions_still_list_products(demo: Harness) -> None:
    text = await text_of(demo, "uq-6", "tenés martillos?")
    assert text.count("Martillo") >= 2 and "$" in text
    assert ".md" not in text and HONEST_ES not in text
    text = await text_of(demo, "uq-7", "do you have paint?")
    assert "Pintura" in text and "ARS" in text
