"""Issue #4, the same graph driven by OpenAI and by Gemini (fake servers on 127.0.0.1), over HTTP.

The fakes are scripted to make the model's tool calls; the product talks to
them through its normal settings. What this pins down:
- the offer's wording, price and quantity come from our graph and the
  database, never from the model (a `price` the model sends is ignored);
- the customer's yes commits through the deterministic confirm step, with
  no model call;
- a model that claims "ya registré tu compra" registers nothing;
- a provider failing (500s, hangs) is retried, then answered gracefully,
  with the customer's message kept and the daemon healthy;
- each turn records the model and its token usage.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from storage.models import Sale, Turn
from tests.conftest import ROOT, SMALL_CATALOG, Harness, make_settings, running
from tests.fakes.gemini_api import FakeGemini
from tests.fakes.openai_api import FakeLLMServer, FakeOpenAI, Reply, ToolCallSpec

MODEL_UNAVAILABLE = yaml.safe_load((ROOT / "prompts" / "messages.es.yaml").read_text(encoding="utf-8"))[
    "model_unavailable"
]
FAST = {"llm_timeout_s": 2.0, "llm_max_retries": 1}  # 2 attempts, short deadlines (a loaded CI machine needs >0.5 s)


@dataclass
class Provider:
    name: str
    fake: FakeLLMServer
    settings: dict[str, Any]
    model: str


@pytest.fixture(params=["openai", "gemini"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    if request.param == "openai":
        async with FakeOpenAI() as fake:
            yield Provider(
                "openai",
                fake,
                {"llm_provider": "openai", "openai_api_key": "sk-test", "openai_base_url": fake.base_url},
                "gpt-4o-mini",
            )
    else:
        async with FakeGemini() as fake:
            yield Provider(
                "gemini",
                fake,
                {"llm_provider": "gemini", "google_api_key": "k", "gemini_base_url": fake.base_url},
                "gemini-2.0-flash",
            )


BotFactory = Callable[..., Any]


@pytest.fixture
def start_bot(data_dir: Path, provider: Provider) -> BotFactory:
    """`async with start_bot(**overrides) as bot:` a daemon on the provider's fake, with SMALL_CATALOG."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Harness]:
        settings = make_settings(data_dir, **{**provider.settings, **FAST, **overrides})
        async with running(settings) as harness:
            result = await harness.import_csv(SMALL_CATALOG)
            assert result["status"] == 200, result
            yield harness

    return factory


async def sales(bot: Harness) -> list[Sale]:
    async with bot.daemon.services.repos.db.session() as s:
        return list((await s.execute(select(Sale))).scalars())


async def turns(bot: Harness) -> list[Turn]:
    async with bot.daemon.services.repos.db.session() as s:
        return list((await s.execute(select(Turn).order_by(Turn.id))).scalars())


def inbound_texts(detail: dict[str, Any]) -> list[str]:
    return [m["text"] for m in detail["messages"] if m["direction"] == "in"]


async def test_purchase_price_from_the_db_and_yes_commits_without_the_model(
    provider: Provider, start_bot: BotFactory
) -> None:
    fake = provider.fake
    fake.push(
        fake.tool_call("search_products", {"query": "martillo"}),
        # The model tries to set a price: the tool has no such argument and ignores it.
        fake.tool_call("register_sale", {"sku": "MART-16", "quantity": 10, "price": 1}),
    )
    async with start_bot() as bot:
        replies = await bot.say("buy", "quiero 10 martillos")
        offer = replies[-1]["text"]
        assert "7" in offer and "$12.500" in offer and "$87.500" in offer
        assert [b["payload"] for b in replies[-1]["buttons"]] == ["confirm", "decline"]
        assert len(fake.requests) == 2 and fake.pending == 0  # search, then propose; the offer is ours
        assert await sales(bot) == []

        done = await bot.say("buy", "sí")
        assert len(fake.requests) == 2  # the yes went through the confirm step, not the model
        assert "Registré" in done[0]["text"] and "7 × Martillo" in done[0]["text"]
        [sale] = await sales(bot)
        assert (sale.sku, sale.quantity, float(sale.unit_price), float(sale.total)) == (
            "MART-16",
            7,
            12500.0,
            87500.0,
        )
        assert (await bot.product("MART-16"))["stock"] == 0
        detail = await bot.conversation("buy")
        assert [(s["sku"], s["quantity"], s["unit_price"]) for s in detail["sales"]] == [
            ("MART-16", 7, 12500.0)
        ]


