"""Issue #4, business questions answered from the owner's documents, over HTTP.

The example documents (config/knowledge/) are copied into the data dir at
start; answers quote them and cite their section. A document's English
translation beside it ("envios.en.md") answers English-speaking customers. A question they do not cover
gets no invented policy and no citation.
"""

from __future__ import annotations

import re

from tests.conftest import Harness


async def test_opening_hours_on_sunday_cite_the_hours_document(bot: Harness) -> None:
    assert (bot.daemon.settings.effective_knowledge_dir / "horarios.md").exists()
    [reply] = await bot.say("kb-1", "¿A qué hora abren los domingos?")
    text = reply["text"]
    assert "«Domingos»" in text and ".md" not in text  # cited by its section, never a file name
    assert "domingo" in text.lower() and "cerrado" in text.lower()


async def test_delivery_question_in_english_cites_the_delivery_document(bot: Harness) -> None:
    [reply] = await bot.say("kb-2", "do you deliver?")
    text = reply["text"]
    # found in envios.md, answered from its English translation beside it (envios.en.md)
    assert "Shipping costs" in text and ".md" not in text
    assert "$6,500" in text and "Costos de envío" not in text


async def test_english_customer_gets_the_translation_spanish_customer_the_original(bot: Harness) -> None:
    [english] = await bot.say("kb-4", "How long do I have to return something I bought?")
    [spanish] = await bot.say("kb-5", "¿cuántos días tengo para devolver algo que compré?")
    assert "30 days" in english["text"] and "días" not in english["text"]
    assert "30 días" in spanish["text"] and "days" not in spanish["text"]


async def test_without_a_translation_the_original_answers_in_any_language(bot: Harness) -> None:
    for translation in bot.daemon.settings.effective_knowledge_dir.glob("*.en.md"):
        translation.unlink()
    await bot.daemon.services.knowledge.sync()
    [reply] = await bot.say("kb-6", "do you deliver?")
    assert "Costos de envío" in reply["text"] and "$6.500" in reply["text"]


async def test_question_the_documents_do_not_cover_gets_no_invented_answer(bot: Harness) -> None:
    replies = await bot.say("kb-3", "¿cuál es el CUIT del dueño?")
    text = " ".join(r["text"] for r in replies)
    assert text.strip()
    assert ".md" not in text  # no knowledge citation
    assert not re.search(r"\b\d{2}-?\d{8}-?\d\b", text)  # no CUIT made up
    for doc in bot.daemon.settings.effective_knowledge_dir.glob("*.md"):
        assert doc.name not in text
