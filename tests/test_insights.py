"""Insights: the offline analyzer, the model path (fake OpenAI server), storage and the tool.

The labelled eval set (tests/eval/insights.yaml) is scored here too; the
figures are printed and written to tests/artifacts/insights_eval.json.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_openai import ChatOpenAI

from config.business import BusinessConfig
from prompts import PromptStore
from storage.db import Database
from storage.insights import InsightRepo
from storage.repository import ProductRow, Repositories
from tests.fakes.openai_api import FakeOpenAI
from tools.context import Services, ToolContext
from tools.generate_insights import (
    InsightData,
    analyze_offline,
    analyze_with_model,
    generate_for_conversation,
    generate_insights,
)
from tools.text_entities import mentioned_products
from tools.text_signals import find_amounts, find_dates

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(__file__).with_name("eval") / "insights.yaml"
ARTIFACT = Path(__file__).with_name("artifacts") / "insights_eval.json"
PRODUCTS = [
    "Taladro percutor 650W",
    "Pintura látex blanca 20 L",
    "Martillo carpintero 16 oz",
    "Cemento Portland 50 kg",
]


def offline(messages: list[tuple[str, str]], language: str = "es") -> InsightData:
    return analyze_offline(messages, language=language, product_names=PRODUCTS)


# -- offline analyzer -------------------------------------------------------------------


def test_complaint_in_spanish() -> None:
    data = offline(
        [
            ("customer", "Hola, soy Marta Gómez. El taladro percutor que compré vino roto, no funciona."),
            ("bot", "¡Lamentamos mucho lo ocurrido! ¿Me pasás el número de compra?"),
            ("customer", "Es la 4521. Estoy muy enojada, nadie me responde 😡"),
        ]
    )
    assert (data.category, data.sentiment) == ("complaint", "negative")
    assert data.confidence >= 0.7 and data.churn_risk in ("medium", "high")
    assert data.summary.startswith("Reclamo: Marta Gómez") and len(data.summary) <= 300
    assert data.entities.names == ["Marta Gómez"]
    assert data.entities.products == ["Taladro percutor 650W"]
    assert data.suggested_reply.startswith("Hola Marta") and data.next_action


def test_complaint_in_english() -> None:
    data = offline([("customer", "My order never arrived, I'm still waiting. Really disappointed.")], "en")
    assert (data.category, data.sentiment, data.language) == ("complaint", "negative", "en")
    assert data.summary.startswith("Complaint: the customer") and data.intent == "late_delivery"


def test_purchase_is_a_sale_with_amounts_dates_and_products() -> None:
    data = offline(
        [
            ("customer", "Buenas, quiero comprar 3 taladros percutores. Tengo un presupuesto de $500.000."),
            ("bot", "El Taladro percutor 650W sale $85.999."),
            (
                "customer",
                "Perfecto, los necesito para el viernes. Mi mail es obra@mendez.com.ar, cel 11 4567-8901",
            ),
        ]
    )
    assert data.category == "sale" and data.intent == "purchase" and data.sentiment != "negative"
    assert data.entities.amounts == ["$500.000", "$85.999"]
    assert data.entities.products == ["Taladro percutor 650W"]
    assert data.entities.dates == ["el viernes"]
    assert data.entities.emails == ["obra@mendez.com.ar"] and data.entities.phones == ["11 4567-8901"]
    assert "Montos: $500.000" in data.summary and data.churn_risk == "low"


def test_support_question() -> None:
    data = offline(
        [("customer", "How many coats of latex paint do I need? How do I prepare the wall?")], "en"
    )
    assert data.category == "support" and data.intent == "how_to"
    es = offline([("customer", "¿A qué hora abren los sábados?")])
    assert es.category == "support" and es.intent == "store_info" and es.sentiment == "neutral"


def test_entity_patterns() -> None:
    amounts = find_amounts("2 millones, USD 3k, 1.200,50 pesos, 5 mil tornillos, 3 m de cable, US$ 200")
    assert [(a.text, a.value, a.currency) for a in amounts] == [
        ("2 millones", 2_000_000, None),
        ("USD 3k", 3000, "USD"),
        ("1.200,50 pesos", 1200.5, "ARS"),
        ("US$ 200", 200, "USD"),
    ]
    assert find_dates("para marzo, el 15/03, esta semana, next week, el 3 de abril") == [
        "para marzo",
        "15/03",
        "esta semana",
        "next week",
        "3 de abril",
    ]
    assert mentioned_products("la pintura latex que compré", PRODUCTS) == ["Pintura látex blanca 20 L"]
    assert mentioned_products("un taladro", PRODUCTS) == ["Taladro percutor 650W"]  # one-word head match
    assert mentioned_products("hola", PRODUCTS) == []


def test_negation_and_politeness() -> None:
    assert offline([("customer", "El producto no es bueno, no me gustó nada.")]).sentiment == "negative"
    polite = offline([("customer", "Quería hacer un reclamo: la amoladora dejó de funcionar. Gracias.")])
    assert polite.category == "complaint" and polite.sentiment != "positive"
    assert offline([("customer", "¡Excelente atención, muchas gracias! 🙂")]).sentiment == "positive"


# -- model path -------------------------------------------------------------------------


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def chat_model(fake: FakeOpenAI) -> ChatOpenAI:
    return ChatOpenAI(base_url=fake.base_url, api_key="sk-test", model="gpt-4o-mini", max_retries=0)


MODEL_ANSWER = {
    "category": "sale",
    "confidence": 0.92,
    "sentiment": "positive",
    "intent": "buy two drills",
    "entities": {"amounts": ["$171.998"], "products": ["Taladro percutor 650W"]},
    "summary": "El cliente compra dos taladros. " * 20,  # too long: clipped, not rejected
    "churn_risk": "low",
    "next_action": "Confirmar la entrega.",
    "suggested_reply": "¡Gracias por tu compra!",
    "language": "xx",
}


async def test_model_structured_output_is_validated(openai_fake: FakeOpenAI) -> None:
    openai_fake.push(FakeOpenAI.text(json.dumps(MODEL_ANSWER)))
    data = await analyze_with_model(chat_model(openai_fake), [("customer", "Me llevo dos taladros")], "es")
    assert (data.category, data.intent, data.language) == ("sale", "buy two drills", "es")
    assert len(data.summary) <= 300 and data.summary.endswith("…")
    request = openai_fake.requests[0]
    assert request["messages"][0]["role"] == "system" and "analista" in request["messages"][0]["content"]
    assert request["messages"][1]["content"] == "customer: Me llevo dos taladros"


async def test_model_failure_falls_back_to_offline(openai_fake: FakeOpenAI) -> None:
    openai_fake.push(FakeOpenAI.text(json.dumps({"category": "refund?", "confidence": 3})))
    bad = await analyze_with_model(chat_model(openai_fake), [("customer", "El pedido nunca llegó")], "es")
    assert bad.category == "complaint" and bad.intent == "late_delivery"
    openai_fake.fail_next(500)
    down = await analyze_with_model(
        chat_model(openai_fake), [("customer", "¿Cuánto sale el martillo?")], "es"
    )
    assert down.category == "sale"


# -- storage and the tool ------------------------------------------------------------------


@dataclass
class Env:
    db: Database
    repos: Repositories
    services: Services

    async def conversation(
        self, chat_id: str, turns: list[tuple[str, str]], language: str | None = "es"
    ) -> int:
        conv = await self.repos.conversations.get_or_create("web", chat_id, language)
        for i, (author, text) in enumerate(turns):
            if author == "customer":
                await self.repos.messages.add_inbound(conv, text=text, channel_message_id=f"{chat_id}-{i}")
            else:
                await self.repos.messages.add_outbound(conv, author=author, text=text)
        return conv.id  # type: ignore[return-value]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await db.start()
    repos = Repositories(db, "default")
    await repos.products.upsert_many(
        [ProductRow(f"SKU-{i}", name, "", "", Decimal("1000"), 5) for i, name in enumerate(PRODUCTS)]
    )
    services = Services(repos=repos, prompts=PromptStore(ROOT / "prompts"), catalog=None)  # type: ignore[arg-type]
    yield Env(db, repos, services)
    await db.close()


async def test_generate_for_conversation_stores_and_stamps(env: Env, openai_fake: FakeOpenAI) -> None:
    complaint = await env.conversation(
        "c1",
        [("customer", "El martillo carpintero se rompió al primer uso, pésimo."), ("bot", "Lo sentimos.")],
    )
    sale = await env.conversation("c2", [("customer", "Quiero comprar 10 bolsas de cemento portland")], None)

    data = await generate_for_conversation(env.services, complaint)
    assert data.category == "complaint" and data.entities.products == ["Martillo carpintero 16 oz"]
    insights = InsightRepo(env.db, "default")
    row = await insights.get(complaint)
    assert row is not None and (row.category, row.sentiment, row.source) == (
        "complaint",
        "negative",
        "offline",
    )
    assert InsightData.model_validate(row.data) == data
    conv = await env.repos.conversations.by_id(complaint)
    assert conv is not None and conv.insights_at is not None

    openai_fake.push(FakeOpenAI.text(json.dumps(MODEL_ANSWER)))
    model_data = await generate_for_conversation(env.services, sale, model=chat_model(openai_fake))
    assert model_data.intent == "buy two drills"
    row = await insights.get(sale)
    assert row is not None and row.source == "model"

    # Regenerating replaces the row (offline now: no model), and the filters work.
    again = await generate_for_conversation(env.services, sale)
    assert again.category == "sale" and again.language == "es"  # language guessed from the customer's words
    row = await insights.get(sale)
    assert row is not None and row.source == "offline"
    assert [r.conversation_id for r in await insights.list(category="sale")] == [sale]
    assert [r.conversation_id for r in await insights.list(sentiment="negative")] == [complaint]
    assert len(await insights.list()) == 2


async def test_tool_analyzes_the_current_conversation(env: Env) -> None:
    conv_id = await env.conversation(
        "c3", [("customer", "How do I install the drill bit? The manual is unclear.")], "en"
    )
    ctx = ToolContext(
        services=env.services,
        config=BusinessConfig(),
        conversation_id=conv_id,
        channel="web",
        chat_id="c3",
        language="en",
        now=datetime.now(UTC),
    )
    outcome = await generate_insights({}, ctx)
    assert outcome.data["insights"]["category"] == "support"
    assert outcome.data["insights"]["summary"].startswith("Support:")
    assert generate_insights.name == "generate_insights" and "owner" in generate_insights.description


# -- eval set ---------------------------------------------------------------------------


def test_eval_set_category_accuracy() -> None:
    cases = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    assert len(cases) >= 30 and len({c["id"] for c in cases}) == len(cases)
    assert {c["language"] for c in cases} == {"es", "en"}
    assert set(Counter(c["category"] for c in cases)) == {"sale", "support", "complaint"}

    hits = sentiment_hits = sentiment_total = 0
    confusion: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    for case in cases:
        data = analyze_offline(
            [tuple(m) for m in case["messages"]], language=case["language"], product_names=PRODUCTS
        )
        confusion[f"{case['category']}->{data.category}"] += 1
        if data.category == case["category"]:
            hits += 1
        else:
            misses.append({"id": case["id"], "expected": case["category"], "got": data.category})
        if "sentiment" in case:
            sentiment_total += 1
            sentiment_hits += data.sentiment == case["sentiment"]
    report = {
        "cases": len(cases),
        "category_accuracy": round(hits / len(cases), 3),
        "sentiment_accuracy": round(sentiment_hits / sentiment_total, 3) if sentiment_total else None,
        "sentiment_cases": sentiment_total,
        "by_language": dict(Counter(c["language"] for c in cases)),
        "confusion": dict(sorted(confusion.items())),
        "misses": misses,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\ninsights eval: {json.dumps(report, ensure_ascii=False)}")
    assert report["category_accuracy"] >= 0.8
