"""`generate_insights`: what a conversation was about, for the owner's dashboard.

Two analyzers fill the same `InsightData` schema:
- `analyze_with_model` asks the chat model for structured output;
- `analyze_offline` needs no model: weighted cue words per intent and
  sentiment words (config/lexicon/insights.yaml), pattern-based entities and
  a summary assembled from prompts/insights.<lang>.yaml.
The model path falls back to the offline one on any failure, so insights
exist with no API key and survive a flaky provider.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, field_validator

from prompts import PromptStore
from storage.embedding import normalize, tokens
from storage.insights import InsightRepo
from tools.base import ToolOutcome, tool
from tools.context import Services, ToolContext

log = logging.getLogger(__name__)

LEXICON_PATH = Path(__file__).resolve().parent.parent / "config" / "lexicon" / "insights.yaml"
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
SUMMARY_MAX = 300
MODEL_TIMEOUT_S = 60.0

Category = Literal["sale", "support", "complaint"]
Sentiment = Literal["positive", "neutral", "negative"]


# -- schema -------------------------------------------------------------------


class Entities(BaseModel):
    amounts: list[str] = Field(default_factory=list, description="Money amounts as written, with currency")
    dates: list[str] = Field(default_factory=list, description="Dates or deadlines as written")
    names: list[str] = Field(default_factory=list, description="People's names")
    products: list[str] = Field(default_factory=list, description="Products mentioned")
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)


class InsightData(BaseModel):
    """Structured analysis of one customer conversation."""

    category: Category = Field(description="sale, support (question/help) or complaint")
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence in the category, 0-1")
    sentiment: Sentiment = Field(description="The customer's sentiment")
    intent: str = Field(description="What the customer wants, in a few words")
    entities: Entities = Field(default_factory=Entities)
    summary: str = Field(max_length=SUMMARY_MAX, description="At most 300 characters")
    churn_risk: Literal["low", "medium", "high"] = Field(description="Risk that the customer leaves")
    next_action: str = Field(description="What the owner should do next")
    suggested_reply: str = Field(description="A reply to send to the customer")
    language: str = Field("es", description="Language of the conversation, e.g. es or en")

    @field_validator("summary", mode="before")
    @classmethod
    def _clip_summary(cls, value: Any) -> Any:
        return _clip(value, SUMMARY_MAX) if isinstance(value, str) else value

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp_confidence(cls, value: Any) -> Any:
        return min(1.0, max(0.0, float(value))) if isinstance(value, int | float) else value


class GenerateInsightsArgs(BaseModel):
    """No arguments: the tool always analyzes the current conversation."""


# -- text helpers ---------------------------------------------------------------


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    base = "".join(ch for ch in unicodedata.normalize("NFKD", c.lower()) if not unicodedata.combining(ch))
    return "'" if c in "’`´" else (base[:1] or c)


def fold(text: str) -> str:
    """Lowercase and strip accents keeping one char per char, so match offsets map back to `text`."""
    return "".join(_fold_char(c) for c in text)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _words(folded: str) -> list[str]:
    return _WORD.findall(folded)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _dedupe(items: list[str], limit: int = 8) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = fold(item)
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out[:limit]


# -- entities -------------------------------------------------------------------


class Amount(NamedTuple):
    text: str
    value: float
    currency: str | None  # ISO code; None for a bare "$" or no sign (the business's currency)


_CURRENCY = {
    "us$": "USD",
    "u$s": "USD",
    "usd": "USD",
    "dolares": "USD",
    "dolar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "€": "EUR",
    "euros": "EUR",
    "ars": "ARS",
    "pesos": "ARS",
    "$": None,
}
_MAGNITUDE = {
    "k": 1e3,
    "mil": 1e3,
    "luca": 1e3,
    "lucas": 1e3,
    "palo": 1e6,
    "palos": 1e6,
    "millon": 1e6,
    "millones": 1e6,
    "m": 1e6,
    "mm": 1e6,
}
_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<pre>us\$|u\$s|usd|ars|eur|€|\$)?\s?"
    r"(?P<num>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<mag>millones|millon|palos|palo|lucas|luca|mil|mm|k|m)\b)?"
    r"(?:\s?(?:de\s)?(?P<post>dolares|dolar|dollars|bucks|pesos|usd|ars|euros|eur)\b)?"
)
_QUANTITY_AFTER_MIL = re.compile(r"\s+(?!de\b|para\b|en\b|aprox|mas\b|total|pesos|dolares|usd|ars)[a-z]{3,}")


def _number(raw: str, has_magnitude: bool) -> float:
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(raw.replace(thousands, "").replace(decimal, "."))
    for sep in ",.":
        if sep in raw:
            parts = raw.split(sep)
            if len(parts) > 2 or (len(parts[-1]) == 3 and not has_magnitude):
                return float(raw.replace(sep, ""))
            return float(raw.replace(sep, "."))
    return float(raw)


def find_amounts(text: str) -> list[Amount]:
    """Money amounts: "$500.000", "2 millones", "USD 3k", "1.200,50 pesos", "500 mil".

    A bare number counts only with a currency sign/word or a money magnitude
    ("2 taladros" is not an amount; "5 mil tornillos" neither).
    """
    folded = fold(text)
    out: list[Amount] = []
    for m in _AMOUNT.finditer(folded):
        pre, mag, post = m.group("pre"), m.group("mag"), m.group("post")
        if not (pre or post or mag):
            continue
        if mag in ("m", "mm") and not (pre or post):
            continue  # "3 m" is three metres
        if mag == "mil" and not (pre or post) and _QUANTITY_AFTER_MIL.match(folded, m.end()):
            continue
        value = _number(m.group("num"), bool(mag)) * _MAGNITUDE.get(mag or "", 1.0)
        currency = _CURRENCY.get(post or "") or _CURRENCY.get(pre or "")
        out.append(Amount(text[m.start() : m.end()].strip(), value, currency))
    return out


_WEEKDAYS = r"(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTHS = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|"
    r"january|february|march|april|june|july|august|september|october|november|december)"
)
_DATE = re.compile(
    r"\b(?:"
    rf"\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?"
    rf"|\d{{1,2}} de {_MONTHS}(?: de \d{{4}})?"
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTHS}"
    rf"|(?:para|en|a fin de|antes de|hasta|by|in|before|until) (?:el |la |fines de |principios de |mediados de "
    rf"|the end of |early |late |mid[- ])?{_MONTHS}"
    r"|pasado manana|manana|hoy|esta semana|(?:la )?semana que viene|(?:la )?proxima semana"
    r"|(?:el )?mes que viene|(?:el )?proximo mes|este mes|fin(?:es)? de mes|(?:el )?ano que viene"
    rf"|(?:el |este |el proximo |proximo )?{_WEEKDAYS}s?(?: que viene)?"
    r"|today|tomorrow|tonight|this week|next week|this month|next month|end of the month|next year"
    rf"|(?:on |next |this )?{_WEEKDAYS}"
    r"|en \d+ (?:dias|semanas|meses)|in \d+ (?:days|weeks|months)|within \d+ (?:days|weeks)"
    r")\b"
)


def find_dates(text: str) -> list[str]:
    """Dates and deadlines as written: "15/03", "para marzo", "el viernes", "next week"."""
    return [text[m.start() : m.end()] for m in _DATE.finditer(fold(text))]


_CAP = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+"
_NAME = re.compile(
    rf"(?i:\b(?:me llamo|mi nombre es|soy|i'm|i am|my name is|this is))\s+({_CAP}(?:\s+{_CAP}){{0,2}})"
)
_NOT_NAMES = {
    "el",
    "la",
    "los",
    "las",
    "un",
    "una",
    "de",
    "del",
    "the",
    "a",
    "an",
    "cliente",
    "clienta",
    "dueño",
    "dueña",
    "encargado",
    "encargada",
    "interested",
    "looking",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w$.,/])\+?\d[\d\s-]{6,18}\d(?![\w/]|[.,]\d)")


def find_names(text: str) -> list[str]:
    """Names people give for themselves: "soy Ana Pérez", "me llamo Juan", "I'm John"."""
    out = []
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        while words and words[0].lower() in _NOT_NAMES:
            words.pop(0)
        if words:
            out.append(" ".join(words))
    return out


def find_emails(text: str) -> list[str]:
    return _EMAIL.findall(text)


def find_phones(text: str) -> list[str]:
    return [
        m.group().strip() for m in _PHONE.finditer(text) if 8 <= sum(c.isdigit() for c in m.group()) <= 15
    ]


def _significant(name: str) -> list[str]:
    return [t for t in tokens(name, drop_stopwords=True) if len(t) >= 3 and not t[0].isdigit()]


def mentioned_products(text: str, product_names: Sequence[str], limit: int = 5) -> list[str]:
    """Catalog names the text refers to.

    A product counts when its full name appears, or its head noun plus another
    of its words ("pintura látex"), or just its head noun when no other product
    shares it ("el taladro" with one drill in the list); the best overlap wins.
    """
    norm = f" {normalize(text)} "
    words = set(tokens(text))
    exact: list[str] = []
    by_head: dict[str, list[tuple[int, str]]] = {}
    for name in product_names:
        sig = _significant(name)
        if not sig:
            continue
        if f" {normalize(name)} " in norm:
            exact.append(name)
        elif sig[0] in words:
            by_head.setdefault(sig[0], []).append((sum(1 for t in set(sig) if t in words), name))
    fuzzy: list[str] = []
    for candidates in by_head.values():
        best = max(n for n, _ in candidates)
        if best >= 2 or len(candidates) == 1:
            fuzzy.extend([name for n, name in candidates if n == best][:2])
    return _dedupe(exact + fuzzy, limit)


# -- lexicon --------------------------------------------------------------------

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    intents: dict[str, tuple[str, dict[Phrase, float]]]
    default_intent: str
    default_category: str
    recency_boost: float
    quantity_cue: float
    negative_to_complaint: float
    positive: dict[Phrase, float]
    negative: dict[Phrase, float]
    complaint_cue: float
    positive_at: float
    negative_at: float
    negations: frozenset[str]
    negation_window: int
    intensifiers: dict[str, float]
    emoji: dict[str, float]
    churn: dict[Phrase, float]


def _phrases(mapping: dict[str, Any] | None) -> dict[Phrase, float]:
    return {tuple(_words(fold(str(k)))): float(v) for k, v in (mapping or {}).items() if _words(fold(str(k)))}


@lru_cache(maxsize=4)
def _parse_lexicon(path: str, _mtime_ns: int) -> Lexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    senti = raw.get("sentiment", {})
    return Lexicon(
        intents={
            name: (spec["category"], _phrases(spec.get("cues"))) for name, spec in raw["intents"].items()
        },
        default_intent=raw.get("default_intent", "general"),
        default_category=raw.get("default_category", "support"),
        recency_boost=float(raw.get("recency_boost", 0.5)),
        quantity_cue=float(raw.get("quantity_cue", 1.5)),
        negative_to_complaint=float(raw.get("negative_to_complaint", 0.8)),
        positive=_phrases(senti.get("positive")),
        negative=_phrases(senti.get("negative")),
        complaint_cue=float(senti.get("complaint_cue", 1.0)),
        positive_at=float(senti.get("positive_at", 1.0)),
        negative_at=float(senti.get("negative_at", -1.0)),
        negations=frozenset(fold(str(w)) for w in raw.get("negations", [])),
        negation_window=int(raw.get("negation_window", 3)),
        intensifiers={fold(str(k)): float(v) for k, v in (raw.get("intensifiers") or {}).items()},
        emoji={str(k): float(v) for k, v in (raw.get("emoji") or {}).items()},
        churn=_phrases(raw.get("churn")),
    )


def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The lexicon, re-parsed when the file changes (sync file access: call off the event loop)."""
    return _parse_lexicon(str(path), path.stat().st_mtime_ns)


