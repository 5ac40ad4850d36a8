"""Issue #9.7, a hung model: the customer is answered in time and later turns don't wait on it again.

The providers are real fake servers on 127.0.0.1 (tests/fakes) that accept
the connection, read the request and never answer; the daemon reaches them
through its normal base-URL settings. What this pins down:
- a web turn is answered within 15 s (the offline fallback, or the polite
  "model unavailable" sentence), and the customer's message is stored;
- the next turns go straight to the fallback: the hung server sees no new
  request (the circuit breaker is open, and /metrics says so);
- after the cool-down one probe call goes through; a provider that still
  hangs keeps the breaker open, one that answers closes it, and turns are
  the provider's again;
- the budget bounds a whole turn, also one whose first model step answered.
The breaker's own transitions are checked with an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import HumanMessage

from agent.breaker import Admission, BreakerState, CircuitBreaker
from agent.models import BudgetExhausted, ainvoke_with_retries, make_chat_model
from config.settings import LLMSettings
from tests.conftest import ROOT, SMALL_CATALOG, Harness, make_settings, running
from tests.fakes.gemini_api import FakeGemini
from tests.fakes.openai_api import FakeOpenAI
from tests.test_e2e_llm_providers import Provider
from tests.test_metrics_logs import scrape, value

REQUIREMENT_S = 15.0  # the customer's reply arrives within this, whatever the provider does
MODEL_UNAVAILABLE = yaml.safe_load((ROOT / "prompts" / "messages.es.yaml").read_text(encoding="utf-8"))[
    "model_unavailable"
]
ANSWER = "Sí, el martillo de 16 oz está disponible."


async def hang_forever(body: dict[str, Any]) -> str:
    """A scripted provider answer that never comes (the connection stays open)."""
    await asyncio.Event().wait()
    return "never"


@contextlib.asynccontextmanager
async def provider_fake(name: str) -> AsyncIterator[Provider]:
    if name == "openai":
        async with FakeOpenAI() as fake:
            settings = {"llm_provider": "openai", "openai_api_key": "sk-test", "openai_base_url": fake.base_url}
            yield Provider(name, fake, settings, "gpt-4o-mini")
    else:
        async with FakeGemini() as fake:
            settings = {"llm_provider": "gemini", "google_api_key": "k", "gemini_base_url": fake.base_url}
            yield Provider(name, fake, settings, "gemini-2.0-flash")


@contextlib.asynccontextmanager
async def daemon(data_dir: Path, provider: Provider, **overrides: Any) -> AsyncIterator[Harness]:
    async with running(make_settings(data_dir, **{**provider.settings, **overrides})) as bot:
        assert (await bot.import_csv(SMALL_CATALOG))["status"] == 200
        yield bot


async def timed_say(bot: Harness, chat_id: str, text: str) -> tuple[list[dict[str, Any]], float]:
    started = time.monotonic()
    replies = await bot.say(chat_id, text)
    return replies, time.monotonic() - started


async def inbound_texts(bot: Harness, chat_id: str) -> list[str]:
    detail = await bot.conversation(chat_id)
    return [m["text"] for m in detail["messages"] if m["direction"] == "in"]


async def circuit_open(bot: Harness, model: str) -> float:
    return value(await scrape(bot), "mostrador_model_circuit_open", model=model)


# -- the daemon against a hung provider ------------------------------------------------


@pytest.mark.parametrize("name", ["openai", "gemini"])
async def test_hung_provider_answered_in_time_then_skipped_until_it_recovers(data_dir: Path, name: str) -> None:
    """Default budget and per-attempt timeout (10 s, 30 s x 3 attempts); a short cool-down."""
    cooldown = 3.0
    async with provider_fake(name) as provider, daemon(data_dir, provider, llm_breaker_cooldown_s=cooldown) as bot:
        fake = provider.fake
        fake.hang()
        replies, took = await timed_say(bot, "hung", "tenés martillos?")
        assert took < REQUIREMENT_S
        text = replies[-1]["text"]
        assert "Martillo" in text and "$12.500" in text  # the offline fallback answered from the catalog
        assert await inbound_texts(bot, "hung") == ["tenés martillos?"]
        seen = len(fake.requests)
        assert seen == 1  # the budget cut the one attempt; no retry was left to wait on
        assert await fake.released()  # the daemon closed the connection it gave up on
        assert await circuit_open(bot, provider.model) == 1

        # The breaker is open: the next turn (another customer too) does not wait on the provider.
        replies, took = await timed_say(bot, "other", "tenés taladros?")
        assert took < 2.0
        assert "Taladro" in replies[-1]["text"]
        assert len(fake.requests) == seen
        assert await inbound_texts(bot, "other") == ["tenés taladros?"]

        # The provider recovers; after the cool-down one probe closes the breaker.
        fake.hang(False)
        fake.push(fake.text(ANSWER), fake.text("¡De nada!"))
        await asyncio.sleep(cooldown + 0.2)
        replies, _ = await timed_say(bot, "hung", "y está disponible?")
        assert replies[-1]["text"] == ANSWER
        assert await circuit_open(bot, provider.model) == 0
        replies, _ = await timed_say(bot, "other", "gracias")
        assert replies[-1]["text"] == "¡De nada!"
        assert len(fake.requests) == seen + 2 and fake.pending == 0
        assert await inbound_texts(bot, "hung") == ["tenés martillos?", "y está disponible?"]
        assert (await bot.client.get("/healthz")).status == 200


async def test_probe_into_a_still_hung_provider_keeps_the_breaker_open(data_dir: Path) -> None:
    cooldown = 1.0
    settings = {"llm_turn_budget_s": 2.0, "llm_breaker_cooldown_s": cooldown, "llm_breaker_probe_timeout_s": 0.5}
    async with provider_fake("openai") as provider, daemon(data_dir, provider, **settings) as bot:
        fake = provider.fake
        fake.hang()
        replies, took = await timed_say(bot, "probe", "tenés martillos?")
        assert took < REQUIREMENT_S and "Martillo" in replies[-1]["text"]
        assert len(fake.requests) == 1

        await asyncio.sleep(cooldown + 0.2)
        replies, took = await timed_say(bot, "probe", "y cemento?")  # half-open: this turn carries the probe
        assert took < REQUIREMENT_S and "Cemento" in replies[-1]["text"]
        assert len(fake.requests) == 2
        replies, took = await timed_say(bot, "probe", "y taladros?")  # open again: no wait, no request
        assert took < 2.0 and "Taladro" in replies[-1]["text"]
        assert len(fake.requests) == 2
        assert await circuit_open(bot, provider.model) == 1
        assert await fake.released()  # the daemon closed the connection it gave up on

        fake.hang(False)
        fake.push(fake.text(ANSWER))
        await asyncio.sleep(cooldown + 0.2)
        replies, _ = await timed_say(bot, "probe", "y está disponible?")
        assert replies[-1]["text"] == ANSWER
        assert await inbound_texts(bot, "probe") == ["tenés martillos?", "y cemento?", "y taladros?",
                                                    "y está disponible?"]


async def test_hung_provider_without_fallback_says_so_in_time(data_dir: Path) -> None:
    settings = {"llm_fallback_offline": False, "llm_turn_budget_s": 2.0}
    async with provider_fake("openai") as provider, daemon(data_dir, provider, **settings) as bot:
        fake = provider.fake
        fake.hang()
        replies, took = await timed_say(bot, "nofb", "tenés martillos?")
        assert took < REQUIREMENT_S
        assert [r["text"] for r in replies] == [MODEL_UNAVAILABLE]
        replies, took = await timed_say(bot, "nofb", "hola?")
        assert took < 2.0 and [r["text"] for r in replies] == [MODEL_UNAVAILABLE]
        assert len(fake.requests) == 1
        assert await inbound_texts(bot, "nofb") == ["tenés martillos?", "hola?"]


async def test_budget_bounds_the_whole_turn_not_each_step(data_dir: Path) -> None:
    """The first step answers (a tool call), the second hangs: the rest of the budget, not 30 s x 3."""
    async with provider_fake("openai") as provider, daemon(data_dir, provider, llm_turn_budget_s=3.0) as bot:
        fake = provider.fake
        fake.push(fake.tool_call("search_products", {"query": "martillo"}))
        fake.script(hang_forever)
        replies, took = await timed_say(bot, "steps", "tenés martillos?")
        assert took < REQUIREMENT_S
        assert replies and replies[-1]["text"].strip()
        assert len(fake.requests) == 2  # the tool call, then one hung attempt cut by the budget
        assert await inbound_texts(bot, "steps") == ["tenés martillos?"]
        assert await circuit_open(bot, provider.model) == 1  # it hung for most of the budget


async def test_slow_provider_cut_late_in_a_turn_is_not_taken_for_a_hang(data_dir: Path) -> None:
    """A slow first step leaves little budget; the second step cut short does not open the breaker."""
    async with provider_fake("openai") as provider, daemon(data_dir, provider, llm_turn_budget_s=3.0) as bot:
        fake = provider.fake
        fake.delay_next(2.5)
        fake.push(fake.tool_call("search_products", {"query": "martillo"}))
        fake.script(hang_forever)
        replies, took = await timed_say(bot, "slow", "tenés martillos?")
        assert took < REQUIREMENT_S and replies[-1]["text"].strip()
        assert len(fake.requests) == 2
        fake.script(None)
        fake.push(fake.text(ANSWER))
        replies, _ = await timed_say(bot, "slow", "y está disponible?")
        assert replies[-1]["text"] == ANSWER
        assert await circuit_open(bot, provider.model) == 0


async def test_failures_that_cost_little_leave_the_breaker_closed(data_dir: Path) -> None:
    """Two quick 500s in one turn are one failed call: the next turn still asks the provider."""
    async with provider_fake("openai") as provider, daemon(data_dir, provider, llm_max_retries=1) as bot:
        fake = provider.fake
        fake.fail_next(500, times=2)
        replies, _ = await timed_say(bot, "fast", "tenés martillos?")
        assert "Martillo" in replies[-1]["text"] and len(fake.requests) == 2
        fake.push(fake.text(ANSWER))
        replies, _ = await timed_say(bot, "fast", "y está disponible?")
        assert replies[-1]["text"] == ANSWER
        assert await circuit_open(bot, provider.model) == 0


# -- the retry helper's budget ---------------------------------------------------------


async def test_budget_caps_the_attempts_deadline() -> None:
    async with FakeOpenAI() as fake:
        llm = LLMSettings(provider="openai", openai_api_key="sk-test", openai_base_url=fake.base_url)
        model = make_chat_model(llm, offline_factory=GenericFakeChatModel, sdk_retries=False)
        fake.hang()
        started = time.monotonic()
        with pytest.raises(BudgetExhausted):
            await ainvoke_with_retries(model, [HumanMessage("hola")], timeout_s=30, budget_s=1.0)
        assert time.monotonic() - started < 5
        assert len(fake.requests) == 1
        assert await fake.released()  # the daemon closed the connection it gave up on


async def test_short_attempts_are_retried_within_the_budget() -> None:
    async with FakeOpenAI() as fake:
        llm = LLMSettings(provider="openai", openai_api_key="sk-test", openai_base_url=fake.base_url)
        model = make_chat_model(llm, offline_factory=GenericFakeChatModel, sdk_retries=False)
        fake.delay_next(5.0)
        fake.push("a tiempo")
        reply = await ainvoke_with_retries(model, "hola", base_delay=0.01, timeout_s=0.5, budget_s=5.0)
        assert reply.content == "a tiempo" and len(fake.requests) == 2


# -- the breaker's transitions -----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_breaker(**kwargs: Any) -> tuple[CircuitBreaker, Clock, list[BreakerState]]:
    clock, changes = Clock(), []
    breaker = CircuitBreaker(cooldown_s=30.0, clock=clock, on_change=changes.append, **kwargs)
    return breaker, clock, changes


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker, _, changes = make_breaker(failures=3)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # the count starts over
    breaker.failed()
    breaker.failed()
    assert breaker.admit() is Admission.CALL
    breaker.failed()
    assert breaker.state is BreakerState.OPEN and breaker.admit() is None
    assert changes == [BreakerState.OPEN]


def test_breaker_opens_at_once_on_a_timeout_and_probes_after_the_cooldown() -> None:
    breaker, clock, changes = make_breaker(failures=3)
    breaker.failed(timed_out=True)
    assert breaker.admit() is None
    clock.now += 29.9
    assert breaker.admit() is None
    clock.now += 0.2
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit() is Admission.PROBE
    assert breaker.admit() is None  # one probe at a time
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED and breaker.admit() is Admission.CALL
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_failed_probe_opens_for_another_cooldown() -> None:
    breaker, clock, _ = make_breaker(failures=3)
    breaker.failed(timed_out=True)
    clock.now += 30
    assert breaker.admit() is Admission.PROBE
    breaker.failed()  # one failure is enough in half-open
    assert breaker.state is BreakerState.OPEN
    clock.now += 29
    assert breaker.admit() is None
    clock.now += 1
    assert breaker.admit() is Admission.PROBE


def test_abandoned_probe_lets_the_next_caller_probe() -> None:
    breaker, clock, _ = make_breaker()
    breaker.failed(timed_out=True)
    clock.now += 30
    assert breaker.admit() is Admission.PROBE
    breaker.abandoned(Admission.PROBE)  # the turn was cancelled mid-probe
    assert breaker.admit() is Admission.PROBE


def test_settings_give_remote_providers_a_budget_and_a_breaker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, raw in {"BOT_LLM_TURN_BUDGET": "4", "BOT_LLM_BREAKER_FAILURES": "2", "BOT_LLM_BREAKER_COOLDOWN": "12",
                      "BOT_LLM_BREAKER_PROBE_TIMEOUT": "1.5"}.items():
        monkeypatch.setenv(name, raw)
    llm = make_settings(tmp_path, llm_provider="openai", openai_api_key="sk-test").llm
    assert llm.turn_budget_s == 4.0
    assert llm.breaker is not None
    assert (llm.breaker.failures, llm.breaker.cooldown_s, llm.breaker.probe_timeout_s) == (2, 12.0, 1.5)
    offline = make_settings(tmp_path).llm  # in-process: nothing to wait on, nothing to break
    assert offline.turn_budget_s is None and offline.breaker is None
