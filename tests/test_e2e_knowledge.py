"""Issue #4, business questions answered from the owner's documents, over HTTP.

The example documents (config/knowledge/) are copied into the data dir at
start; answers quote them and cite the file. A question they do not cover
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
    assert "Costos de envío" in text and ".md" not in text
    assert "$6.500" in text  # the delivery cost written in envios.md


async def test_question_the_documents_do_not_cover_gets_no_invented_answer(bot: Harness) -> None:
    replies = await bot.say("kb-3", "¿cuál es el CUIT del dueño?")
    text = " ".join(r["text"] for r in replies)
    assert text.strip()
    assert ".md" not in text  # no knowledge citation
    assert not re.search(r"\b\d{2}-?\d{8}-?\d\b", text)  # no CUIT made up
    for doc in bot.daemon.settings.effective_knowledge_dir.glob("*.md"):
        assert doc.name not in text