_NUMBER_WORDS = (
    r"\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|quince|veinte|treinta|cincuenta|cien"
    r"|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|fifty|hundred"
)
_QUANTITY = re.compile(
    rf"\b(?:{_NUMBER_WORDS})\s+(?!(?:de|a|y|o|en|por|of|or|and|to|in|dias|dia|semanas|semana|meses|mes|horas|hora"
    r"|minutos|anos|veces|days|day|weeks|week|months|month|hours|hour|minutes|years|times|am|pm|hs)\b)[a-z]{3,}"
)


def _quantities(folded: str) -> int:
    """How many "<number> <noun>" phrases a folded message has, dates and money excluded."""
    return len(_QUANTITY.findall(_DATE.sub(" ", _AMOUNT.sub(" ", folded))))


def _inflected(word: str, cue: str) -> bool:
    """A single-word cue also matches its inflections: "cotizar" ~ "cotizás", "demora" ~ "demoraron".

    Only the cue's last letter may differ and the word may add up to three more,
    so "comprar" does not match the past "compré".
    """
    return len(cue) >= 5 and word.startswith(cue[:-1]) and len(word) - len(cue) + 1 <= 3


def _hits(words: list[str], phrases: dict[Phrase, float]) -> list[tuple[int, Phrase, float]]:
    out = []
    for i, word in enumerate(words):
        for phrase, weight in phrases.items():
            if len(phrase) == 1:
                if word == phrase[0] or _inflected(word, phrase[0]):
                    out.append((i, phrase, weight))
            elif word == phrase[0] and tuple(words[i : i + len(phrase)]) == phrase:
                out.append((i, phrase, weight))
    return out


