"""`analyze_offline`: insights with no model, from the lexicon, text patterns and prompt files.

Category, intent, sentiment and churn come from the cue words
(tools/insights_classify.py), entities from text patterns, and the summary,
next action and suggested reply are assembled from prompts/insights.<lang>.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from prompts import PromptStore
from tools.insights_classify import Reading, classify
from tools.insights_lexicon import Lexicon, load_lexicon
from tools.insights_schema import SUMMARY_MAX, Entities, InsightData
from tools.text_entities import find_emails, find_names, find_phones, mentioned_products
from tools.text_signals import clip, dedupe, find_amounts, find_dates

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=1)
def default_prompts() -> PromptStore:
    return PromptStore(PROMPTS_DIR)


def analyze_offline(
    messages: Sequence[tuple[str, str]],
    *,
    language: str,
    product_names: Sequence[str] = (),
    prompts: PromptStore | None = None,
    lexicon: Lexicon | None = None,
    handed_over_complaint: bool = False,
) -> InsightData:
    """Rule-based insights from `(author, text)` pairs; author is "customer", "bot" or "human".

    Category and sentiment come from the customer's messages only (later
    messages weigh more); entities from the whole transcript. Sync and
    CPU-bound (plus cached file reads): call it through `asyncio.to_thread`
    from async code. `handed_over_complaint`: the dialogue passed the chat to a person as a complaint.
    """
    lex = lexicon or load_lexicon()
    prompts = prompts or default_prompts()
    said = [text for author, text in messages if author == "customer" and text]
    everything = "\n".join(text for _, text in messages if text)
    reading = classify(said, lex, handed_over_complaint=handed_over_complaint)
    customer_text = "\n".join(said)
    entities = Entities(
        amounts=dedupe([a.text for a in find_amounts(everything)]),
        dates=dedupe(find_dates(customer_text)),
        names=dedupe(find_names(customer_text)),
        products=mentioned_products(everything, product_names),
        emails=dedupe(find_emails(everything)),
        phones=dedupe(find_phones(everything)),
    )
    return _written(prompts, language, reading, entities)


def _written(prompts: PromptStore, lang: str, reading: Reading, entities: Entities) -> InsightData:
    """The insight with its summary, next action and suggested reply worded from the prompt files."""
    category, intent, mood = reading.category, reading.intent, reading.sentiment
    details = ""
    if entities.amounts:
        details += prompts.text("insights.details_amounts", lang, amounts=", ".join(entities.amounts[:3]))
    if entities.dates:
        details += prompts.text("insights.details_dates", lang, dates=", ".join(entities.dates[:3]))
    details += prompts.text(
        "insights.details_sentiment", lang, sentiment=prompts.text(f"insights.sentiment_{mood}", lang)
    )
    topic = (
        prompts.text("insights.topic", lang, products=", ".join(entities.products[:3]))
        if entities.products
        else ""
    )
    first_name = entities.names[0].split()[0] if entities.names else ""
    summary = prompts.text(
        "insights.summary",
        lang,
        category=prompts.text(f"insights.category_{category}", lang),
        customer=entities.names[0] if entities.names else prompts.text("insights.customer_unknown", lang),
        intent=_text(prompts, f"intent_{intent}", lang, f"intent_{category}"),
        topic=topic,
        details=details,
    )
    next_action = _text(prompts, f"next_action_{intent}", lang, f"next_action_{category}")
    if reading.churn_risk == "high":
        next_action = f"{prompts.text('insights.next_action_high_churn', lang)} {next_action}"
    reply = _text(
        prompts,
        f"suggested_reply_{intent}",
        lang,
        f"suggested_reply_{category}",
        name=f" {first_name}" if first_name else "",
    )
    return InsightData(
        category=category,  # type: ignore[arg-type]
        confidence=reading.confidence,
        sentiment=mood,
        intent=intent,
        entities=entities,
        summary=clip(summary, SUMMARY_MAX),
        churn_risk=reading.churn_risk,  # type: ignore[arg-type]
        next_action=next_action,
        suggested_reply=reply,
        language=lang,
    )


def _text(prompts: PromptStore, key: str, language: str, fallback: str, **values: Any) -> str:
    name = f"insights.{key}"
    return prompts.text(name if prompts.has(name, language) else f"insights.{fallback}", language, **values)
