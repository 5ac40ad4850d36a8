"""`qualify_lead` on real SQLite: validation, merging over turns, scoring and the owner flag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.business import BusinessConfig
from prompts import PromptStore
from storage.db import Database
from storage.leads import LeadRepo
from storage.repository import Repositories
from tools.context import Services, ToolContext
from tools.qualify_lead import qualify_lead, score_lead, signal_strength

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = BusinessConfig().lead.weights


@dataclass
class Env:
    db: Database
    repos: Repositories

    async def ctx(self, chat_id: str, config: BusinessConfig | None = None) -> ToolContext:
        conv = await self.repos.conversations.get_or_create("web", chat_id, "es")
        services = Services(repos=self.repos, prompts=PromptStore(ROOT / "prompts"), catalog=None)  # type: ignore[arg-type]
        return ToolContext(
            services=services,
            config=config or BusinessConfig(),
            conversation_id=conv.id,  # type: ignore[arg-type]
            channel="web",
            chat_id=chat_id,
            language="es",
            now=datetime.now(UTC),
        )


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await db.start()
    yield Env(db, Repositories(db, "default"))
    await db.close()


async def call(ctx: ToolContext, **args: Any) -> dict[str, Any]:
    outcome = await qualify_lead(args, ctx)
    assert outcome.ok
    return outcome.data


async def test_contractor_with_full_details_is_qualified_stored_and_flagged(env: Env) -> None:
    ctx = await env.ctx("contractor")
    data = await call(
        ctx,
        name="Carlos Méndez",
        company="Constructora Méndez SRL",
        email="Carlos.Mendez@ConstructoraMendez.com.ar",
        phone="011 15 4567-8901",
        need="200 bolsas de cemento y 50 de cal para una obra en Palermo",
        budget="unos 2 millones",
        timeline="para esta semana",
        authority="soy el dueño de la empresa",
    )
    assert data["invalid"] == {}
    assert data["score"] >= BusinessConfig().lead.threshold
    assert data["score"] == 100 and data["qualified"] is True
    assert set(data["breakdown"]) == set(WEIGHTS) and round(sum(data["breakdown"].values())) == 100

    lead = await LeadRepo(env.db, "default").get_for_conversation(ctx.conversation_id)
    assert lead is not None
    assert lead.phone == "+5491145678901"  # E.164
    assert lead.email == "Carlos.Mendez@constructoramendez.com.ar"  # domain normalized
    assert (lead.name, lead.company, lead.score, lead.qualified) == (
        "Carlos Méndez",
        "Constructora Méndez SRL",
        100,
        True,
    )
    assert lead.breakdown == data["breakdown"]

    conv = await env.repos.conversations.by_id(ctx.conversation_id)
    assert conv is not None and conv.needs_attention is True
    assert conv.attention_reason == "qualified lead (score 100)"
    assert conv.customer_name == "Carlos Méndez"


async def test_curious_browser_scores_low_and_is_not_flagged(env: Env) -> None:
    ctx = await env.ctx("browser")
    data = await call(ctx, need="taladros")
    assert data["score"] < 20 and data["qualified"] is False
    assert data["lead"]["need"] == "taladros"
    assert data["missing"][:2] == ["email", "company"]  # most valuable unknown fields first
    conv = await env.repos.conversations.by_id(ctx.conversation_id)
    assert conv is not None and conv.needs_attention is False


async def test_invalid_email_and_phone_are_reported_and_not_stored(env: Env) -> None:
    ctx = await env.ctx("typo")
    data = await call(ctx, name="Ana", email="ana@@gmail", phone="123")
    assert set(data["invalid"]) == {"email", "phone"}
    assert data["invalid"]["email"]["value"] == "ana@@gmail" and data["invalid"]["email"]["reason"]
    lead = await LeadRepo(env.db, "default").get_for_conversation(ctx.conversation_id)
    assert lead is not None and lead.email is None and lead.phone is None and lead.name == "Ana"

    # Corrected later: the good address is stored, the earlier name kept.
    data = await call(ctx, email="ana@gmail.com")
    assert (
        data["invalid"] == {} and data["lead"]["email"] == "ana@gmail.com" and data["lead"]["name"] == "Ana"
    )


async def test_details_merge_over_turns_and_flag_only_when_crossing(env: Env) -> None:
    ctx = await env.ctx("piecemeal")
    first = await call(ctx, name="Lucía Paz", need="pintura para tres departamentos")
    assert not first["qualified"]
    second = await call(ctx, email="lucia@pazobras.com", company="Paz Obras", budget="$500.000")
    assert second["lead"]["name"] == "Lucía Paz" and second["lead"]["need"]
    assert second["score"] > first["score"] and second["qualified"]  # 10+15+15+15+15 = 70
    conv = await env.repos.conversations.by_id(ctx.conversation_id)
    assert conv is not None and conv.attention_reason == f"qualified lead (score {second['score']})"

    # The owner clears the flag; a later update of an already-qualified lead does not raise it again.
    await env.repos.conversations.update(ctx.conversation_id, needs_attention=False, attention_reason=None)
    third = await call(ctx, phone="+54 9 351 456-7890", timeline="para marzo")
    assert third["lead"]["phone"] == "+5493514567890" and third["score"] > second["score"]
    conv = await env.repos.conversations.by_id(ctx.conversation_id)
    assert conv is not None and conv.needs_attention is False

    leads = LeadRepo(env.db, "default")
    assert [lead.conversation_id for lead in await leads.list(qualified=True)] == [ctx.conversation_id]
    assert await leads.list(min_score=third["score"] + 1) == []


async def test_owner_threshold_and_weights_apply(env: Env) -> None:
    config = BusinessConfig.model_validate({"lead": {"threshold": 30, "weights": {"email": 1, "need": 1}}})
    ctx = await env.ctx("strict", config)
    data = await call(ctx, email="x@empresa.com", name="Ignored By Weights")
    assert data["breakdown"] == {"email": 50.0, "need": 0.0} and data["score"] == 50 and data["qualified"]


def test_signal_strengths() -> None:
    assert signal_strength("budget", "2 millones") == 1.0
    assert signal_strength("budget", "USD 3k") == 1.0
    assert signal_strength("budget", "$500.000") == 1.0
    assert signal_strength("budget", "no sé todavía") < 0.5
    assert signal_strength("timeline", "esta semana") == 1.0
    assert signal_strength("timeline", "asap") == 1.0
    assert signal_strength("timeline", "para marzo") == 0.8
    assert signal_strength("timeline", "más adelante, sin apuro") < 0.5
    assert signal_strength("authority", "soy el dueño") == 1.0
    assert signal_strength("authority", "encargado de compras") == 1.0
    assert signal_strength("authority", "I'm the owner") == 1.0
    assert signal_strength("authority", "purchasing manager") == 1.0
    assert signal_strength("authority", "tengo que consultarlo con mi jefe") < 0.5
    assert signal_strength("name", "") == 0.0


def test_score_lead_is_pure_and_normalized() -> None:
    score, breakdown = score_lead({"need": "taladros"}, {"need": 1, "email": 3})
    assert breakdown == {"need": 15.0, "email": 0.0} and score == 15  # 25 points x 0.6 for a vague need
    full = {f: "x" for f in WEIGHTS} | {
        "budget": "$1.000.000",
        "timeline": "hoy",
        "authority": "dueño",
        "need": "cemento para una obra grande",
    }
    assert score_lead(full, WEIGHTS)[0] == 100
    assert score_lead({}, WEIGHTS) == (0, dict.fromkeys(WEIGHTS, 0.0))