# -- offline analysis -------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_prompts() -> PromptStore:
    return PromptStore(PROMPTS_DIR)


def _sentiment_of(text: str, lex: Lexicon) -> float:
    words = _words(fold(text))
    polar = lex.positive | {p: -w for p, w in lex.negative.items()}
    starts = {i: w for i, _, w in _hits(words, polar)}
    total, negated_until, boost = 0.0, -1, 1.0
    for i, word in enumerate(words):
        if i in starts:
            value = starts[i] * boost
            total += -0.8 * value if i <= negated_until else value
            boost = 1.0
        elif word in lex.intensifiers:
            boost = lex.intensifiers[word]
        else:
            boost = 1.0
        if word in lex.negations:
            negated_until = i + lex.negation_window
    total += sum(text.count(e) * v for e, v in lex.emoji.items())
    return total


def _confidence(scores: dict[str, float]) -> float:
    ranked = sorted(scores.values(), reverse=True) + [0.0, 0.0]
    top, second = ranked[0], ranked[1]
    if top <= 0:
        return 0.3
    margin, strength = (top - second) / top, min(1.0, top / 5.0)
    return round(min(0.98, 0.3 + 0.4 * margin + 0.3 * strength), 2)


def _text(prompts: PromptStore, key: str, language: str, fallback: str, **values: Any) -> str:
    name = f"insights.{key}"
    return prompts.text(name if prompts.has(name, language) else f"insights.{fallback}", language, **values)


