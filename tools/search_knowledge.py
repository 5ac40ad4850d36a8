"""`search_knowledge`: answer questions about the business from the owner's documents.

The answer is always a passage the owner wrote, cited by file and heading;
when no passage clears the index's relevance floor the tool says so
(`found: False`) and the bot must not make a policy up.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from storage.knowledge_index import document_language
from tools.base import Tool, ToolOutcome, tool
from tools.context import ToolContext

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult

ANSWER_CHARS = 400
ANSWER_SENTENCES = 2  # the sentence or two that answer the question, not the whole section


class SearchKnowledgeArgs(BaseModel):
    question: str = Field(
        min_length=1, max_length=500, description="The customer's question, in their words (any language)"
    )


@tool
async def search_knowledge(args: SearchKnowledgeArgs, ctx: ToolContext) -> ToolOutcome:
    """Look up the business's own documents (opening hours, address and how to get there,
    delivery areas/costs/times, payment methods and installments, returns and exchanges,
    warranty, how to use products). Use it for any question about how the business works.
    Returns `answer` (the relevant excerpt) and `source` ("file.md › Heading"): answer only from
    that text, in the customer's language. If `found` is false the documents don't cover it:
    say you don't know and offer to pass the question to a person; never invent a policy."""
    index = ctx.services.knowledge
    if index is None:
        return ToolOutcome(data={"found": False, "reason": "no knowledge base configured"})
    catalog = ctx.services.catalog  # None in the documents' own tests, which run without a catalog
    products = catalog.name_words() if catalog is not None else frozenset()
    passages = await index.search(args.question, k=3, products=products, lang=ctx.language)
    parts = await _each_question(index, args.question, passages, products, ctx.language)
    if len(parts) >= 2:  # two questions in one message: both answered, each from its own section
        return ToolOutcome(data=_answers(parts))
    if parts and not passages:  # the message as a whole matched nothing; one of its questions did
        return ToolOutcome(data={"found": True, **parts[0]})
    if not passages:
        # The bot tells the customer it will ask the team: make sure the owner sees the question.
        await ctx.repos.conversations.update(
            ctx.conversation_id, needs_attention=True,
            attention_reason=f"unanswered question: {args.question.strip()[:200]}",
        )
        return ToolOutcome(data={"found": False})
    best = passages[0]
    second = _close_second(passages)
    if second is not None:  # "¿cuánto sale el envío a Lanús?": the zones and the costs, a sentence of each
        parts = [_part(index, p, args.question, n) for p, n in ((best, ANSWER_SENTENCES), (second, 1))]
        return ToolOutcome(data={**_answers(parts), "passages": _passages(passages)})
    return ToolOutcome(
        data={
            "found": True,
            "answer": index.answer(best, args.question, ANSWER_CHARS, sentences=ANSWER_SENTENCES),
            "source": best.source,
            "section": section_title(best.source),
            "passages": _passages(passages),
        }
    )


def _part(index: Any, passage: Any, question: str, sentences: int) -> dict[str, Any]:
    """One answer: the sentences of `passage` that answer `question`, and the section it is cited by."""
    return {"source": passage.source, "section": section_title(passage.source),
            "answer": index.answer(passage, question, ANSWER_CHARS, sentences=sentences)}


def _answers(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several answers in one result: the first one's source, every part, and their sentences together."""
    return {"found": True, **parts[0], "answers": parts, "answer": " ".join(p["answer"] for p in parts)}


def _passages(passages: list[Any]) -> list[dict[str, Any]]:
    return [{"source": p.source, "text": p.text, "score": p.score} for p in passages]


SECOND_SECTION = 0.8  # a second section of the same document, scored this close to the best, is answered too


def _close_second(passages: list[Any]) -> Any | None:
    """The runner-up passage when it is another section of the best one's document and almost as relevant."""
    if len(passages) < 2:
        return None
    best, second = passages[0], passages[1]
    same_document = best.source.split(" › ", 1)[0] == second.source.split(" › ", 1)[0]
    if same_document and best.source != second.source and second.score >= SECOND_SECTION * best.score:
        return second
    return None


_ASKS = re.compile(r"(?i)(?:y\s+|and\s+)?(?:cu[aá]nt[oa]s?|qu[eé]|c[oó]mo|d[oó]nde|cu[aá]ndo|cu[aá]l|how|what|when|where|which|"
                   r"do you|can i|is there|hay|tienen|hacen)\b")
_ELLIPTIC = re.compile(r"(?i)^¿?\s*(?:y\s+)?(?:por\s+|hasta\s+|de\s+|for\s+)?(?:cu[aá]nto|cu[aá]nta|cu[aá]ndo|"
                       r"how long|how much|until when)(?:\s+(?:tiempo|dura|vale|es|is it|does it last))?\s*\??$")
_QUESTION_SPLIT = re.compile(r"(?<=\?)\s+|\s+(?=¿)")


async def _each_question(index: Any, question: str, passages: list[Any],
                         products: frozenset[str] = frozenset(), lang: str | None = None) -> list[dict[str, Any]]:
    """Two or more questions ("¿Hacen envíos a Avellaneda? ¿Cuánto vale el domicilio?"), each answered from
    the section that answers it, when they are answered by different sections. Empty otherwise."""
    split = [q.strip() for q in _QUESTION_SPLIT.split(question)]
    asked = [q for i, q in enumerate(split) if len(q) > 6 and (
        "?" in q or (i == len(split) - 1 and i > 0 and _ASKS.match(q)))]  # "¿mandan a Lanús? cuánto sale"
    if len(asked) == 2 and _ELLIPTIC.match(asked[1]) and passages:
        return []  # "¿la llave tiene garantía? ¿Por cuánto tiempo?": one question, the message's own answer
    if len(asked) < 2:
        return []
    parts: list[dict[str, Any]] = []
    seconds: list[tuple[str, Any]] = []
    for sub in asked[:3]:
        found = await index.search(sub, k=3, products=products, lang=lang)
        if not found and parts:  # "¿llegan con envío a Lanús? ¿cuánto sale?": about what the one before was
            document = document_language(parts[-1]["source"].split(" › ", 1)[0])[0].replace("-", " ")
            found = await index.search(f"{document} {sub}", k=3, products=products, lang=lang)
        if found and all(p["source"] != found[0].source for p in parts):
            parts.append(_part(index, found[0], sub, 1))
        seconds.append((sub, _close_second(found)))
    answered_each = len(parts) >= 2 and len(parts) == len(seconds)  # every question by a section of its own
    for sub, second in seconds if answered_each else []:
        # "¿cuánto sale el envío a Lanús? ¿tarda mucho?": the zones, and the costs beside them
        if second is not None and all(p["source"] != second.source for p in parts):
            parts.append(_part(index, second, sub, 1))
    return parts


def section_title(source: str) -> str:
    """How a passage is cited to a customer: its section's title, never the file it lives in.

    "garantia.md › Qué no cubre la garantía" -> "Qué no cubre la garantía"; a passage
    before any heading is cited by its document's name ("envios.md" -> "Envios").
    """
    title = source.rsplit(" › ", 1)[-1].strip()
    if " › " not in source:
        title = document_language(title)[0].replace("-", " ").replace("_", " ").strip().capitalize()
    return title


def _words(c: Composer, result: ToolResult) -> str:
    """Opening hours in general come from the business config (the same hours the model and the
    meeting tool use); a question about a day or a holiday goes to the documents."""
    hours = c.say.hours() if c.u.asks_hours else None
    return hours or c.say.knowledge(result.data or {}, offer="handoff_to_human" in c.tools)


UNIT = Tool(search_knowledge, words=_words)