async def test_model_claiming_a_sale_registers_nothing(provider: Provider, start_bot: BotFactory) -> None:
    fake = provider.fake
    fake.push(
        fake.text("¡Listo! Ya registré tu compra de 2 destornilladores."), fake.text("¡Perfecto, gracias!")
    )
    async with start_bot() as bot:
        await bot.say("liar", "quiero 2 destornilladores")
        await bot.say("liar", "sí")  # nothing is pending: the yes reaches the model, which can't commit
        assert len(fake.requests) == 2
        assert await sales(bot) == []
        assert (await bot.product("DEST-PH2"))["stock"] == 40
        assert (await bot.conversation("liar"))["sales"] == []


@pytest.mark.parametrize("failure", ["http_500", "timeout"])
async def test_provider_failure_is_retried_then_answered_offline(
    provider: Provider, start_bot: BotFactory, failure: str
) -> None:
    fake = provider.fake
    if failure == "http_500":
        fake.fail_next(500, times=20)
    else:
        fake.delay_next(3.0, times=20)  # longer than llm_timeout_s
    async with start_bot() as bot:
        replies = await bot.say("down", "tenés martillos?")
        assert len(fake.requests) == 2  # retried once (llm_max_retries=1), then given up for this turn
        text = replies[-1]["text"]
        assert "Martillo" in text and "$12.500" in text  # the offline fallback answered from the catalog
        assert inbound_texts(await bot.conversation("down")) == ["tenés martillos?"]
        assert (await bot.client.get("/healthz")).status == 200

        fake.reset()  # the provider recovers
        fake.push(fake.text("Sí, el martillo de 16 oz está disponible."))
        replies = await bot.say("down", "y está disponible?")
        assert replies[-1]["text"] == "Sí, el martillo de 16 oz está disponible."
        assert len(fake.requests) == 1


async def test_provider_down_without_offline_fallback_says_so(
    provider: Provider, start_bot: BotFactory
) -> None:
    fake = provider.fake
    fake.fail_next(500, times=20)
    async with start_bot(llm_fallback_offline=False) as bot:
        replies = await bot.say("down", "tenés martillos?")
        assert len(fake.requests) > 1
        assert replies[-1]["text"] == MODEL_UNAVAILABLE
        detail = await bot.conversation("down")
        assert inbound_texts(detail) == ["tenés martillos?"]
        assert (await bot.client.get("/healthz")).status == 200
        [turn] = await turns(bot)
        assert turn.input_tokens == 0 and turn.output_tokens == 0

        fake.reset()
        fake.push(fake.text("¡Hola! Sí, tenemos martillos."))
        replies = await bot.say("down", "hola?")
        assert replies[-1]["text"] == "¡Hola! Sí, tenemos martillos."


async def test_each_turn_records_model_and_token_usage(provider: Provider, start_bot: BotFactory) -> None:
    fake = provider.fake
    fake.push(
        Reply(tool_calls=[ToolCallSpec("search_products", {"query": "taladro"})], usage=(300, 20)),
        Reply(text="Tenemos el Taladro percutor 650W a $85.999.", usage=(420, 15)),
        Reply(text="¡De nada!", usage=(500, 5)),
    )
    async with start_bot() as bot:
        await bot.say("usage", "tenés taladros?")
        await bot.say("usage", "gracias")
        first, second = await turns(bot)
    assert (first.model, first.input_tokens, first.output_tokens) == (provider.model, 720, 35)
    assert (second.model, second.input_tokens, second.output_tokens) == (provider.model, 500, 5)
    assert first.error is None and first.latency_ms >= 0


async def test_estimated_usage_is_positive(provider: Provider, start_bot: BotFactory) -> None:
    """Without explicit counts the fakes estimate them, as a real server would report some."""
    provider.fake.push(provider.fake.text("Hola, ¿en qué te ayudo?"))
    async with start_bot() as bot:
        await bot.say("usage-2", "hola")
        [turn] = await turns(bot)
    assert turn.model == provider.model
    assert turn.input_tokens > 0 and turn.output_tokens > 0