def analyze_offline(
    messages: Sequence[tuple[str, str]],
    *,
    language: str,
    product_names: Sequence[str] = (),
    prompts: PromptStore | None = None,
    lexicon: Lexicon | None = None,
) -> InsightData:
    """Rule-based insights from `(author, text)` pairs; author is "customer", "bot" or "human".

    Category and sentiment come from the customer's messages only (later
    messages weigh more); entities from the whole transcript. Sync and
    CPU-bound (plus cached file reads): call it through `asyncio.to_thread`
    from async code.
    """
    lex = lexicon or load_lexicon()
    prompts = prompts or _default_prompts()
    said = [text for author, text in messages if author == "customer" and text]
    everything = "\n".join(text for _, text in messages if text)

    scores: dict[str, float] = {}
    intent_scores: dict[str, float] = {}
    complaint_hits = 0
    sentiment = 0.0
    for idx, text in enumerate(said):
        recency = 1.0 + lex.recency_boost * (idx / max(1, len(said) - 1))
        folded = fold(text)
        words = _words(folded)
        if lex.quantity_cue and (n := _quantities(folded)):
            intent_scores["purchase"] = intent_scores.get("purchase", 0.0) + lex.quantity_cue * n * recency
            scores["sale"] = scores.get("sale", 0.0) + lex.quantity_cue * n * recency
        for intent, (category, cues) in lex.intents.items():
            hits = _hits(words, cues)
            if hits:
                gained = sum(w for _, _, w in hits) * recency
                intent_scores[intent] = intent_scores.get(intent, 0.0) + gained
                scores[category] = scores.get(category, 0.0) + gained
                complaint_hits += len(hits) if category == "complaint" else 0
        sentiment += _sentiment_of(text, lex)
    sentiment -= lex.complaint_cue * complaint_hits
    if sentiment < 0 and lex.negative_to_complaint:
        scores["complaint"] = scores.get("complaint", 0.0) + lex.negative_to_complaint * -sentiment

    if scores:
        category = max(scores, key=lambda c: (scores[c], c == "complaint"))
        candidates = [i for i in intent_scores if i in lex.intents and lex.intents[i][0] == category]
        intent = max(candidates, key=intent_scores.__getitem__, default=category)  # "complaint": generic
    else:
        category, intent = lex.default_category, lex.default_intent
    mood: Sentiment = (
        "negative"
        if sentiment <= lex.negative_at
        else "positive"
        if sentiment >= lex.positive_at
        else "neutral"
    )
    if category == "complaint" and mood == "positive":
        mood = "neutral"  # thanking politely does not make a complaint a happy one

    churn_words = sum(w for t in said for _, _, w in _hits(_words(fold(t)), lex.churn))
    churn = (
        "high"
        if churn_words or (category == "complaint" and sentiment <= 3 * lex.negative_at)
        else "medium"
        if category == "complaint" or mood == "negative"
        else "low"
    )

    customer_text = "\n".join(said)
    entities = Entities(
        amounts=_dedupe([a.text for a in find_amounts(everything)]),
        dates=_dedupe(find_dates(customer_text)),
        names=_dedupe(find_names(customer_text)),
        products=mentioned_products(everything, product_names),
        emails=_dedupe(find_emails(everything)),
        phones=_dedupe(find_phones(everything)),
    )

    lang = language
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
    if churn == "high":
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
        confidence=_confidence(scores),
        sentiment=mood,
        intent=intent,
        entities=entities,
        summary=_clip(summary, SUMMARY_MAX),
        churn_risk=churn,  # type: ignore[arg-type]
        next_action=next_action,
        suggested_reply=reply,
        language=lang,
    )


