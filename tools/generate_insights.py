"""`generate_insights`: what a conversation was about, for the owner's dashboard.

Two analyzers fill the same `InsightData` schema (tools/insights_schema.py):
- `analyze_with_model` asks the chat model for structured output;
- `analyze_offline` (tools/insights_offline.py) needs no model: weighted cue
  words per intent and sentiment words (config/lexicon/insights.yaml),
  pattern-based entities and a summary assembled from
  prompts/insights.<lang>.yaml.
The model path falls back to the offline one on any failure, so insights
exist with no API key and survive a flaky provider.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from prompts import PromptStore
from storage.insights import InsightRepo
from tools.base import Tool, ToolOutcome, tool
from tools.context import Services, ToolContext
from tools.insights_offline import analyze_offline, default_prompts
from tools.insights_schema import InsightData
from tools.text_entities import mentioned_products
from tools.text_signals import fold, split_words

log = logging.getLogger(__name__)

MODEL_TIMEOUT_S = 60.0


class GenerateInsightsArgs(BaseModel):
    """No arguments: the tool always analyzes the current conversation."""


def _transcript(messages: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{author}: {text}" for author, text in messages if text)


# How a hand-over for a complaint is recorded: the offline model writes "complaint: ...", a model its own words.
_COMPLAINT_REASON = re.compile(r"\b(?:complain\w*|queja\w*|reclam\w*)", re.IGNORECASE)


async def _analyze(
    model: BaseChatModel | None,
    messages: Sequence[tuple[str, str]],
    language: str,
    product_names: Sequence[str],
    prompts: PromptStore | None,
    complained: bool = False,
) -> tuple[InsightData, str]:
    """Model first when there is one, offline otherwise or on failure; returns (data, source)."""
    if model is not None and messages:
        try:
            texts = prompts or await asyncio.to_thread(default_prompts)
            instructions = texts.text("insights.model_instructions", language)
            structured = model.with_structured_output(InsightData)
            transcript = _transcript(messages)
            if complained:  # what the dialogue knows and the words may not say: it was handed over as a complaint
                transcript += "\n\n" + texts.text("insights.handed_over_complaint", language)
            async with asyncio.timeout(MODEL_TIMEOUT_S):
                result = await structured.ainvoke([SystemMessage(instructions), HumanMessage(transcript)])
            data = result if isinstance(result, InsightData) else InsightData.model_validate(result)
            return data.model_copy(update={"language": language}), "model"
        except Exception as exc:  # any provider or validation failure: the offline analysis still works
            log.warning("model insights failed, using offline analysis: %s", exc)
    data = await asyncio.to_thread(
        analyze_offline, messages, language=language, product_names=product_names, prompts=prompts,
        handed_over_complaint=complained,
    )
    return data, "offline"


async def analyze_with_model(
    model: BaseChatModel,
    messages: Sequence[tuple[str, str]],
    language: str,
    *,
    product_names: Sequence[str] = (),
    prompts: PromptStore | None = None,
) -> InsightData:
    """Structured insights from the chat model, validated; the offline analysis if that fails."""
    data, _ = await _analyze(model, messages, language, product_names, prompts)
    return data


_EN_WORDS = frozenset(
    "the and you your i is are do does have what how can my to for please thanks hi hello".split()
)
_ES_WORDS = frozenset(
    "el la los que de y es son tienen hola gracias quiero para por mi como cuanto buenas".split()
)


def guess_language(texts: Sequence[str], default: str = "es") -> str:
    """ "en" or "es" by counting common words; `default` on a tie."""
    words = [w for t in texts for w in split_words(fold(t))]
    en, es = sum(w in _EN_WORDS for w in words), sum(w in _ES_WORDS for w in words)
    return "en" if en > es else "es" if es > en else default


async def generate_for_conversation(
    services: Services, conversation_id: int, *, model: BaseChatModel | None = None
) -> InsightData:
    """Analyze a stored conversation, store the result and stamp `Conversation.insights_at`."""
    repos = services.repos
    conversation = await repos.conversations.by_id(conversation_id)
    if conversation is None:
        raise LookupError(f"no conversation {conversation_id}")
    rows = await repos.messages.list(conversation_id)
    messages = [(m.author, m.text) for m in rows if m.text and m.text.strip()]
    language = conversation.language or guess_language([t for a, t in messages if a == "customer"])
    catalog = [p.name for p in await repos.products.all()]
    names = await asyncio.to_thread(mentioned_products, _transcript(messages), catalog) if catalog else []
    complained = bool(_COMPLAINT_REASON.search(conversation.attention_reason or ""))
    data, source = await _analyze(model, messages, language, names, services.prompts, complained)
    await InsightRepo(repos.db, repos.business_id).upsert(conversation_id, data, source)
    return data


@tool
async def generate_insights(args: GenerateInsightsArgs, ctx: ToolContext) -> ToolOutcome:
    """Analyze the current conversation for the business owner: category (sale, support or
    complaint) with confidence, the customer's sentiment and intent, the amounts, dates, names
    and products mentioned, a short summary, churn risk, the suggested next action and a
    suggested reply. Results are saved for the owner's dashboard; do not read them out to the
    customer."""
    model = ctx.services.extra.get("insights_model")
    data = await generate_for_conversation(
        ctx.services, ctx.conversation_id, model=model if isinstance(model, BaseChatModel) else None
    )
    return ToolOutcome(data={"insights": data.model_dump(mode="json")})


__all__ = [
    "GenerateInsightsArgs",
    "InsightData",
    "analyze_offline",
    "analyze_with_model",
    "generate_for_conversation",
    "generate_insights",
    "guess_language",
]


UNIT = Tool(generate_insights)