# -- model analysis ---------------------------------------------------------------


def _transcript(messages: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{author}: {text}" for author, text in messages if text)


async def _analyze(
    model: BaseChatModel | None,
    messages: Sequence[tuple[str, str]],
    language: str,
    product_names: Sequence[str],
    prompts: PromptStore | None,
) -> tuple[InsightData, str]:
    """Model first when there is one, offline otherwise or on failure; returns (data, source)."""
    if model is not None and messages:
        try:
            texts = prompts or await asyncio.to_thread(_default_prompts)
            instructions = texts.text("insights.model_instructions", language)
            structured = model.with_structured_output(InsightData)
            async with asyncio.timeout(MODEL_TIMEOUT_S):
                result = await structured.ainvoke(
                    [SystemMessage(instructions), HumanMessage(_transcript(messages))]
                )
            data = result if isinstance(result, InsightData) else InsightData.model_validate(result)
            return data.model_copy(update={"language": language}), "model"
        except Exception as exc:  # any provider or validation failure: the offline analysis still works
            log.warning("model insights failed, using offline analysis: %s", exc)
    data = await asyncio.to_thread(
        analyze_offline, messages, language=language, product_names=product_names, prompts=prompts
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
    words = [w for t in texts for w in _words(fold(t))]
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
    data, source = await _analyze(model, messages, language, names, services.prompts)
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
